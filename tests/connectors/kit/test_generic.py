"""The kit end to end: `ManifestConnector` against the generic sandbox serving the same manifest,
for every paginator and auth kind, windows, requested fields, the control endpoint, faults,
rate-limit headers and the plug-in points (a paginator class, a request-signing hook)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from connectors.base import SourceError, SourceSettings, Window
from connectors.kit import ManifestConnector, Paginator, Request, entity_specs, parse_manifest
from connectors.kit.sandbox.faults import Faults
from connectors.kit.sandbox.server import start
from include.mapping import EntityMapping

SECRET = "s3cret"
T0 = datetime(2024, 5, 1, tzinfo=UTC)
N = 57
ROWS = [
    {"id": i, "name": f"Vendor {i}", "city": f"City {i % 5}", "kind": "A" if i % 2 else "B",
     "updatedAt": (T0 + timedelta(minutes=10 * (i // 3))).strftime("%Y-%m-%dT%H:%M:%S.000Z")}
    for i in range(N)
]  # fmt: skip
PAGINATORS = {
    "page_number": {"kind": "page_number", "param": "page", "size_param": "per_page", "max_size": 10},
    "offset_limit": {"kind": "offset_limit", "total": "meta.total", "max_size": 10},
    "cursor": {"kind": "cursor", "next": "meta.next", "size_param": "limit", "max_size": 10},
    "next_link": {"kind": "next_link", "next": "links.next", "size_param": "size", "max_size": 10},
    "next_link_header": {"kind": "next_link", "next": "header:Link", "size_param": "size",
                         "max_size": 10},
}  # fmt: skip
AUTHS = {
    "api_key_header": ({"kind": "api_key", "in": "header", "name": "X-Key", "credential": "key"},
                       {"key": SECRET}),
    "api_key_query": ({"kind": "api_key", "in": "query", "name": "key", "credential": "key"},
                      {"key": SECRET}),
    "bearer": ({"kind": "bearer", "credential": "token"}, {"token": SECRET}),
    "basic": ({"kind": "basic"}, {"user": "u", "password": SECRET}),
    "oauth2": ({"kind": "oauth2_client_credentials", "token_url": "/oauth/token"},
               {"client_id": "c", "client_secret": SECRET}),
}  # fmt: skip
MAPPING = {"vendors": EntityMapping(key=("id",), version="updatedAt", fields={"name": "name"})}


def manifest(paginator: dict, auth: dict, **over: Any):
    m = {
        "system": "demo",
        "base_path": "/api",
        "auth": auth,
        "paginator": paginator,
        "records": "data",
        "incremental": {"start_param": "since", "end_param": "until", "format": "iso_utc_ms"},
        "order": {"param": "sort"},
        "requested_fields": {"param": "fields"},
        "entities": {"vendors": {"path": "/vendors", "key": ["id"], "change_time": "updatedAt",
                                 "fields": ["id", "name", "updatedAt"]}},
    }  # fmt: skip
    m.update(over)
    return parse_manifest(m)


def connector_class(m, base: type[ManifestConnector] = ManifestConnector):
    return type("Demo", (base,), {"manifest": m, "system": m.system,
                                  "entities": entity_specs(m, MAPPING)})  # fmt: skip


def settings(url: str, creds: dict, page_size: int = 7, **options: Any) -> SourceSettings:
    options.setdefault("retry_base_delay", 0.001)
    return SourceSettings("t", url, creds, ZoneInfo("UTC"), page_size=page_size, options=options,
                          timeout=5, max_retries=8)  # fmt: skip


@pytest.fixture
def served():
    handles = []

    def run(m, **kw):
        url, h = start(m, {"vendors": [dict(r) for r in ROWS]}, secret=SECRET, **kw)
        handles.append(h)
        return url, h

    yield run
    for h in handles:
        h.stop()


def ids(pages) -> list[int]:
    return [r["id"] for p in pages for r in p]


@pytest.mark.parametrize("kind", list(PAGINATORS))
def test_every_paginator_reads_everything_once_in_order(served, kind):
    m = manifest(PAGINATORS[kind], AUTHS["bearer"][0])
    url, _ = served(m)
    with connector_class(m)(settings(url, AUTHS["bearer"][1])) as c:
        pages = list(c.read("vendors", Window()))
    assert [len(p) for p in pages] == [7] * 8 + [1]
    assert ids(pages) == list(range(N))  # ordered by updatedAt, then id (the data's order)
    assert set(pages[0][0]) == {"id", "name", "updatedAt"}  # requested fields only


def test_next_links_in_a_link_header(served):
    """The sandbox sends ``Link: <url>; rel="next"`` (none on the last page), the body holds only
    the records; the kit's next-link paginator follows the header."""
    m = manifest(PAGINATORS["next_link_header"], AUTHS["bearer"][0])
    url, _ = served(m)
    auth = {"Authorization": f"Bearer {SECRET}"}
    first = requests.get(f"{url}/api/vendors", params={"size": 10}, headers=auth, timeout=10)
    link = first.headers["Link"]
    assert link.startswith("<http") and link.endswith('>; rel="next"')
    assert set(first.json()) == {"data"} and len(first.json()["data"]) == 10
    last = requests.get(link[1:].split(">")[0], headers=auth, timeout=10)
    assert len(last.json()["data"]) == 10 and "Link" in last.headers
    end = requests.get(f"{url}/api/vendors", params={"size": 10, "_offset": 50}, headers=auth,
                       timeout=10)  # fmt: skip
    assert len(end.json()["data"]) == 7 and "Link" not in end.headers


