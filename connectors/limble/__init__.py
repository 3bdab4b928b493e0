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
- Work-order statuses are the customer's (``/statuses``).
- Webhooks (`include.webhooks.spec.LIMBLE`): one ``POST /webhooks {endpoint, type}`` per event
  type (`register_webhooks`), ``DELETE /webhooks/<id>`` to remove; deliveries are signed with the
  account's oldest API key (no per-subscription secret). Events are re-read by id through the
  manifest's ``by_id`` (``/tasks?tasks=1,2``...: the kit's `read_records`).
"""

from __future__ import annotations

from typing import Any

from connectors.base import SourceError, WebhookRegistration, Window
from connectors.kit import ManifestConnector, Paginator, Request, manifest_connector
from connectors.kit.manifest import PluginPaginator
from include.webhooks.spec import LIMBLE

WINDOW_PARAMS = {"purchase-orders": ("lastEditedStart", "lastEditedEnd")}


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

    def work_orders(self, entity: str, rows: list[dict]) -> list[dict]:
        return [r for r in rows if not r.get("template")]

    def templates(self, entity: str, rows: list[dict]) -> list[dict]:
        return [r for r in rows if r.get("template")]

    def attach_items(self, entity: str, rows: list[dict]) -> list[dict]:
        if not rows:
            return rows
        by_po: dict[Any, list[dict]] = {r["poID"]: [] for r in rows}
        cfg = PluginPaginator(kind="plugin", plugin="connectors.limble:AfterLastId",
                              size_param="limit", max_size=1000, options={"id": "poItemID"})  # fmt: skip
        req = Request("/po/items", {"pos": ",".join(str(p) for p in by_po)})
        for page in self.pages(entity, req, 1000, paginator=cfg):
            for item in page:
                by_po.setdefault(item.get("poID"), []).append(item)
        for r in rows:
            r["items"] = by_po[r["poID"]]
        return rows

    def statuses(self, entity: str) -> list[dict[str, Any]] | None:
        if entity != "work-orders":
            return None
        cfg = PluginPaginator(kind="plugin", plugin="connectors.limble:AfterLastId",
                              size_param="limit", max_size=1000, options={"id": "statusID"})  # fmt: skip
        out = []
        for page in self.pages(entity, Request("/statuses"), 1000, paginator=cfg):
            out += [{"key": str(s["statusID"]), "name": s.get("name"), "code": str(s["statusID"]),
                     "isActive": True} for s in page]  # fmt: skip
        return out or None

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
