"""MaintainX REST client: bearer auth, cursor paging, ``updatedAt`` windows, rate-limit headers.

Endpoints are data (`ENDPOINTS`). Paging: ``cursor`` + ``limit`` (<= 200) -> ``{"<key>": [...],
"nextCursor": ...}``. Incremental endpoints are read with ``sort=updatedAt`` and
``updatedAt[gte]=start`` / ``updatedAt[lte]=end``; MaintainX's ``lte`` is inclusive, so records with
``updatedAt == end`` are dropped here to make the window half-open ``[start, end)`` like every
`Window` (they are read by the next window, whose ``gte`` includes them). Locations, vendors, users,
teams, maintenance plans and meters have no ``updatedAt`` filter: every read is a full snapshot.

Rate limits: every response carries ``X-Rate-Limit-Limit/-Remaining/-Reset``; when Remaining reaches 0
the next call waits ``Reset`` seconds, and a 429 is retried after the reset (`connectors.http`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from connectors.base import (
    Connector,
    EntitySpec,
    SourceError,
    SourceSettings,
    WebhookRegistration,
    Window,
)
from connectors.http import HttpClient, RetryPolicy
from connectors.maintainx import mapping as m
from include.model.timeutil import parse_datetime
from include.webhooks.spec import EventRule, WebhookSpec

SYSTEM = "maintainx"
MAX_LIMIT = 200
DETAIL_THREADS = 8  # concurrent GET <path>/<id> when re-reading records by id

Records = list[dict[str, Any]]


@dataclass(frozen=True)
class Endpoint:
    """How one unified entity is read from MaintainX (pure data)."""

    path: str  # under /v1
    key: str  # collection key of the list response
    windows: bool  # accepts updatedAt[gte]/[lte] + sort=updatedAt
    expand: tuple[str, ...] = ()
    detail: str | None = None  # fetch GET <path>/<id> per record; value = response key
    members: bool = False  # teams: add "members" from /teams/<id>/members
    flatten: Callable[[Records], Records] | None = None  # derive child rows (stocks, readings)


# the object key of GET <path>/<id>
SINGULAR = {
    "/workorders": "workOrder", "/assets": "asset", "/locations": "location", "/parts": "part",
    "/purchaseorders": "purchaseOrder", "/vendors": "vendor", "/users": "user", "/teams": "team",
    "/maintenanceplans": "maintenancePlan", "/meters": "meter",
}  # fmt: skip


def _stock_rows(parts: Records) -> Records:
    rows = []
    for p in parts:
        for loc in p.get("locations") or ():
            rows.append({**loc, "partId": p["id"], "updatedAt": p.get("updatedAt")})
    return rows


def _reading_rows(meters: Records) -> Records:
    rows = []
    for meter in meters:
        r = meter.get("lastReading")
        if r:
            rows.append({**r, "assetId": (meter.get("asset") or {}).get("id")})
    return rows


ENDPOINTS: dict[str, Endpoint] = {
    "work-orders": Endpoint(
        "/workorders", "workOrders", True, ("assignees", "categories", "asset")
    ),
    "assets": Endpoint(
        "/assets", "assets", True, ("team_ids", "vendor_ids", "status", "manufacturer", "model")
    ),  # fmt: skip
    "locations": Endpoint("/locations", "locations", False, ("team_ids",)),
    "materials": Endpoint("/parts", "parts", True, ("vendors",)),
    "stocks": Endpoint("/parts", "parts", True, flatten=_stock_rows),
    "purchase-orders": Endpoint("/purchaseorders", "purchaseOrders", True, detail="purchaseOrder"),
    "vendors": Endpoint("/vendors", "vendors", False),
    "users": Endpoint("/users", "users", False, ("role",)),
    "teams": Endpoint("/teams", "teams", False, members=True),
    "pm": Endpoint("/maintenanceplans", "maintenancePlans", False),
    "meters": Endpoint("/meters", "meters", False, ("asset", "last_reading")),
    "meter-readings": Endpoint(
        "/meters", "meters", False, ("asset", "last_reading"), flatten=_reading_rows
    ),  # fmt: skip
}

WO_STATUSES = ("OPEN", "IN_PROGRESS", "ON_HOLD", "DONE", "CANCELED", "SKIPPED")
PO_STATUSES = ("REQUESTED", "PENDING", "APPROVED", "DECLINED", "PARTIALLY_FULFILLED", "COMPLETED", "CANCELED")  # fmt: skip


def format_ms(dt: datetime) -> str:
    """UTC ISO 8601 with milliseconds, truncated (records carry ms resolution)."""
    dt = dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


class RateLimitedClient(HttpClient):
    """`HttpClient` that honours ``X-Rate-Limit-Remaining``/``-Reset``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session.hooks["response"].append(self._observe)
        self._resume_at = 0.0
        self.rate_limit_waits = 0
        self.rate_limit_waited = 0.0

    def _observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        remaining = response.headers.get("X-Rate-Limit-Remaining")
        reset = response.headers.get("X-Rate-Limit-Reset")
        try:
            if remaining is not None and reset is not None and int(remaining) <= 0:
                self._resume_at = time.monotonic() + max(0.0, float(reset))
        except ValueError:
            pass  # malformed headers: fall back to 429 handling

    def _pending(self) -> float:
        return max(0.0, self._resume_at - time.monotonic())

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        return max(super()._delay(attempt, response), self._pending())

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        wait = self._pending()
        if wait > 0:
            self.rate_limit_waits += 1
            self.rate_limit_waited += wait
            self._sleep(wait)
        return super().request(method, path, **kwargs)


