// Custom fields page: discovery (GET .../fields), preview (POST .../preview), save (PATCH).
"use strict";
const root = location.pathname.replace(/\/api\/system\/dashboard\/fields\/?$/, "");
const $ = (sel) => document.querySelector(sel);
const cid = new URLSearchParams(location.search).get("connection") || "";
let connection = null;

function token() { return sessionStorage.getItem("millwright_admin_token") || ""; }
function say(text, isError) { const m = $("#message"); m.textContent = text; m.className = isError ? "error" : ""; }

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (token()) headers.Authorization = "Bearer " + token();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(root + path, { method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.message || ("HTTP " + r.status));
  return data;
}

function td(tr, text, cls) {
  const c = document.createElement("td");
  c.textContent = text == null ? "" : String(text);
  if (cls) c.className = cls;
  tr.appendChild(c);
  return c;
}

function camel(path) {
  const words = path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return words.map((w, i) => i ? w[0].toUpperCase() + w.slice(1) : w.toLowerCase()).join("").slice(0, 100);
}

function configured(entity) {
  return ((connection && connection.config.custom_fields) || {})[entity] || {};
}

async function start() {
  $("#cid").textContent = cid;
  try {
    connection = (await api("GET", `/api/system/connections/${encodeURIComponent(cid)}`)).data;
    const platforms = connection.config.entities;
    const sel = $("#entity");
    sel.replaceChildren();
    const entities = platforms && platforms.length ? platforms : Object.keys(connection.counts || {});
    for (const e of entities.length ? entities : ["work-orders"]) {
      const o = document.createElement("option"); o.value = o.textContent = e; sel.appendChild(o);
    }
    say(`${connection.system} connection of ${connection.customer}: pick an entity.`);
  } catch (e) { say(`Cannot load ${cid}: ${e.message}`, true); }
}

async function discover() {
  const entity = $("#entity").value;
  say(`Reading what the source offers for ${entity}...`);
  try {
    const data = (await api("GET", `/api/system/connections/${encodeURIComponent(cid)}/fields?entity=${encodeURIComponent(entity)}`)).data;
    const chosen = Object.fromEntries(Object.entries(configured(entity)).map(([n, p]) => [p, n]));
    const tbody = $("#fields tbody");
    tbody.replaceChildren();
    for (const f of data.fields) {
      const tr = document.createElement("tr");
      tr.dataset.path = f.name;
      const box = td(tr, "");
      if (!f.object) {
        const cb = document.createElement("input");
        cb.type = "checkbox"; cb.checked = f.name in chosen; cb.dataset.path = f.name;
        box.appendChild(cb);
      }
      td(tr, f.name + (f.many ? " [list]" : ""), f.object ? "object" : "");
      td(tr, f.type); td(tr, f.label);
      td(tr, f.mapped_to.join(", "), "mapped");
      const nameCell = td(tr, "");
      if (!f.object) {
        const inp = document.createElement("input");
        inp.value = chosen[f.name] || camel(f.name); inp.size = 18; inp.dataset.name = f.name;
        nameCell.appendChild(inp);
      }
      tbody.appendChild(tr);
    }
    $("#fields-section").hidden = false;
    say(`${data.fields.length} fields of ${data.system} ${entity}.`);
  } catch (e) { say(`Discovery failed: ${e.message}`, true); }
}

function picked() {
  const out = {};
  for (const cb of document.querySelectorAll("#fields input[type=checkbox]:checked")) {
    const name = document.querySelector(`#fields input[data-name="${CSS.escape(cb.dataset.path)}"]`).value.trim();
    out[name] = cb.dataset.path;
  }
  return out;
}

async function preview() {
  const entity = $("#entity").value;
  const fields = picked();
  say("Previewing...");
  try {
    const data = (await api("POST", `/api/system/connections/${encodeURIComponent(cid)}/preview`,
      { entity, custom_fields: fields, limit: Number($("#limit").value) || 20 })).data;
    $("#rates").textContent = Object.entries(data.fill_rates).map(
      ([n, r]) => `${n}: ${r.filled}/${r.of} filled`).join(" · ") || "no custom fields";
    const names = Object.keys(fields);
    const head = document.createElement("tr");
    for (const h of ["key", ...names]) { const th = document.createElement("th"); th.textContent = h; head.appendChild(th); }
    $("#records thead").replaceChildren(head);
    const tbody = $("#records tbody");
    tbody.replaceChildren();
    for (const rec of data.data) {
      const tr = document.createElement("tr");
      td(tr, rec.key);
      for (const n of names) { const v = (rec.customFields || {})[n]; td(tr, v == null ? "" : JSON.stringify(v)); }
      tbody.appendChild(tr);
    }
    $("#preview-section").hidden = false;
    say(`${data.data.length} records previewed` + (data.failed.length ? `, ${data.failed.length} failed mapping` : "") + ". Nothing was saved.");
  } catch (e) { say(`Preview failed: ${e.message}`, true); }
}

async function save() {
  const entity = $("#entity").value;
  const all = { ...((connection.config.custom_fields) || {}) };
  all[entity] = picked();
  if (!Object.keys(all[entity]).length) delete all[entity];
  say("Saving...");
  try {
    connection = (await api("PATCH", `/api/system/connections/${encodeURIComponent(cid)}`, { custom_fields: all })).data;
    say(`Saved. The next run of ${entity} reads it in full, so every stored record gets the fields.`);
  } catch (e) { say(`Not saved: ${e.message}`, true); }
}

$("#login").addEventListener("submit", (ev) => {
  ev.preventDefault(); sessionStorage.setItem("millwright_admin_token", $("#token").value); start();
});
$("#pick").addEventListener("submit", (ev) => { ev.preventDefault(); discover(); });
$("#filter").addEventListener("input", () => {
  const q = $("#filter").value.toLowerCase();
  for (const tr of document.querySelectorAll("#fields tbody tr")) tr.hidden = q && !tr.dataset.path.toLowerCase().includes(q);
});
$("#preview").addEventListener("click", preview);
$("#save").addEventListener("click", save);
start();
