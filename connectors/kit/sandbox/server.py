"""A generic REST sandbox: serves any manifest's entities from data files, the protocol the manifest
describes (``python -m connectors.kit.sandbox SYSTEM [flags]``, or a system's own
``sandbox/__main__.py`` calling `main`).

What it honours from the manifest: the base path and each entity's path (and ``detail`` paths), the
auth (API key header or query, bearer, basic: the password is checked; OAuth2 client credentials:
it serves ``token_url`` and accepts the tokens it issued), the paginator (page number, offset/limit,
cursor, next link in the body or in a ``Link`` header as ``<url>; rel="next"``; a page size above
``max_size`` is a 400), the record selector (records
are put at the ``records`` path), incremental ``params`` (``start_param`` inclusive, ``end_param``
exclusive or inclusive as ``end_inclusive`` says; times in the manifest's ``format``), ``order``
(by change time then key), ``requested_fields`` (records carry the key and the fields asked for)
and ``rate_limit`` headers (``--rate-limit`` requests per ``--rate-window`` seconds). Expression
filters and plug-in paginators are protocol-specific: a system that needs them writes its own
sandbox with the kit's parts (`connectors.kit.sandbox.faults`, ``control``, ``cli``).

Data: ``--data`` directories of ``<entity>.json`` lists (default: the system's ``sandbox_data/``)
or ``ENTITY=FILE``. It generates no records: ``--size`` is refused; ``--seed`` seeds the fault
draws. Records are served as they are in the files; a change through the control
endpoint sets the entity's change time to now (ISO UTC with milliseconds).
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import orjson

from connectors.kit import manifest as mf
from connectors.kit.sandbox import cli
from connectors.kit.sandbox.control import PREFIX, Control
from connectors.kit.sandbox.faults import Faults
from include.model.timeutil import parse_datetime

ROOT = Path(__file__).resolve().parents[2]  # connectors/


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _now_iso() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _parse_bound(value: str, fmt: str) -> datetime:
    try:
        if fmt == "epoch_ms":
            return datetime.fromtimestamp(int(value) / 1000, UTC)
        if fmt == "epoch_s":
            return datetime.fromtimestamp(int(value), UTC)
        dt = parse_datetime(value, UTC)
    except (TypeError, ValueError):
        dt = None
    if dt is None:
        raise BadRequest(400, f"cannot read the time {value!r} ({fmt})")
    return dt


class Store:
    """Each entity's records in memory (the `Control` endpoint's `Records`)."""

    def __init__(self, manifest: mf.Manifest, data: dict[str, list[dict[str, Any]]]) -> None:
        self.manifest = manifest
        self.lock = threading.Lock()
        self.records: dict[str, dict[tuple, dict[str, Any]]] = {}
        for name, e in manifest.entities.items():
            rows = self.records[name] = {}
            for n, rec in enumerate(data.get(name, [])):
                if not isinstance(rec, dict):
                    raise ValueError(f"--data {name}[{n}]: not a JSON object")
                key = self._key(e, rec, f"--data {name}[{n}]")
                if key in rows:
                    raise ValueError(f"--data {name}[{n}]: the key {list(key)} is repeated")
                rows[key] = rec

    def _entity(self, name: str) -> mf.Entity:
        return self.manifest.entity(name)

    @staticmethod
    def _key(e: mf.Entity, rec: dict[str, Any], where: str) -> tuple:
        missing = [f for f in e.key if rec.get(f) in (None, "")]
        if missing:
            raise ValueError(f"{where}: no value for the key field(s) {', '.join(missing)}")
        return tuple(str(rec[f]) for f in e.key)

    def add(self, entity: str, record: dict[str, Any]) -> dict[str, Any]:
        e = self._entity(entity)
        key = self._key(e, record, entity)
        with self.lock:
            if key in self.records[entity]:
                raise ValueError(f"{entity}: a record with key {list(key)} exists")
            new = dict(record)
            if e.change_time and e.change_time not in record:
                new[e.change_time] = _now_iso()
            self.records[entity][key] = new
        return new

    def change(self, entity: str, key: list[Any], values: dict[str, Any]) -> dict[str, Any]:
        e = self._entity(entity)
        k = tuple(str(v) for v in key)
        with self.lock:
            rec = self.records[entity].get(k)
            if rec is None:
                raise KeyError(f"{entity}: no record with key {key}")
            new = {**rec, **values}
            if e.change_time:
                new[e.change_time] = _now_iso()
            self.records[entity][k] = new
        return new

    def delete(self, entity: str, key: list[Any]) -> bool:
        self._entity(entity)
        with self.lock:
            return self.records[entity].pop(tuple(str(v) for v in key), None) is not None

    def snapshot(self, entity: str) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.records[entity].values())


class Limiter:
    def __init__(self, limit: int, window: float) -> None:
        if limit < 1:
            raise ValueError(f"rate_limit must be at least 1, got {limit}")
        self.limit, self.window = limit, window
        self._start, self._used = time.monotonic(), 0
        self._lock = threading.Lock()

    def take(self) -> tuple[bool, int, int]:
        with self._lock:
            now = time.monotonic()
            if now - self._start >= self.window:
                self._start, self._used = now, 0
            reset = max(1, int(self._start + self.window - now + 0.999))
            if self._used >= self.limit:
                return False, 0, reset
            self._used += 1
            return True, self.limit - self._used, reset


class GenericSandbox:
    """State shared by the handler threads."""

    def __init__(self, manifest: mf.Manifest, store: Store, secret: str, faults: Faults,
                 limiter: Limiter | None) -> None:  # fmt: skip
        self.manifest, self.store, self.secret = manifest, store, secret
        self.faults, self.limiter = faults, limiter
        self.control = Control(store, faults, secret)
        self.tokens: set[str] = set()
        self.requests = 0
        base = manifest.base_path.rstrip("/")
        self.routes = {base + e.path: name for name, e in manifest.entities.items()}
        self.details = {
            base + e.detail.path.split("{id}")[0]: name
            for name, e in manifest.entities.items()
            if e.detail is not None
        }

    # --- auth ----------------------------------------------------------------------------------
    def authorized(self, headers: Any, q: dict[str, str]) -> bool:
        a = self.manifest.auth
        if isinstance(a, mf.ApiKeyAuth):
            given = headers.get(a.name) if a.in_ == "header" else q.get(a.name)
            return secrets.compare_digest(str(given or ""), self.secret)
        scheme, _, value = (headers.get("Authorization") or "").partition(" ")
        if isinstance(a, mf.BearerAuth):
            return scheme.lower() == "bearer" and secrets.compare_digest(value, self.secret)
        if isinstance(a, mf.OAuth2ClientCredentials):
            return scheme.lower() == "bearer" and value in self.tokens
        if isinstance(a, mf.BasicAuth):
            try:
                _, _, password = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return False
            return scheme.lower() == "basic" and secrets.compare_digest(password, self.secret)
        return True

    def token(self, form: dict[str, str], headers: Any) -> dict[str, Any]:
        secret = form.get("client_secret", "")
        scheme, _, value = (headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            secret = base64.b64decode(value).decode().partition(":")[2]
        if form.get("grant_type") != "client_credentials" or not secrets.compare_digest(
            secret, self.secret
        ):
            raise BadRequest(401, "invalid_client")
        tok = secrets.token_urlsafe(24)
        self.tokens.add(tok)
        return {"access_token": tok, "token_type": "Bearer", "expires_in": 3600}

    # --- lists ---------------------------------------------------------------------------------
    def list(self, entity: str, q: dict[str, str], base_url: str,
             path: str) -> tuple[Any, dict[str, str]]:  # fmt: skip
        """(the body, response headers) of one page of ``entity``."""
        m, e = self.manifest, self.manifest.entity(entity)
        rows = self.store.snapshot(entity)
        inc = m.incremental
        if e.change_time and inc is not None and inc.mode == "params":
            rows = self._window(rows, e.change_time, inc, q)
        elif inc is not None and inc.mode == "expression" and inc.expression.param in q:  # type: ignore[union-attr]
            raise BadRequest(400, "the generic sandbox does not evaluate filter expressions")
        rows.sort(key=lambda r: (str(r.get(e.change_time) or "") if e.change_time else "",
                                 tuple(_sortable(r.get(k)) for k in e.key)))  # fmt: skip
        if m.requested_fields and m.requested_fields.param in q:
            wanted = set(q[m.requested_fields.param].split(m.requested_fields.join)) | set(e.key)
            rows = [{k: v for k, v in r.items() if k in wanted} for r in rows]
        page, extra = self._page(e.paginator or m.paginator, rows, q, base_url, path)
        headers = {k.removeprefix("header:"): v for k, v in extra.items()
                   if k.startswith("header:") and v}  # fmt: skip
        extra = {k: v for k, v in extra.items() if not k.startswith("header:")}
        body: dict[str, Any] = {}
        records_path = e.records if e.records is not None else m.records
        if not records_path:
            return page, headers  # the body is the list
        cur = body
        parts = records_path.split(".")
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
        cur[parts[-1]] = page
        for dotted, value in extra.items():
            cur = body
            *head, last = dotted.split(".")
            for p in head:
                cur = cur.setdefault(p, {})
            cur[last] = value
        return body, headers

    @staticmethod
    def _window(rows: list[dict], attr: str, inc: mf.Incremental, q: dict[str, str]) -> list[dict]:
        start = _parse_bound(q[inc.start_param], inc.format) if inc.start_param in q else None
        end = (
            _parse_bound(q[inc.end_param], inc.format)
            if inc.end_param and inc.end_param in q
            else None
        )
        if start is None and end is None:
            return rows
        out = []
        for r in rows:
            ts = parse_datetime(r.get(attr), UTC)
            if ts is None or (start and ts < start):
                continue
            if end and (ts > end if inc.end_inclusive else ts >= end):
                continue
            out.append(r)
        return out

    def _page(self, cfg: Any, rows: list[dict], q: dict[str, str], base_url: str,
              path: str) -> tuple[list[dict], dict[str, Any]]:  # fmt: skip
        size = cfg.max_size
        if cfg.size_param and cfg.size_param in q:
            size = _int(q[cfg.size_param], cfg.size_param)
            if not 1 <= size <= cfg.max_size:
                raise BadRequest(400, f"{cfg.size_param} must be 1..{cfg.max_size}, got {size}")
        if isinstance(cfg, mf.PageNumberPaginator):
            page = _int(q.get(cfg.param, str(cfg.first)), cfg.param)
            start = (page - cfg.first) * size
            extra = {cfg.total_pages: -(-len(rows) // size)} if cfg.total_pages else {}
            return rows[start : start + size], extra
        if isinstance(cfg, mf.OffsetPaginator):
            start = _int(q.get(cfg.offset_param, "0"), cfg.offset_param)
            return rows[start : start + size], ({cfg.total: len(rows)} if cfg.total else {})
        if isinstance(cfg, mf.CursorPaginator):
            start = 0
            if q.get(cfg.param):
                try:
                    start = int(base64.urlsafe_b64decode(q[cfg.param]).decode())
                except ValueError:
                    raise BadRequest(400, f"{cfg.param}: not a cursor this server issued") from None
            nxt = start + size
            cursor = (
                base64.urlsafe_b64encode(str(nxt).encode()).decode() if nxt < len(rows) else None
            )
            return rows[start:nxt], {cfg.next: cursor}
        if isinstance(cfg, mf.NextLinkPaginator):
            start = _int(q.pop("_offset", "0"), "_offset")
            nxt = start + size
            link = None
            if nxt < len(rows):
                link = f"{base_url}{path}?" + urlencode({**q, "_offset": nxt, **(
                    {cfg.size_param: size} if cfg.size_param else {})})  # fmt: skip
            if cfg.next.startswith("header:"):  # RFC 8288, as GitHub-style APIs send it
                return rows[start:nxt], {cfg.next: f'<{link}>; rel="next"' if link else None}
            return rows[start:nxt], {cfg.next: link}
        raise BadRequest(500, f"the generic sandbox cannot serve paginator {cfg.kind!r}")


def _sortable(value: Any) -> tuple[int, Any]:
    """Numbers before text, each in its own order (ids 9 < 10)."""
    return (0, value) if isinstance(value, int | float) else (1, str(value))


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise BadRequest(400, f"{name} must be an integer, got {value!r}") from None


def make_handler(sb: GenericSandbox) -> type[BaseHTTPRequestHandler]:
    m = sb.manifest

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = f"{m.system}-sandbox/1"

        def log_message(self, fmt: str, *args: Any) -> None:  # quiet; never log keys
            pass

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None,
                  truncate: bool = False) -> None:  # fmt: skip
            data = body if isinstance(body, bytes) else orjson.dumps(body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if truncate:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(data[: len(data) // 2] if truncate else data)

        def _handle(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if url.path.startswith(PREFIX):
                status, data = sb.control.handle(method, self.path, self.headers, raw)
                return self._send(status, data)
            sb.requests += 1
            q = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            try:
                auth = m.auth
                if (
                    isinstance(auth, mf.OAuth2ClientCredentials)
                    and method == "POST"
                    and (url.path == urlsplit(auth.token_url).path)
                ):
                    form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
                    return self._send(200, sb.token(form, self.headers))
                if not sb.authorized(self.headers, q):
                    raise BadRequest(401, "unauthorized")
                headers: dict[str, str] = {}
                if sb.limiter is not None and m.rate_limit is not None:
                    ok, remaining, reset = sb.limiter.take()
                    headers = {
                        m.rate_limit.remaining: str(remaining),
                        m.rate_limit.reset: str(reset),
                    }
                    if not ok:
                        return self._send(429, {"error": "rate limit"}, headers)
                fault = sb.faults.roll()
                if fault == "429":
                    retry = {"Retry-After": f"{sb.faults.retry_after:g}"}
                    return self._send(429, {"error": "too many requests"}, {**headers, **retry})
                if fault == "500":
                    return self._send(500, {"error": "internal error (injected)"}, headers)
                if fault == "slow":
                    time.sleep(sb.faults.slow_seconds)
                if fault == "timeout":
                    return sb.faults.hang(self)
                if method != "GET":
                    raise BadRequest(405, f"{method} is not served (read-only sandbox)")
                body, more = self._route(url.path, q)
                self._send(200, body, {**headers, **more}, truncate=fault == "truncate")
            except BadRequest as exc:
                self._send(exc.status, {"error": str(exc)})
            except KeyError as exc:
                self._send(404, {"error": str(exc)})

        def _route(self, path: str, q: dict[str, str]) -> tuple[Any, dict[str, str]]:
            entity = sb.routes.get(path.rstrip("/"))
            host = self.headers.get("Host") or "127.0.0.1"
            if entity is not None:
                return sb.list(entity, q, f"http://{host}", path)
            for prefix, name in sb.details.items():
                if path.startswith(prefix):
                    e = m.entity(name)
                    rid = path[len(prefix) :].strip("/")
                    for rec in sb.store.snapshot(name):
                        if str(rec.get(e.record_id or e.key[0])) == rid:
                            assert e.detail is not None
                            return {e.detail.records: rec}, {}
                    raise BadRequest(404, f"{name}: no record {rid}")
            raise BadRequest(404, f"no resource {path}")

        def do_GET(self) -> None:  # noqa: N802
            self._handle("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._handle("POST")

        def do_PUT(self) -> None:  # noqa: N802
            self._handle("PUT")

        def do_PATCH(self) -> None:  # noqa: N802
            self._handle("PATCH")

        def do_DELETE(self) -> None:  # noqa: N802
            self._handle("DELETE")

    return Handler


class Handle:
    def __init__(self, server: ThreadingHTTPServer, sandbox: GenericSandbox) -> None:
        self.server, self.sandbox, self.store = server, sandbox, sandbox.store
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


def read_data(manifest: mf.Manifest, args: list[str] | None, default_dir: Path) -> dict[str, list]:
    """``--data`` values (``ENTITY=FILE``, directories, ``default``) -> records per entity."""
    names = {n: n for n in manifest.entities}
    out: dict[str, list] = {}
    for arg in cli.expand_data(args or ["default"], names, default_dir):
        name, sep, file = arg.partition("=")
        if not sep or name not in names:
            raise ValueError(f"--data {arg}: expected ENTITY=FILE or a directory; entities: "
                             f"{', '.join(names)}")  # fmt: skip
        try:
            records = orjson.loads(Path(file).read_bytes())
        except OSError as exc:
            raise ValueError(f"--data {file}: cannot read it ({exc.strerror})") from None
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"--data {file}: not JSON ({exc})") from None
        if not isinstance(records, list):
            raise ValueError(f"--data {file}: expected a JSON list of {name} records")
        out.setdefault(name, []).extend(records)
    return out


def manifest_path(system_or_file: str | Path) -> Path:
    """``limble`` -> connectors/limble/manifest.yaml; a file path stays as it is."""
    path = Path(system_or_file)
    return ROOT / str(system_or_file) / "manifest.yaml" if not path.suffix else path


def start(manifest: mf.Manifest | str | Path, data: list[str] | dict[str, list] | None = None,
          port: int = 0, host: str = "127.0.0.1", secret: str = "sandbox-secret",
          faults: Faults | None = None, rate_limit: int | None = None,
          rate_window: float = 60.0) -> tuple[str, Handle]:  # fmt: skip
    """Serve ``manifest`` (a Manifest, a file, or a system name) in background threads."""
    if not isinstance(manifest, mf.Manifest):
        path = manifest_path(manifest)
        manifest = mf.load_manifest(path)
        default_dir = path.parent / "sandbox_data"
    else:
        default_dir = ROOT / manifest.system / "sandbox_data"
    faults = faults or Faults()
    if faults.rates["rpc"]:
        raise ValueError(f"{manifest.system} sandbox: --rpc-error is for RPC protocols")
    records = data if isinstance(data, dict) else read_data(manifest, data, default_dir)
    limiter = Limiter(rate_limit, rate_window) if rate_limit else None
    sandbox = GenericSandbox(manifest, Store(manifest, records), secret, faults, limiter)
    server = ThreadingHTTPServer((host, port), make_handler(sandbox))
    server.daemon_threads = True
    handle = Handle(server, sandbox)
    return handle.url, handle


def main(system: str | None = None, argv: list[str] | None = None) -> int:
    """The command line: ``python -m connectors.kit.sandbox SYSTEM [flags]`` (or a system's
    ``sandbox/__main__.py``: ``main("limble")``)."""
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    if system is None:
        if not argv or argv[0].startswith("-"):
            print(
                "usage: python -m connectors.kit.sandbox SYSTEM|MANIFEST [flags]", file=sys.stderr
            )
            return 2
        system, argv = argv[0], argv[1:]
    p = cli.parser(f"{system} sandbox", __doc__, "sandbox-secret")
    p.add_argument("--rate-limit", type=int, default=None, help="requests per window")
    p.add_argument("--rate-window", type=float, default=60.0, help="window length, seconds")
    p.set_defaults(size=None)
    a = p.parse_args(argv)
    if a.change_rate:
        p.error("--change-rate: the generic sandbox has no change feed; use the control endpoint")
    if a.size is not None:
        p.error(
            "--size: the generic sandbox generates no records; it serves its data files "
            "(--data, default: the system's sandbox_data/); --seed seeds the fault draws"
        )
    try:
        manifest = mf.load_manifest(manifest_path(system))
    except mf.ManifestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    default_dir = manifest_path(system).parent / "sandbox_data"
    return cli.serve(
        lambda: start(
            manifest,
            read_data(manifest, a.data, default_dir),
            a.port,
            a.host,
            a.api_key,
            cli.faults_of(a),
            a.rate_limit,
            a.rate_window,
        ),  # fmt: skip
        lambda url: f"{manifest.system} sandbox on {url} (generic: its manifest and data files)",
    )
