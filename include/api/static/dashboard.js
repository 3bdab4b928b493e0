// Millwright admin dashboard: lists connections and acts on them through /api/system/*.
"use strict";
const base = location.pathname.replace(/\/dashboard\/?$/, "");
const $ = (sel) => document.querySelector(sel);

function token() { return sessionStorage.getItem("millwright_admin_token") || ""; }

function say(text, isError) {
  const m = $("#message");
  m.textContent = text;
  m.className = isError ? "error" : "";
}

async function api(method, path) {
  // With no admin token, the browser's Airflow login (its _token cookie) is the credential.
  const headers = token() ? { Authorization: "Bearer " + token(), Accept: "application/json" }
    : { Accept: "application/json" };
  const r = await fetch(base + path, { method, headers, credentials: "same-origin" });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.message || ("HTTP " + r.status));
  return body;
}

function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function button(td, label, action, c) {
  const b = document.createElement("button");
  b.textContent = label;
  b.dataset.action = action;
  b.dataset.id = c.key;
  b.addEventListener("click", () => act(action, c));
  td.appendChild(b);
}

const ACTIONS = {
  disconnect: { method: "POST", path: (id) => `/connections/${id}/disconnect`,
    ask: (c) => `Disconnect ${c.key}? Its tokens stop working at once and its syncs stop.` },
  reconnect: { method: "POST", path: (id) => `/connections/${id}/reconnect`,
    ask: (c) => `Reconnect ${c.customer} / ${c.system}? This creates a NEW connection with a new token.` },
  purge: { method: "DELETE", path: (id) => `/connections/${id}/data`,
    ask: (c) => `Delete ALL stored data of ${c.key}? This cannot be undone.` },
  claim: { method: "POST", path: (id) => `/connections/${id}/token/claim`,
    ask: (c) => `Show the token of ${c.key}? It is shown once, here; copy it now.` },
};

async function act(action, c) {
  const a = ACTIONS[action];
  if (!window.confirm(a.ask(c))) { say("Cancelled."); return; }
  try {
    const body = await api(a.method, a.path(c.key));
    let text = `${action} ${c.key}: done.`;
    if (body.data && body.data.access_token) {
      text += ` New connection ${body.data.key}, token (shown once): ${body.data.access_token}`;
    }
    if (action === "claim" && body.data) text = `Token of ${c.key} (shown once): ${body.data.token}`;
    say(text);
    await load(false);
  } catch (e) { say(`${action} ${c.key} failed: ${e.message}`, true); }
}

function configErrors(errors) {
  // A red banner for what the Variable millwright_connections gets wrong (each such DAG fails).
  const box = $("#config-errors");
  const items = errors.connections.map((e) => `${e.dag_id}: ${e.message}`);
  if (errors.variable) items.unshift(`millwright__config_error: ${errors.variable}`);
  box.replaceChildren();
  box.hidden = items.length === 0;
  if (!items.length) return;
  const head = document.createElement("strong");
  head.textContent = `Configuration errors in the Airflow Variable millwright_connections (${items.length}); their DAGs fail until fixed:`;
  const ul = document.createElement("ul");
  for (const text of items) {
    const li = document.createElement("li");
    li.textContent = text;
    ul.appendChild(li);
  }
  box.append(head, ul);
}

async function load(announce) {
  try {
    const [conns, credits] = await Promise.all([
      api("GET", "/connections?per_page=500"), api("GET", "/credits"),
    ]);
    api("GET", "/config-errors").then((b) => configErrors(b.data))
      .catch((e) => configErrors({ variable: `cannot be checked: ${e.message}`, connections: [] }));
    $("#credits").textContent = credits.data.map(
      (p) => `${p.customer}: ${p.used}/${p.pool} credits used, ${p.available} available`).join(" · ");
    const tbody = $("#connections tbody");
    tbody.replaceChildren();
    for (const c of conns.data) {
      const tr = document.createElement("tr");
      tr.dataset.id = c.key;
      const name = cell(tr, c.name);
      const small = document.createElement("small");
      small.textContent = ` ${c.key}` + (c.reason ? ` (${c.reason})` : "");
      name.appendChild(small);
      cell(tr, c.customer); cell(tr, c.system); cell(tr, c.deployment);
      cell(tr, c.status, c.status).dataset.field = "status";
      cell(tr, c.last_sync || "never");
      cell(tr, Object.entries(c.counts).map(([e, n]) => `${e}: ${n}`).join(", ") || "none");
      const q = Object.entries(c.quarantined || {});
      cell(tr, q.map(([e, n]) => `${e}: ${n}`).join(", ") || "none", q.length ? "quarantine" : "")
        .dataset.field = "quarantined";
      const lineage = [];
      if (c.reconnected_from) lineage.push(`reconnected from ${c.reconnected_from}`);
      if (c.reconnected_to) lineage.push(`reconnected to ${c.reconnected_to}`);
      cell(tr, lineage.join("; ")).dataset.field = "lineage";
      cell(tr, c.credits);
      const td = cell(tr, "");
      if (c.status === "active") {
        const a = document.createElement("a");
        a.href = `dashboard/fields?connection=${encodeURIComponent(c.key)}`;
        a.textContent = "Custom fields";
        a.dataset.action = "fields";
        td.appendChild(a);
        td.appendChild(document.createTextNode(" "));
      }
      if (c.token_waiting) button(td, "Show token", "claim", c);
      if (c.status === "active" || c.status === "refused") button(td, "Disconnect", "disconnect", c);
      if (c.status === "disconnected") {
        if (!c.successor) button(td, "Reconnect", "reconnect", c);
        button(td, "Delete data", "purge", c);
      }
      tbody.appendChild(tr);
    }
    $("#connections").hidden = false;
    if (announce) say(`${conns.data.length} connections.`);
  } catch (e) { say(`Cannot load: ${e.message}`, true); }
}

$("#login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem("millwright_admin_token", $("#token").value);
  load(true);
});
load(true);  // works at once inside the Airflow UI (its login); else asks for the admin token
