"""Limble CMMS (REST API v2): manifest.yaml + mapping.py; the Python the manifest cannot say.

- `AfterLastId`: keyset paging, ``cursor`` = the last record's id (Limble returns ids greater
  than the cursor). Page numbers over a result set that changes while it is read skip records;
  a cursor on the id does not.
- Windows: Limble's ``start`` means "edited AFTER" (exclusive), so the start bound goes one second
  earlier (a record edited exactly at the window start is read; the upsert makes the extra second
  harmless). Purchase orders and their items take ``lastEditedStart`` / ``lastEditedEnd``.
- Tasks are one endpoint for two entities: templates (``template: true``) are PMs, the rest work
  orders (`work_orders`, `templates`).
- A purchase order's items come from ``/po/items?pos=<ids of the page>`` (one call per page, keyset
  paged), attached as ``items`` (`attach_items`).
- PO item edits (`read`): an item has its own ``lastEdited`` and editing it need not move its PO's,
  so an incremental read of purchase orders also lists the items edited in the window
  (``/po/items?lastEditedStart=..&lastEditedEnd=..``) and reads the POs they belong to that the
  window did not already yield (``/po?pos=<ids>``); the mapping's ``updatedAt`` and version are the
  latest of the PO's and its items' times (``CHANGED_WHEN``: ``related``).
- Work-order statuses: the completion values records carry (Incomplete, Complete) and the
  customer's own (``/statuses``, what ``statusKey`` names).
- Custom fields: `describe` = the OpenAPI's standard fields (`connectors.limble.fields`) plus, for
  assets, parts and vendors, ``fields`` holding the customer's own fields (``GET /v2/<kind>/fields/
  suggested``). A read whose custom fields name ``fields.<name>`` attaches the page's values
  (``GET /v2/<kind>/fields?<kind>=<ids of the page>``, one keyset-paged call per page) as
  ``fields: {name: value}`` (`attach_fields`); other reads make no extra call.
- Webhooks (`include.webhooks.spec.LIMBLE`): one ``POST /webhooks {endpoint, type}`` per event
  type (`register_webhooks`), ``DELETE /webhooks/<id>`` to remove; deliveries are signed with the
  account's oldest API key (no per-subscription secret). Events are re-read by id through the
  manifest's ``by_id`` (``/tasks?tasks=1,2``...: the kit's `read_records`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.base import SourceError, SourceField, WebhookRegistration, Window
from connectors.kit import ManifestConnector, Paginator, Request, manifest_connector
from connectors.kit.manifest import PluginPaginator
from connectors.limble.fields import STANDARD
from include.webhooks.spec import LIMBLE

WINDOW_PARAMS = {"purchase-orders": ("lastEditedStart", "lastEditedEnd")}
# entity -> (the API's collection with custom fields, the record's id field, the value's name key)
FIELD_KINDS = {
    "assets": ("assets", "assetID", "field"), "materials": ("parts", "partID", "fieldName"),
    "stocks": ("parts", "partID", "fieldName"), "vendors": ("vendors", "vendorID", "fieldName"),
}  # fmt: skip


def _standard(f: tuple) -> SourceField:
    if len(f) == 2:
        return SourceField(f[0], f[1])
    name, typ, children, many = f
    return SourceField(name, typ, children=tuple(_standard(c) for c in children), many=many)


def _keyset(id_field: str) -> PluginPaginator:
    return PluginPaginator(kind="plugin", plugin="connectors.limble:AfterLastId",
                           size_param="limit", max_size=1000, options={"id": id_field})  # fmt: skip


class AfterLastId(Paginator):
    """``cursor`` = the id (``options.id``) of the last record of a full page."""

    def next(self, request: Request, body: Any, records: list) -> Request | None:
        if len(records) < self.size:
            return None
        return request.with_params(cursor=records[-1][self.config.options["id"]])


class LimbleBase(ManifestConnector):
    def build_request(self, entity: str, window: Window, keys_only: bool = False) -> Request:
        req = super().build_request(entity, window, keys_only)
        params = dict(req.params)
        if "start" in params:
            params["start"] = str(int(params["start"]) - 1)  # "after" is exclusive
        names = WINDOW_PARAMS.get(entity)
        if names:
            for old, new in zip(("start", "end"), names, strict=True):
                if old in params:
                    params[new] = params.pop(old)
        return Request(req.url, params, req.method, req.json, req.headers)

    def read(self, entity: str, window: Window) -> Iterator[list[dict]]:
        """The kit's read; for purchase orders in a window, then the POs whose items changed in
        it (and not their PO) too."""
        if entity != "purchase-orders" or window.is_full:
            yield from super().read(entity, window)
            return
        seen: set[Any] = set()
        for page in super().read(entity, window):
            seen.update(r["poID"] for r in page)
            yield page
        params = self.build_request(entity, window).params
        bounds = {k: params[k] for k in ("lastEditedStart", "lastEditedEnd") if k in params}
        changed: dict[Any, None] = {}
        for page in self.pages(entity, Request("/po/items", bounds), 1000,
                               paginator=_keyset("poItemID")):  # fmt: skip
            changed.update((i["poID"], None) for i in page if i.get("poID") not in seen)
        ids = list(changed)
        for at in range(0, len(ids), self.max_page_size):
            chunk = ids[at : at + self.max_page_size]
            req = Request("/po", {"pos": ",".join(str(i) for i in chunk)})
            for page in self.pages(entity, req, len(chunk), paginator=_keyset("poID")):
                rows = self.attach_items(entity, page)
                if rows:
                    yield rows

    def work_orders(self, entity: str, rows: list[dict]) -> list[dict]:
        return [r for r in rows if not r.get("template")]

    def templates(self, entity: str, rows: list[dict]) -> list[dict]:
        return [r for r in rows if r.get("template")]

    def downtimes(self, entity: str, rows: list[dict]) -> list[dict]:
        """Work orders (not templates) on an asset that recorded downtime (seconds)."""
        return [r for r in rows if not r.get("template") and r.get("assetID")
                and (r.get("downtime") or 0) > 0]  # fmt: skip

    def _template_ids(self, entity: str, task_ids: set[Any]) -> set[Any]:
        """Which of ``task_ids`` are templates (``/tasks?tasks=..``; a part row names its task
        only by id)."""
        out: set[Any] = set()
        ids = sorted(task_ids)
        for at in range(0, len(ids), 500):
            req = Request("/tasks", {"tasks": ",".join(str(i) for i in ids[at : at + 500])})
            for page in self.pages(entity, req, 1000, paginator=_keyset("taskID")):
                out.update(t["taskID"] for t in page if t.get("template"))
        return out

    def work_order_parts(self, entity: str, rows: list[dict]) -> list[dict]:
        """``/tasks/parts`` rows of tasks that are not templates."""
        tpl = self._template_ids(entity, {r["taskID"] for r in rows}) if rows else set()
        return [r for r in rows if r["taskID"] not in tpl]

    def template_parts(self, entity: str, rows: list[dict]) -> list[dict]:
        """``/tasks/parts`` rows of template tasks (the PMs)."""
        tpl = self._template_ids(entity, {r["taskID"] for r in rows}) if rows else set()
        return [r for r in rows if r["taskID"] in tpl]

    def readings(self, entity: str, rows: list[dict]) -> list[dict]:
        """Each meter's (a Number asset field's) value history: ``/assets/fields/history
        ?assets=<its asset>&fields=<its field>`` (a history row names neither the asset nor the
        value it belongs to), as rows with ``assetID`` and ``meterValueID`` added."""
        out: list[dict] = []
        for m in rows:
            req = Request("/assets/fields/history",
                          {"assets": str(m["assetID"]), "fields": str(m["fieldID"])})  # fmt: skip
            for page in self.pages(entity, req, 1000, paginator=_keyset("valueID")):
                out += [{**h, "assetID": m["assetID"], "meterValueID": m["valueID"]} for h in page]
        return out

    def files(self, entity: str, rows: list[dict]) -> list[dict]:
        """One row per file of a Documents or Pictures asset field (its ``files``)."""
        return [{**{k: v for k, v in r.items() if k != "files"}, **f}
                for r in rows for f in r.get("files") or []]  # fmt: skip

    def attach_items(self, entity: str, rows: list[dict]) -> list[dict]:
        if not rows:
            return rows
        by_po: dict[Any, list[dict]] = {r["poID"]: [] for r in rows}
        req = Request("/po/items", {"pos": ",".join(str(p) for p in by_po)})
        for page in self.pages(entity, req, 1000, paginator=_keyset("poItemID")):
            for item in page:
                by_po.setdefault(item.get("poID"), []).append(item)
        for r in rows:
            r["items"] = by_po[r["poID"]]
        return rows

    def statuses(self, entity: str) -> list[dict[str, Any]] | None:
        """Work orders: first the two values a record's ``status`` holds (the task's completion
        flag, what ``statusCategory`` derives from), then the customer's own statuses (what a
        record's ``statusKey`` names; key and code = ``statusID``: no category of their own,
        Limble's completion is the flag)."""
        if entity != "work-orders":
            return None
        out = [{"key": name, "name": name, "code": name, "isActive": True}
               for name in ("Incomplete", "Complete")]  # fmt: skip
        for page in self.pages(entity, Request("/statuses"), 1000, paginator=_keyset("statusID")):
            out += [{"key": str(s["statusID"]), "name": s.get("name"), "code": str(s["statusID"]),
                     "isActive": True} for s in page]  # fmt: skip
        return out or None

    # --- custom fields -------------------------------------------------------------------------
    def describe(self, entity: str) -> list[SourceField]:
        """The entity's standard fields (Limble's OpenAPI; a PO's ``items`` as the line items)
        and, for assets, parts and vendors, ``fields``: the customer's own fields by name."""
        if entity not in STANDARD:
            self.manifest.entity(entity)  # names the supported entities
        out = [_standard(f) for f in STANDARD[entity]]
        if entity == "purchase-orders":
            items = tuple(_standard(f) for f in STANDARD["purchase-orders.line-items"])
            out.append(SourceField("items", "array", "Items", items, many=True))
        kind = FIELD_KINDS.get(entity)
        if kind:
            path = f"/{kind[0]}/fields/suggested"
            custom = {}
            for page in self.pages(entity, Request(path), 1000, paginator=_keyset("fieldID")):
                for d in page:
                    if isinstance(d, dict) and d.get("fieldName"):
                        name = str(d["fieldName"])
                        custom[name] = SourceField(name, str(d.get("fieldType") or ""), name,
                                                   custom=True)  # fmt: skip
            out.append(SourceField("fields", "object", "Custom fields", tuple(custom.values())))
        return out

    def attach_fields(self, entity: str, rows: list[dict]) -> list[dict]:
        """``fields: {name: value}`` on each record, when the connection's custom fields name
        ``fields.<name>`` (only those names are kept); else nothing is asked for."""
        wanted = {p.split(".", 1)[1] for p in self.requested(entity) if p.startswith("fields.")}
        if not rows or not wanted:
            return rows
        coll, id_field, name_key = FIELD_KINDS[entity]
        by_id: dict[Any, dict[str, Any]] = {r[id_field]: {} for r in rows}
        req = Request(f"/{coll}/fields", {coll: ",".join(str(i) for i in by_id)})
        for page in self.pages(entity, req, 1000, paginator=_keyset("valueID")):
            for v in page:
                name = v.get(name_key)
                if name in wanted and v.get(id_field) in by_id:
                    by_id[v[id_field]][name] = v.get("value")
        for r in rows:
            r["fields"] = by_id[r[id_field]]
        return rows

    webhooks = LIMBLE

    def register_webhooks(self, url: str) -> WebhookRegistration:
        """``POST /webhooks {endpoint, type, enabled: 1}`` per type of ``webhooks.event_types``
        (201 ``{webhookID}``). No secrets: Limble signs with the oldest API key. A failure
        removes the webhooks made so far and raises."""
        made: list[str] = []
        try:
            for kind in self.webhooks.event_types:
                body = self.send(Request("/webhooks", method="POST",
                                         json={"endpoint": url, "type": kind, "enabled": 1})
                                 ).decoded  # type: ignore[attr-defined]  # fmt: skip
                if not isinstance(body, dict) or not body.get("webhookID"):
                    raise SourceError(self.system, "POST /webhooks", 200, "no webhookID")
                made.append(str(body["webhookID"]))
        except Exception:
            self.remove_webhooks(tuple(made))
            raise
        return WebhookRegistration(tuple(made), ())

    def remove_webhooks(self, ids: tuple[str, ...]) -> None:
        for wid in ids:
            if not str(wid).isdigit():
                raise ValueError(f"limble: webhook ids are integers, got {wid!r}")
            try:
                self.http.request("DELETE", f"/webhooks/{wid}")
            except SourceError as exc:
                if exc.status != 404:  # already gone
                    raise


# named as the class calls itself, so that map worker processes can unpickle it
LimbleConnector = CONNECTOR = manifest_connector(__name__, LimbleBase)

__all__ = ["CONNECTOR", "AfterLastId", "LimbleConnector"]
