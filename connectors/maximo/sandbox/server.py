"""The sandbox HTTP server: Maximo's JSON API (``/maximo/api/os/<OS>``, ``/maximo/oslc/os/<OS>``).

Where a client can tell, it behaves like Maximo Manage: ``apikey`` header or query parameter (401 with
Maximo's error JSON otherwise); ``lean=1`` plain JSON, otherwise ``spi:``/``rdf:``/``oslc:`` names;
``oslc.select`` (without it members carry only ``href``, as in Maximo), ``oslc.where``,
``oslc.orderBy`` (each attribute needs ``+``/``-``; an unencoded ``+`` arrives as a space and is a 400),
``oslc.pageSize`` (above the maximum: 400, not a cap; absent: auto-paging at min(1000, maximum)), ``pageno``,
``collectioncount=1``, ``count=1``, ``stablepaging=1`` (a frozen result set walked forward with
``stableId``; the current page may be fetched again, for retries), ``_dropnulls=0``. Error bodies are
``{"Error":{"reasonCode","message","statusCode"}}``; the BMXAA codes are representative.
"""

from __future__ import annotations

import base64
import dataclasses
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import lru_cache
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import orjson

from connectors.kit.sandbox.control import PREFIX, Control
from connectors.kit.sandbox.faults import Faults
from connectors.maximo.sandbox.data import DATE_ATTRS, DOMAINS, World
from connectors.maximo.sandbox.datafile import child_collections
from connectors.maximo.sandbox.oslc import (
    QueryError,
    Select,
    compile_where,
    parse_instant,
    parse_order,
    parse_select,
    parse_where,
    time_bounds,
)
from connectors.maximo.sandbox.store import Record, Scan, Table

AUTO_PAGE = 1000
_EPOCH = datetime(1970, 1, 1)
_CLOCK = [f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}" for s in range(86400)]