@pytest.mark.parametrize("auth", list(AUTHS))
def test_every_auth_kind_and_wrong_credentials(served, auth):
    spec, creds = AUTHS[auth]
    m = manifest(PAGINATORS["cursor"], spec)
    url, _ = served(m)
    with connector_class(m)(settings(url, creds)) as c:
        assert len(ids(c.read("vendors", Window()))) == N
    wrong = {k: ("nope" if v == SECRET else v) for k, v in creds.items()}
    with connector_class(m)(settings(url, wrong)) as c, pytest.raises(SourceError) as exc:
        list(c.read("vendors", Window()))
    assert exc.value.status == 401 and c.http.retries == 0 and "nope" not in str(exc.value)
    with pytest.raises(ValueError, match="is missing"):
        connector_class(m)(settings(url, {}))


def test_windows_are_half_open_and_changes_move_records(served):
    m = manifest(PAGINATORS["offset_limit"], AUTHS["api_key_header"][0])
    url, h = served(m)
    creds = AUTHS["api_key_header"][1]
    b = T0 + timedelta(minutes=50)  # ids 15, 16, 17 sit exactly on it
    with connector_class(m)(settings(url, creds)) as c:
        before = ids(c.read("vendors", Window(T0, b)))
        after = ids(c.read("vendors", Window(b, T0 + timedelta(days=1))))
        assert before == list(range(15)) and after == list(range(15, N))
        # the control endpoint: change one (its updatedAt moves to now), add one, delete one
        key = {"X-Sandbox-Key": SECRET}
        r = requests.patch(f"{url}/_sandbox/records/vendors", json={"key": [3], "set": {"name": "X"}},
                           headers=key, timeout=5)  # fmt: skip
        assert r.status_code == 200 and r.json()["record"]["name"] == "X"
        new = {"id": 999, "name": "New"}
        assert requests.post(f"{url}/_sandbox/records/vendors", json={"record": new},
                             headers=key, timeout=5).status_code == 201  # fmt: skip
        assert requests.delete(f"{url}/_sandbox/records/vendors", json={"key": [5]},
                               headers=key, timeout=5).status_code == 204  # fmt: skip
        now = datetime.now(UTC)
        recent = list(
            c.read("vendors", Window(now - timedelta(minutes=1), now + timedelta(minutes=1)))
        )
        assert sorted(ids(recent)) == [3, 999] and recent[0][0]["name"] == "X"
        keys = ids(c.read_keys("vendors"))
    assert 5 not in keys and 999 in keys and len(keys) == N
    bad = requests.delete(f"{url}/_sandbox/records/vendors", json={"key": [5]}, timeout=5)
    assert bad.status_code == 401
    gone = requests.delete(f"{url}/_sandbox/records/vendors", json={"key": [5]},
                           headers={"X-Sandbox-Key": SECRET}, timeout=5)  # fmt: skip
    assert gone.status_code == 404 and "no record" in gone.json()["error"]


def test_end_inclusive_sources_are_made_half_open_here(served):
    m = manifest(PAGINATORS["cursor"], AUTHS["bearer"][0],
                 incremental={"start_param": "since", "end_param": "until", "format": "iso_utc_ms",
                              "end_inclusive": True})  # fmt: skip
    url, h = served(m)
    b = T0 + timedelta(minutes=50)
    with connector_class(m)(settings(url, AUTHS["bearer"][1])) as c:
        assert ids(c.read("vendors", Window(T0, b))) == list(range(15))
    assert h.sandbox.requests >= 3


