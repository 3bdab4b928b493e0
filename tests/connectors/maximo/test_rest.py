"""The declarative REST engine (connectors/rest.py): pure helpers, and the three paging kinds
against a small JSON server (next-link paging is exercised by the Maximo tests)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import orjson
import pytest

from connectors.base import SourceError
from connectors.http import HttpClient
from connectors.rest import (
    AuthSpec,
    PagingSpec,
    RestReader,
    RestSpec,
    WindowSpec,
    auth_parts,
    format_time,
    get_path,
    rebase,
)

ROWS = [{"id": i} for i in range(23)]


def test_get_path():
    body = {"responseInfo": {"nextPage": {"href": "x"}}, "member": [1]}
    assert get_path(body, "responseInfo.nextPage.href") == "x"
    assert get_path(body, "responseInfo.previousPage.href") is None
    assert get_path(body, "member.0") is None and get_path([1], "") == [1]


def test_format_time_dialects():
    dt = datetime(2024, 3, 10, 7, 0, 0, 250000, tzinfo=UTC)
    ny = ZoneInfo("America/New_York")
    assert format_time(dt, "iso_utc") == "2024-03-10T07:00:00Z"
    assert format_time(dt, "iso_offset", ny) == "2024-03-10T03:00:00-04:00"
    assert format_time(dt, "iso_naive", ny) == "2024-03-10T03:00:00"
    assert format_time(dt, "epoch_ms") == "1710054000250"
    assert format_time(dt, "epoch_s") == "1710054000"
    with pytest.raises(ValueError, match="unknown time format"):
        format_time(dt, "rfc822")  # type: ignore[arg-type]


def test_auth_parts():
    creds = {"apikey": "k", "token": "t", "username": "u", "password": "p"}
    assert auth_parts(AuthSpec("header", name="apikey"), creds) == ({"apikey": "k"}, {})
    assert auth_parts(AuthSpec("query", name="key"), creds) == ({}, {"key": "k"})
    assert auth_parts(AuthSpec("bearer", credential="token"), creds) == (
        {"Authorization": "Bearer t"}, {})  # fmt: skip
    basic = auth_parts(AuthSpec("basic"), creds)[0]["Authorization"]
    assert base64.b64decode(basic.split()[1]) == b"u:p"
    with pytest.raises(ValueError, match="'token' is missing"):
        auth_parts(AuthSpec("bearer", credential="token"), {})


def test_rebase_keeps_path_and_query_on_the_configured_host():
    link = "http://internal-maximo:9080/maximo/api/os/mxapiasset?pageno=2&lean=1"
    assert rebase(link, "https://mx.example.com") == (
        "https://mx.example.com/maximo/api/os/mxapiasset?pageno=2&lean=1"
    )


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        u = urlsplit(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        if self.headers.get("Authorization") != "Bearer secret":
            self.send_response(401)
            self.end_headers()
            return
        size = int(q.get("limit", "10"))
        if u.path == "/cursor":
            start = int(q.get("cursor", "0"))
            nxt = start + size if start + size < len(ROWS) else None
            body = {"items": ROWS[start : start + size], "nextCursor": nxt and str(nxt)}
        else:
            page = int(q["page"])
            body = {
                "data": {"rows": ROWS[(page - 1) * size : page * size]},
                "since": q.get("since"),
            }
        data = orjson.dumps(body)
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def reader(url: str, paging: PagingSpec, window: WindowSpec | None = None) -> RestReader:
    spec = RestSpec(AuthSpec("bearer", credential="token"), paging, window or WindowSpec())
    return RestReader(HttpClient("demo", url), spec, {"token": "secret"})


def test_cursor_paging(server):
    r = reader(server, PagingSpec("cursor", "items", "nextCursor", size_param="limit", max_size=10))
    pages = list(r.pages("/cursor", page_size=500))  # clamped to the maximum of 10
    assert [len(p) for p in pages] == [10, 10, 3] and sum(pages, []) == ROWS


def test_a_body_without_the_records_is_a_source_error(server):
    r = reader(server, PagingSpec("cursor", "records", "nextCursor", size_param="limit"))
    with pytest.raises(SourceError, match="records is not a list") as exc:
        list(r.pages("/cursor"))
    assert exc.value.endpoint == "GET /cursor" and exc.value.system == "demo"
    lenient = PagingSpec("cursor", "records", "nextCursor", require_records=False)
    assert list(reader(server, lenient).pages("/cursor")) == []


def test_page_paging_and_window_params(server):
    spec = PagingSpec("page", "data.rows", size_param="limit", max_size=5)
    seen: list[dict] = []
    r = reader(server, spec, WindowSpec("since", None, "epoch_ms"))
    params = r.window_params(datetime(2024, 1, 1, tzinfo=UTC), None)
    pages = list(r.pages("/page", params, on_page=seen.append))
    assert sum(pages, []) == ROWS and [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert seen[0]["since"] == "1704067200000"