@lru_cache(maxsize=8192)
def _day(day: int) -> str:
    return (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%dT")


STABLE_IDLE = 300.0


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> bytes:
        return orjson.dumps(
            {
                "Error": {
                    "reasonCode": self.code,
                    "message": f"{self.code} - {self.message}",
                    "statusCode": str(self.status),
                }
            }  # fmt: skip
        )


class Sandbox:
    """State shared by the handler threads."""

    def __init__(self, world: World, *, apikey: str = "maximo-demo-key",
                 timezone: str = "America/New_York", naive_times: bool = False,
                 max_page_size: int = 1000, faults: Faults | None = None,
                 data: dict[str, list[Record]] | None = None) -> None:  # fmt: skip
        self.world, self.apikey = world, apikey
        self.tz = ZoneInfo(timezone)
        self.naive = naive_times
        self.max_page_size = max_page_size
        self.faults = faults or Faults()
        self.control: Control | None = None  # the control endpoint (set by start_sandbox)
        self.tables: dict[str, Table] = {}
        self.rowstamp = 900_000_000
        self._lock = threading.Lock()
        loaded = None
        if data is not None:
            loaded = {name: [self.internal(r) for r in recs] for name, recs in data.items()}
            self._stamp_loaded(loaded)
        for name, os in world.structures.items():
            records = None
            if loaded is not None:
                records = loaded.get(name, [])
                extra = [c for c in child_collections(records) if c not in os.children]
                if extra:  # captured child collections the generator does not make
                    os = dataclasses.replace(os, children=os.children + tuple(extra))
            self.tables[name] = Table(os, records)
        self._scans: OrderedDict[tuple, Scan] = OrderedDict()
        self._stable: dict[str, tuple[Scan, list[int]]] = {}
        self.fmt = self._formatter()
        self._date_keys: dict[str, tuple[int, tuple[str, ...]]] = {}
        self.descriptions = {
            name: [(attr, {v: d for v, (_, d) in DOMAINS[dom].items()}) for attr, dom in os.domains.items()]
            for name, os in world.structures.items()
        }  # fmt: skip
        self.time_key = lru_cache(maxsize=65536)(self._time_key) if naive_times else float
        self.requests = 0

    # --- times ---------------------------------------------------------------------------------
    def _offset(self, epoch: int) -> tuple[int, str]:
        """(UTC offset seconds, rendered suffix) at an instant."""
        off = datetime.fromtimestamp(epoch, self.tz).utcoffset()
        secs = int(off.total_seconds()) if off is not None else 0
        sign, a = ("-" if secs < 0 else "+"), abs(secs)
        return secs, "" if self.naive else f"{sign}{a // 3600:02d}:{a % 3600 // 60:02d}"

    def _formatter(self) -> Any:
        """``fmt(epoch) -> str``: local time with offset (or naive). The sandbox's hottest function:
        plain dict caches of the offset per UTC day (None for the rare day with a transition, which
        is computed per instant), of the date per local day, and of recent results."""
        day_offsets: dict[int, tuple[int, str] | None] = {}
        days: dict[int, str] = {}
        memo: dict[int, str] = {}  # records share changedate/statusdate: many repeats
        clock = _CLOCK

        def fmt(epoch: int) -> str:
            text = memo.get(epoch)
            if text is not None:
                return text
            if len(memo) > 1 << 17:
                memo.clear()
            utc_day = epoch // 86400
            off = day_offsets.get(utc_day, False)
            if off is False:
                first, last = self._offset(utc_day * 86400), self._offset(utc_day * 86400 + 86399)
                off = day_offsets[utc_day] = first if first == last else None
            if off is None:
                off = self._offset(epoch)
            day, sec = divmod(epoch + off[0], 86400)
            d = days.get(day)
            if d is None:
                d = days[day] = _day(day)
            text = memo[epoch] = d + clock[sec] + off[1]
            return text

        fmt.memo = memo  # type: ignore[attr-defined]  # callers in hot loops probe it first
        return fmt

    def _time_key(self, epoch: int) -> float:
        """The instant Maximo compares: naive storage loses the DST fold (first occurrence)."""
        if not self.naive:
            return float(epoch)
        local = datetime.fromtimestamp(epoch, self.tz).replace(tzinfo=None)
        return local.replace(tzinfo=self.tz).timestamp()

    def internal(self, rec: Record) -> Record:
        """A record from a data file or a test: ISO date strings become epoch seconds."""
        out: Record = {}
        for k, v in rec.items():
            k = k.lower()
            if k in DATE_ATTRS and isinstance(v, str):
                out[k] = int(parse_instant(v, self.tz))
            elif isinstance(v, datetime):
                out[k] = int((v if v.tzinfo else v.replace(tzinfo=self.tz)).timestamp())
            elif isinstance(v, list):
                out[k] = [self.internal(c) if isinstance(c, dict) else c for c in v]
            else:
                out[k] = v
        return out

    def _stamp_loaded(self, loaded: dict[str, list[Record]]) -> None:
        """Keep the ``_rowstamp`` records (and child rows) came with; give the others new ones,
        above every kept one, so a later change always gets a higher rowstamp."""
        rows = [row for recs in loaded.values() for rec in recs for row in rows_of(rec)]
        kept = [int(r["_rowstamp"]) for r in rows if r.get("_rowstamp") is not None]
        self.rowstamp = max([self.rowstamp, *kept])
        for row in rows:
            if row.get("_rowstamp") is None:
                row["_rowstamp"] = self.next_rowstamp()

    def next_rowstamp(self) -> int:
        with self._lock:
            self.rowstamp += 1
            return self.rowstamp

    # --- queries -------------------------------------------------------------------------------
    def table(self, name: str) -> Table:
        t = self.tables.get(name.upper())
        if t is None:
            raise ApiError(404, "BMXAA8727E", f"The object structure {name.upper()} was not found.")
        return t

    def scan(self, table: Table, q: dict[str, str], stable: bool) -> Scan:
        clauses = parse_where(q.get("oslc.where", ""))
        order = parse_order(q.get("oslc.orderBy", ""))
        known = table.attributes()
        for name in [c.attr for c in clauses] + [a for a, _ in order]:
            if known and "." not in name and name not in known:
                raise ApiError(400, "BMXAA3880E",
                               f"The attribute {name.upper()} does not exist in {table.os.name}.")  # fmt: skip
        pred = compile_where(clauses, self.tz, self.time_key)
        attr = table.os.time_attr
        lo, hi = time_bounds(clauses, attr, self.tz) if attr else (None, None)
        slack = 7200 if self.naive else 0
        if stable:
            return Scan(table, pred, order, lo, hi, slack)
        ck = (table.os.name, q.get("oslc.where", ""), q.get("oslc.orderBy", ""), table.version)
        with self._lock:
            scan = self._scans.get(ck)
            if scan is not None:
                self._scans.move_to_end(ck)
                return scan
        scan = Scan(table, pred, order, lo, hi, slack)
        with self._lock:
            self._scans[ck] = scan
            while len(self._scans) > 32:
                self._scans.popitem(last=False)
        return scan

    def stable_scan(self, table: Table, q: dict[str, str]) -> tuple[str, Scan, int]:
        """(stableId, scan, page) for a stable-paging request; checks forward-only paging."""
        now = time.monotonic()
        with self._lock:
            for sid in [s for s, (sc, _) in self._stable.items() if now - sc.created > STABLE_IDLE]:
                del self._stable[sid]
        sid = q.get("stableId")
        page = _int(q.get("pageno", "1"), "pageno")
        if sid is None:
            sid = uuid.uuid4().hex
            scan = self.scan(table, q, stable=True)
            with self._lock:
                self._stable[sid] = (scan, [1])
            return sid, scan, 1
        with self._lock:
            entry = self._stable.get(sid)
        if entry is None:
            raise ApiError(400, "BMXAA9378E", f"The stable set {sid} expired or does not exist.")
        scan, last = entry
        if page not in (last[0], last[0] + 1):
            raise ApiError(400, "BMXAA9379E", f"Page {page} of stable set {sid} has expired.")
        last[0] = page
        scan.created = now
        return sid, scan, page

    # --- rendering -----------------------------------------------------------------------------
    def date_keys(self, table: Table) -> tuple[str, ...]:
        """The date attributes the table's records carry (cached per table version)."""
        cached = self._date_keys.get(table.os.name)
        if cached is None or cached[0] != table.version:
            keys = tuple(sorted(DATE_ATTRS.intersection(table.attributes())))
            cached = self._date_keys[table.os.name] = (table.version, keys)
        return cached[1]

    def member(
        self, table: Table, rec: Record, sel: Select | None, base: str, dropnulls: bool
    ) -> Record:
        """One collection member as Maximo renders it (href, _rowstamp, attributes, descriptions)."""
        os = table.os
        rid = "/".join([str(rec.get(a, "")) for a in os.href_key])
        href = f"{base}/_" + base64.urlsafe_b64encode(rid.encode()).decode().replace("=", "-")
        if sel is None:
            return {"href": href}
        if sel.attrs is None:  # the hot path: render the scan's fresh record in place
            out = _render_all(rec, sel, dropnulls, os.children, self.fmt, self.date_keys(table))
            out["href"] = href
        else:
            out = {"href": href, "_rowstamp": str(rec.get("_rowstamp", ""))}
            _project(out, rec, sel, dropnulls, os.children, self.fmt)
        for attr, descs in self.descriptions[os.name]:
            desc = descs.get(out.get(attr))
            if desc:
                out[f"{attr}_description"] = desc
        return out


def rows_of(rec: Record) -> Iterator[Record]:
    """A record and the rows of its child collections."""
    yield rec
    for v in rec.values():
        if isinstance(v, list):
            for child in v:
                if isinstance(child, dict):
                    yield from rows_of(child)


def _int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ApiError(
            400, "BMXAA9490E", f"The value {text!r} of {name} is not a number."
        ) from None


def _render_all(rec: Record, sel: Select, dropnulls: bool, children: tuple[str, ...],
                fmt: Any, date_keys: tuple[str, ...]) -> Record:  # fmt: skip
    """``oslc.select=*``: ``rec`` itself (a fresh dict) with nulls dropped and dates rendered."""
    kids = {c: rec.pop(c, None) for c in children}
    if dropnulls:
        for k in [k for k, v in rec.items() if v is None]:
            del rec[k]
    for k in date_keys:
        v = rec.get(k)
        if type(v) is int:
            rec[k] = fmt(v)
    rec["_rowstamp"] = str(rec.get("_rowstamp", ""))  # a string, like Maximo
    if sel.children:
        _project_children(rec, kids, sel, dropnulls, fmt)
    return rec


def _project_children(out: Record, rec: Record, sel: Select, dropnulls: bool, fmt: Any) -> None:
    for child, csel in sel.children.items():
        items = rec.get(child)
        if not items:
            continue
        rows = []
        for item in items:
            row: Record = {"_rowstamp": str(item.get("_rowstamp", ""))}
            _project(row, item, csel, dropnulls, (), fmt)
            rows.append(row)
        out[child] = rows


def _project(out: Record, rec: Record, sel: Select, dropnulls: bool, children: tuple[str, ...],
             fmt: Any) -> None:  # fmt: skip
    """Copy the selected attributes (dates rendered by ``fmt``) and child collections into ``out``."""
    if sel.attrs is None:
        if dropnulls:
            out.update({k: v for k, v in rec.items() if v is not None and k not in children})
        else:
            out.update({k: v for k, v in rec.items() if k not in children})
        out["_rowstamp"] = str(rec.get("_rowstamp", ""))  # as a string, like Maximo
    else:  # the connectors' hot path: an explicit attribute list, planned once per select
        attrs, dates = _plan(sel.attrs, children)
        get = rec.get
        if dropnulls:
            for k in attrs:
                v = get(k)
                if v is not None:
                    out[k] = v
        else:
            for k in attrs:
                out[k] = get(k)
        memo = getattr(fmt, "memo", None) or {}
        for k in dates:
            v = out.get(k)
            if type(v) is int:
                out[k] = memo.get(v) or fmt(v)
        if sel.children:
            _project_children(out, rec, sel, dropnulls, fmt)
        return
    for k in DATE_ATTRS.intersection(out):
        v = out[k]
        if type(v) is int:
            out[k] = fmt(v)
    _project_children(out, rec, sel, dropnulls, fmt)


@lru_cache(maxsize=256)
def _plan(
    attrs: frozenset[str], children: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(selected plain attributes, the date attributes among them) for an explicit select."""
    plain = tuple(sorted(a for a in attrs if a not in children))
    return plain, tuple(a for a in plain if a in DATE_ATTRS)


def namespaced(value: Any) -> Any:
    """Non-lean JSON: ``spi:`` attribute names, ``rdf:about`` for href (top level and children)."""
    if isinstance(value, list):
        return [namespaced(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for k, v in value.items():
        if k == "href":
            out["rdf:about"] = v
        elif k.startswith("_"):
            out[k] = v
        else:
            out[f"spi:{k}"] = namespaced(v)
    return out


def make_handler(sb: Sandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "MaximoSandbox/1.0"

        def log_message(self, fmt: str, *args: Any) -> None:  # quiet; never log keys
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
                  truncate: bool = False) -> None:  # fmt: skip
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if truncate:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if truncate else body)

        def _control(self, method: str) -> bool:
            """Serve ``/_sandbox/...`` (the kit's control endpoint); False for other paths."""
            if sb.control is None or not self.path.startswith(PREFIX):
                return False
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, body = sb.control.handle(method, self.path, self.headers, raw)
            self._send(status, body)
            return True

        def _not_get(self, method: str) -> None:
            if not self._control(method):
                self._send(405, ApiError(405, "BMXAA9370E", "Only GET is served here.").body())

        def do_POST(self) -> None:  # noqa: N802
            self._not_get("POST")

        def do_PUT(self) -> None:  # noqa: N802
            self._not_get("PUT")

        def do_PATCH(self) -> None:  # noqa: N802
            self._not_get("PATCH")

        def do_DELETE(self) -> None:  # noqa: N802
            self._not_get("DELETE")

        def do_GET(self) -> None:  # noqa: N802
            if self._control("GET"):
                return
            sb.requests += 1
            try:
                self._get()
            except ApiError as exc:
                self._send(exc.status, exc.body())
            except QueryError as exc:
                self._send(400, ApiError(400, "BMXAA9487E", str(exc)).body())
            except Exception as exc:  # pragma: no cover - a sandbox bug, reported like Maximo would
                self._send(500, ApiError(500, "BMXAA0000E", f"internal error: {exc}").body())

        def _get(self) -> None:
            parts = urlsplit(self.path)
            segs = [s for s in parts.path.split("/") if s]
            if (
                len(segs) != 4
                or segs[0] != "maximo"
                or segs[1] not in ("api", "oslc")
                or segs[2] != "os"
            ):
                raise ApiError(404, "BMXAA8727E", f"The resource {parts.path} was not found.")
            qs = parse_qs(parts.query, keep_blank_values=True)
            q = {k: v[-1] for k, v in qs.items()}
            key = self.headers.get("apikey") or q.get("apikey")
            if key != sb.apikey:
                raise ApiError(401, "BMXAA7901E", "You cannot log in at this time. Contact the system administrator.")  # fmt: skip
            fault = sb.faults.roll()
            if fault == "429":
                err = ApiError(429, "BMXAA9999E", "Too many requests; retry later.")
                self._send(429, err.body(), {"Retry-After": f"{sb.faults.retry_after:g}"})
                return
            if fault == "500":
                self._send(
                    500, ApiError(500, "BMXAA4214E", "An unknown error has occurred.").body()
                )
                return
            if fault == "slow":
                time.sleep(sb.faults.slow_seconds)
            if fault == "timeout":
                sb.faults.hang(self)
                return
            table = sb.table(segs[3])
            body = self._collection(table, q, segs)
            self._send(200, body, truncate=fault == "truncate")

        def _collection(self, table: Table, q: dict[str, str], segs: list[str]) -> bytes:
            host = self.headers.get("Host", "localhost")
            base = f"http://{host}/maximo/{segs[1]}/os/{segs[3].lower()}"
            lean = q.get("lean") == "1"
            if q.get("count") == "1":
                scan = sb.scan(table, q, stable=False)
                return orjson.dumps({"totalCount": scan.count()})
            size_text = q.get("oslc.pageSize")
            limit = table.os.max_page_size or sb.max_page_size
            size = min(AUTO_PAGE, limit) if size_text is None else _int(size_text, "oslc.pageSize")
            if size < 1 or size > limit:
                raise ApiError(400, "BMXAA9549E", f"The page size {size} is not allowed: it must be between 1 and the maximum page size {limit}.")  # fmt: skip
            sel = parse_select(q["oslc.select"]) if "oslc.select" in q else None
            dropnulls = q.get("_dropnulls") != "0"
            if q.get("stablepaging") in ("1", "true") or "stableId" in q:
                sid, scan, page = sb.stable_scan(table, q)
            else:
                sid, page = None, _int(q.get("pageno", "1"), "pageno")
                if page < 1:
                    raise ApiError(400, "BMXAA9490E", f"pageno {page} must be >= 1.")
                scan = sb.scan(table, q, stable=False)
            rows, more = scan.page(page, size)
            members = [sb.member(table, r, sel, base, dropnulls) for r in rows]
            query = {k: v for k, v in q.items() if k not in ("pageno", "stableId")}
            this = f"{base}?{_qs(query)}"
            info: dict[str, Any] = {"href": this, "pagenum": page}
            if more:
                nxt = {**query, "pageno": str(page + 1)}
                if sid:
                    nxt["stableId"] = sid
                info["nextPage"] = {"href": f"{base}?{_qs(nxt)}"}
            if page > 1 and not sid:
                info["previousPage"] = {"href": f"{base}?{_qs({**query, 'pageno': str(page - 1)})}"}
            if q.get("collectioncount") == "1":
                total = scan.count()
                info["totalCount"] = total
                info["totalPages"] = max(1, -(-total // size))
            if lean:
                return orjson.dumps({"member": members, "href": base, "responseInfo": info})
            ns_info = {f"oslc:{k}": ({"rdf:resource": v["href"]} if isinstance(v, dict) else v)
                       for k, v in info.items()}  # fmt: skip
            return orjson.dumps(
                {
                    "rdfs:member": namespaced(members),
                    "rdf:about": base,
                    "oslc:responseInfo": ns_info,
                }
            )

    return Handler


def _qs(q: dict[str, str]) -> str:
    return urlencode(q, quote_via=quote, safe="*")