def test_faults_end_in_success_and_are_counted(served):
    m = manifest(PAGINATORS["page_number"], AUTHS["bearer"][0])
    faults = Faults(9, fail_429=0.15, fail_500=0.15, truncate=0.15, retry_after=0)
    url, h = served(m, faults=faults)
    with connector_class(m)(settings(url, AUTHS["bearer"][1])) as c:
        assert ids(c.read("vendors", Window())) == list(range(N))
        retries = c.http.retries
    assert faults.counts["429"] and faults.counts["500"] and faults.counts["truncate"]
    assert retries == faults.counts["429"] + faults.counts["500"] + faults.counts["truncate"]
    r = requests.put(f"{url}/_sandbox/faults", json={"fail_500": 1.0},
                     headers={"X-Sandbox-Key": SECRET}, timeout=5)  # fmt: skip
    assert r.json()["rates"]["500"] == 1.0
    with (
        connector_class(m)(settings(url, AUTHS["bearer"][1])) as c,
        pytest.raises(SourceError) as exc,
    ):
        c.http.policy = type(c.http.policy)(max_retries=2, base_delay=0.001, max_sleep=0.01)
        list(c.read("vendors", Window()))
    assert exc.value.status == 500 and exc.value.endpoint == "GET /api/vendors"
    assert "gave up after 2 retries" in str(exc.value)


def test_timeouts_are_retried(served):
    m = manifest(PAGINATORS["cursor"], AUTHS["bearer"][0])
    faults = Faults(1, timeout=0.3, timeout_seconds=1.5)
    url, _ = served(m, faults=faults)
    s = settings(url, AUTHS["bearer"][1], page_size=10)
    s = SourceSettings(**{**s.__dict__, "timeout": 0.5})
    with connector_class(m)(s) as c:
        assert ids(c.read("vendors", Window())) == list(range(N))
    assert faults.counts["timeout"] and c.http.retries == faults.counts["timeout"]


def test_rate_limit_headers_make_the_client_wait_instead_of_429(served):
    m = manifest(PAGINATORS["cursor"], AUTHS["bearer"][0],
                 rate_limit={"remaining": "X-Left", "reset": "X-Reset"})  # fmt: skip
    url, _ = served(m, rate_limit=3, rate_window=1.0)
    with connector_class(m)(settings(url, AUTHS["bearer"][1], page_size=10)) as c:
        assert len(ids(c.read("vendors", Window()))) == N
        assert c.http.rate_limit_waits >= 1 and c.http.retries == 0


def test_extra_requested_fields_from_the_connection(served):
    m = manifest(PAGINATORS["cursor"], AUTHS["bearer"][0])
    url, _ = served(m)
    creds = AUTHS["bearer"][1]
    with connector_class(m)(settings(url, creds, requested_fields={"vendors": ["city"]})) as c:
        assert c.requested_fields("vendors") == ["id", "name", "updatedAt", "city"]
        first = next(iter(c.read("vendors", Window())))[0]
    assert first["city"] == "City 0" and "kind" not in first


class EveryOther(Paginator):
    """A plug-in: offset paging that skips every other page (options: {"step": 2})."""

    def first(self, request: Request) -> Request:
        return request.with_params(offset=0, limit=self.size)

    def next(self, request: Request, body: Any, records: list) -> Request | None:
        if len(records) < self.size:
            return None
        step = int(self.config.options.get("step", 1))
        return request.with_params(offset=int(request.params["offset"]) + step * self.size)


def test_a_paginator_plug_in_named_in_the_manifest(served):
    plug = {
        "kind": "plugin",
        "plugin": f"{__name__}:EveryOther",
        "options": {"step": 2},
        "max_size": 10,
    }
    m = manifest(plug, AUTHS["bearer"][0])
    url, _ = served(manifest(PAGINATORS["offset_limit"], AUTHS["bearer"][0]))
    with connector_class(m)(settings(url, AUTHS["bearer"][1], page_size=10)) as c:
        got = ids(c.read("vendors", Window()))
    assert got == [i for i in range(N) if (i // 10) % 2 == 0]
    bad = manifest(
        {"kind": "plugin", "plugin": "connectors.kit.engine:Request"}, AUTHS["bearer"][0]
    )
    with (
        connector_class(bad)(settings(url, AUTHS["bearer"][1])) as c,
        pytest.raises(ValueError, match="not a Paginator"),
    ):
        list(c.read("vendors", Window()))


class Signed(ManifestConnector):
    """A signing hook: the key header is added to each prepared request (every retry too)."""

    signed = 0

    def prepare(self, prepared) -> None:
        Signed.signed += 1
        prepared.headers["X-Key"] = SECRET


def test_the_prepare_hook_signs_every_attempt(served):
    m = manifest(
        PAGINATORS["cursor"],
        {"kind": "api_key", "in": "header", "name": "X-Key", "credential": "key"},
    )
    faults = Faults(2, fail_500=0.3)
    url, _ = served(m, faults=faults)
    with connector_class(m, Signed)(settings(url, {"key": "not-the-key"}, page_size=10)) as c:
        assert len(ids(c.read("vendors", Window()))) == N
    assert Signed.signed == 6 + faults.counts["500"]