def _error_detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return "; ".join(str(e.get("error")) for e in errors)[:300]
        if "error" in body:
            return str(body["error"])[:300]
    return response.text[:300]


class MaintainXConnector(Connector):
    """Reads MaintainX's REST API (v1). Credentials: ``{"api_key": ...}``; options:
    ``organization_id`` (for multi-organization keys)."""

    system = SYSTEM
    entities = {
        "work-orders": EntitySpec(
            "work-orders", m.WORK_ORDER, changed_when=m.CHANGED_WHEN["work-orders"]
        ),
        "assets": EntitySpec("assets", m.ASSET),
        "locations": EntitySpec("locations", m.LOCATION, incremental=False),
        "materials": EntitySpec("materials", m.MATERIAL),
        "stocks": EntitySpec("stocks", m.STOCK, changed_when=m.CHANGED_WHEN["stocks"]),
        "purchase-orders": EntitySpec(
            "purchase-orders", m.PURCHASE_ORDER, changed_when=m.CHANGED_WHEN["purchase-orders"]
        ),
        "vendors": EntitySpec("vendors", m.VENDOR, incremental=False),
        "users": EntitySpec("users", m.USER, incremental=False),
        "teams": EntitySpec("teams", m.TEAM, incremental=False),
        "pm": EntitySpec("pm", m.PM, incremental=False),
        "meters": EntitySpec("meters", m.METER, incremental=False),
        "meter-readings": EntitySpec("meter-readings", m.METER_READING, incremental=False),
    }
    webhooks = WebhookSpec(
        scheme="maintainx",
        # deliveries carry no event type: the top-level id field names the record
        rules=(
            EventRule("workOrderId", ("work-orders",)),
            EventRule("partId", ("materials", "stocks")),
            EventRule("purchaseOrderId", ("purchase-orders",)),
            EventRule("assetId", ("assets",)),
            EventRule("locationId", ("locations",)),
            EventRule("vendorId", ("vendors",)),
        ),
        subscribe=True,
        event_types=(
            "NEW_WORK_ORDER", "WORK_ORDER_CHANGE", "WORK_ORDER_STATUS_CHANGE", "WORK_ORDER_DELETE",
            "NEW_PART", "PART_CHANGE", "PART_DELETE", "NEW_PURCHASE_ORDER",
            "PURCHASE_ORDER_CHANGE", "PURCHASE_ORDER_STATUS_CHANGE", "NEW_ASSET",
            "NEW_LOCATION", "NEW_VENDOR",
        ),
    )  # fmt: skip

    def __init__(self, settings: SourceSettings, sleep: Callable[[float], None] = time.sleep):
        super().__init__(settings)
        key = settings.credentials.get("api_key")
        if not key:
            raise ValueError("maintainx: credentials must contain a non-empty 'api_key'")
        headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        org = settings.options.get("organization_id")
        if org not in (None, ""):
            if not str(org).strip().isdigit():
                raise ValueError(
                    f"maintainx: option organization_id must be an integer, got {org!r}"
                )
            headers["x-organization-id"] = str(org).strip()
        base = settings.host.rstrip("/")
        if not base.endswith("/v1"):
            base += "/v1"
        self.page_size = max(1, min(MAX_LIMIT, settings.page_size))
        self.http = RateLimitedClient(
            SYSTEM, base, headers, settings.timeout,
            RetryPolicy(max_retries=settings.max_retries), _error_detail, sleep,
        )  # fmt: skip

    def check(self) -> None:
        """One cheap authenticated call: the first user (``GET /users?limit=1``)."""
        ep = ENDPOINTS["users"]
        body = self.http.get_json(ep.path, params={"limit": 1})
        if not isinstance(body, dict) or not isinstance(body.get(ep.key), list):
            raise SourceError(SYSTEM, f"GET {ep.path}", 200, f"response has no {ep.key!r} list")

    def _endpoint(self, entity: str) -> Endpoint:
        try:
            return ENDPOINTS[entity]
        except KeyError:
            raise ValueError(
                f"maintainx: unsupported entity {entity!r}; supported: {', '.join(ENDPOINTS)}"
            ) from None

    def _pages(self, path: str, key: str, params: dict[str, Any]) -> Iterator[Records]:
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            q = dict(params, cursor=cursor) if cursor else params
            body = self.http.get_json(path, params=q)
            if not isinstance(body, dict) or not isinstance(body.get(key), list):
                raise SourceError(SYSTEM, f"GET {path}", 200, f"response has no {key!r} list")
            yield body[key]
            cursor = body.get("nextCursor")
            if not cursor:
                return
            if cursor in seen:
                raise SourceError(SYSTEM, f"GET {path}", 200, "the same nextCursor came back twice")
            seen.add(cursor)

    def read(self, entity: str, window: Window) -> Iterator[Records]:
        """Pages of raw records changed in ``[window.start, window.end)`` (all for snapshots),
        ordered by updatedAt then id where MaintainX allows it."""
        yield from self._read(entity, window, full_detail=True)

    def read_keys(self, entity: str) -> Iterator[Records]:
        """Every existing record with its key fields (no expansions, no per-record details)."""
        yield from self._read(entity, Window(), full_detail=False)

    def _read(self, entity: str, window: Window, full_detail: bool) -> Iterator[Records]:
        ep = self._endpoint(entity)
        params: dict[str, Any] = {"limit": self.page_size}
        if full_detail and ep.expand:
            params["expand"] = list(ep.expand)
        start = end = None
        if ep.windows:
            params["sort"] = "updatedAt"
            if not window.is_full:
                start = window.start
                params["updatedAt[gte]"] = format_ms(start)
            if window.end is not None:
                end = window.end
                params["updatedAt[lte]"] = format_ms(end)
        seen: set[Any] = set()
        for page in self._pages(ep.path, ep.key, params):
            rows = []
            for rec in page:
                if start is not None or end is not None:
                    ts = parse_datetime(rec.get("updatedAt"))
                    if ts is None or (start and ts < start) or (end and ts >= end):
                        continue  # [start, end): updatedAt == end belongs to the next window
                if rec.get("id") in seen:
                    continue  # moved to a later page by a concurrent update
                seen.add(rec.get("id"))
                rows.append(rec)
            if full_detail and ep.detail:
                rows = [self._detail(ep, rec["id"]) for rec in rows]
            if full_detail and ep.members:
                for rec in rows:
                    rec["members"] = self._members(rec["id"])
            if ep.flatten:
                rows = ep.flatten(rows)
            if rows:
                yield rows

    def register_webhooks(self, url: str) -> WebhookRegistration:
        """One subscription per event type (``POST /subscriptions`` {type, url}); each returns
        its own secret. A failure removes the subscriptions made so far and raises."""
        made: list[tuple[str, str]] = []
        try:
            for kind in self.webhooks.event_types:
                body = self.http.request(
                    "POST", "/subscriptions", decode=True, json={"type": kind, "url": url}
                ).decoded  # type: ignore[attr-defined]
                if not isinstance(body, dict) or "id" not in body or not body.get("secret"):
                    raise SourceError(SYSTEM, "POST /subscriptions", 200, "no id or secret")
                made.append((str(body["id"]), str(body["secret"])))
        except Exception:
            self.remove_webhooks(tuple(i for i, _ in made))
            raise
        return WebhookRegistration(tuple(i for i, _ in made), tuple(s for _, s in made))

    def remove_webhooks(self, ids: tuple[str, ...]) -> None:
        for sid in ids:
            try:
                self.http.request("DELETE", f"/subscriptions/{sid}")
            except SourceError as exc:
                if exc.status != 404:
                    raise

    def derived_entity(self, entity: str) -> bool:
        """Whether ``entity``'s rows are derived from another record (stocks from parts)."""
        return self._endpoint(entity).flatten is not None

    def read_records(self, entity: str, remote_ids: list[str]) -> Iterator[Records]:
        """The current records with these ids (``GET <path>/<id>``: every expansion), one page
        per ``page_size`` ids, up to `DETAIL_THREADS` requests at once; an id that answers 404
        is gone (deleted) and left out."""
        ep = self._endpoint(entity)
        for rid in remote_ids:
            if not str(rid).isdigit():
                raise ValueError(f"maintainx: {entity} ids are integers, got {rid!r}")

        def one(rid: str) -> dict[str, Any] | None:
            try:
                rec = self._detail(ep, rid, SINGULAR[ep.path])
            except SourceError as exc:
                if exc.status == 404:
                    return None
                raise
            if ep.members:
                rec["members"] = self._members(rec["id"])
            return rec

        with ThreadPoolExecutor(DETAIL_THREADS, thread_name_prefix="maintainx-detail") as pool:
            for start in range(0, len(remote_ids), self.page_size):
                chunk = remote_ids[start : start + self.page_size]
                rows = [r for r in pool.map(one, chunk) if r is not None]
                if ep.flatten:
                    rows = ep.flatten(rows)
                if rows:
                    yield rows

    def _detail(self, ep: Endpoint, rid: Any, key: str | None = None) -> dict[str, Any]:
        path = f"{ep.path}/{rid}"
        body = self.http.get_json(path)
        key = key or ep.detail
        rec = body.get(key) if isinstance(body, dict) else None
        if not isinstance(rec, dict):
            raise SourceError(SYSTEM, f"GET {ep.path}/{{id}}", 200, f"no {key!r} object")
        if key == "purchaseOrder":
            for item in rec.get("items") or ():
                item["purchaseOrderId"] = rec["id"]
                item["vendorId"] = rec.get("vendorId")
        return rec

    def _members(self, team_id: Any) -> Records:
        out: Records = []
        for page in self._pages(f"/teams/{team_id}/members", "members", {"limit": MAX_LIMIT}):
            out.extend(page)
        return out

    def statuses(self, entity: str) -> list[dict[str, Any]] | None:
        values = {"work-orders": WO_STATUSES, "purchase-orders": PO_STATUSES}.get(entity)
        if values is None:
            return None
        return [{"key": v, "name": v.replace("_", " ").title(), "code": v} for v in values]

    def close(self) -> None:
        self.http.close()
