"""Read endpoints on SQLite and PostgreSQL: envelope, paging, filters, sorts, errors, cursor
paging, remote data, deleted records, statuses, custom fields, integration status."""

from __future__ import annotations

import orjson
import pytest

from include.api.query import encode_cursor
from include.config import ConnectionConfig
from include.model import record_defaults
from include.store import SyncRun
from tests.api.conftest import api_for, load, make_client


def _wo(i: int, **extra) -> dict:
    rec = {
        "key": f"wo-{i:03d}",
        "title": f"{'Pump' if i % 2 else 'Valve'} check {i}",
        "status": "OPEN" if i % 3 else "DONE",
        "code": f"C{i}",
        "createdAt": f"2024-01-{1 + i % 28:02d}T08:00:00Z",
        "updatedAt": f"2024-03-01T10:{i:02d}:00Z",
        "dueAt": f"2024-05-{1 + i % 28:02d}T00:00:00Z",
        "customFields": {"priorityCode": f"P{i % 3}"},
    }
    rec.update(extra)
    return rec


WORK_ORDERS = [_wo(i) for i in range(1, 29)]
WORK_ORDERS.append(_wo(29, updatedAt=None))
WORK_ORDERS.append(_wo(30, updatedAt=None))
WORK_ORDERS.append(_wo(31, deletedAt="2024-03-02T00:00:00Z"))
LIVE = sorted(r["key"] for r in WORK_ORDERS if not r.get("deletedAt"))


@pytest.fixture(scope="module")
def store(module_store):
    return module_store


@pytest.fixture(scope="module")
def api(store):
    load(store, "acme", "work-orders", WORK_ORDERS, raw=[{"wonum": r["key"]} for r in WORK_ORDERS])
    stocks = [
        {"key": f"st-{i}", "quantity": float(i * 10), "materialKey": f"m-{i}"} for i in range(1, 6)
    ]
    load(store, "acme", "stocks", stocks)
    assets = [{"key": f"as-{i}", "isActive": i % 2 == 0, "name": f"A{i}"} for i in range(1, 5)]
    load(store, "acme", "assets", assets)
    load(store, "other", "work-orders", [_wo(1, title="Other's secret")])
    cfg = ConnectionConfig(
        id="acme", customer="Acme Corp", system="maintainx", airflow_conn_id="mx",
        custom_fields={"work-orders": {"priorityCode": "extra.p", "area": "loc.area"}},
    )  # fmt: skip
    with make_client(store, lambda cid: cfg if cid == "acme" else None) as client:
        yield api_for(client, store, "acme")


def _keys(resp) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [r["key"] for r in resp.json()["data"]]


def test_envelope_paging_and_verbatim_records(api):
    r = api.get("/api/eam/work-orders", per_page="10", page="2")
    body = r.json()
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert [d["key"] for d in body["data"]] == LIVE[10:20]
    meta = body["meta"]
    assert meta == {
        "current_page": 2, "from": 11, "last_page": 3, "path": meta["path"], "per_page": 10,
        "to": 20, "total": 30,
    }  # fmt: skip
    assert meta["path"].endswith("/api/eam/work-orders")
    links = body["links"]
    assert "page=1" in links["first"] and "page=3" in links["last"]
    assert (
        "page=1" in links["prev"] and "page=3" in links["next"] and "per_page=10" in links["next"]
    )
    stored = {r["key"]: r for r in WORK_ORDERS}
    for rec in body["data"]:
        # served as stored: every field of the model, null when not given, customFields too
        assert rec == {**record_defaults("work-orders"), **stored[rec["key"]]}
        assert "remoteData" not in rec
    last = api.get("/api/eam/work-orders", per_page="10", page="3").json()
    assert last["links"]["next"] is None and last["meta"]["to"] == 30
    beyond = api.get("/api/eam/work-orders", per_page="10", page="9").json()
    assert beyond["data"] == [] and beyond["meta"]["from"] is None
    assert beyond["meta"]["total"] == 30
    default = api.get("/api/eam/work-orders").json()
    assert default["meta"]["per_page"] == 25 and len(default["data"]) == 25


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"filter[status]": "DONE"}, [f"wo-{i:03d}" for i in range(3, 31, 3)]),
        (
            {"filter[title:contains]": "PUMP CHECK 1"},
            ["wo-001", "wo-011", "wo-013", "wo-015", "wo-017", "wo-019"],
        ),
        (
            {"filter[title:startsWith]": "valve check 2"},
            ["wo-002", "wo-020", "wo-022", "wo-024", "wo-026", "wo-028"],
        ),
        ({"filter[key]": "wo-007"}, ["wo-007"]),
        ({"filter[key:startsWith]": "wo-00"}, [f"wo-00{i}" for i in range(1, 10)]),
        ({"filter[updatedAt:gt]": "2024-03-01T10:26:00Z"}, ["wo-027", "wo-028"]),
        ({"filter[updatedAt:gteq]": "2024-03-01T10:26:00Z"}, ["wo-026", "wo-027", "wo-028"]),
        ({"filter[updatedAt:lt]": "2024-03-01T10:02:00Z"}, ["wo-001"]),
        ({"filter[updatedAt:lted]": "2024-03-01T10:02:00Z"}, ["wo-001", "wo-002"]),
        ({"filter[updatedAt:lteq]": "2024-03-01T12:02:00+02:00"}, ["wo-001", "wo-002"]),
        ({"filter[createdAt:gteq]": "2024-01-28"}, ["wo-027", "wo-055"][:1]),
        ({"filter[dueAt:gt]": "2024-05-28T00:00:00Z"}, []),
        ({"filter[dueAt:gteq]": "2024-05-28"}, ["wo-027"]),
        (
            {"filter[customFields.priorityCode]": "P0", "filter[title:contains]": "pump"},
            ["wo-003", "wo-009", "wo-015", "wo-021", "wo-027"],
        ),
        (
            {"filter[key]": "wo-001", "filter[code]": "C2", "filterMatch": "any"},
            ["wo-001", "wo-002"],
        ),
        ({"filter[key]": "wo-001", "filter[code]": "C2", "filterMatch": "all"}, []),
        ({"filter[title:contains]": "100%_"}, []),
    ],
)
def test_filters(api, params, expected):
    assert _keys(api.get("/api/eam/work-orders", per_page="100", **params)) == expected


def test_filter_total_is_a_count(api):
    body = api.get("/api/eam/work-orders", **{"filter[status]": "DONE", "per_page": "3"}).json()
    assert body["meta"]["total"] == 10 and body["meta"]["last_page"] == 4


def test_number_and_bool_filters(api):
    stocks = "/api/eam/stocks"
    assert _keys(api.get(stocks, **{"filter[quantity:gt]": "20"})) == ["st-3", "st-4", "st-5"]
    assert _keys(api.get(stocks, **{"filter[quantity]": "20"})) == ["st-2"]
    assert _keys(api.get(stocks, **{"filter[quantity:lteq]": "1e1"})) == ["st-1"]
    assert _keys(api.get(stocks, **{"sort[quantity]": "1"}))[:2] == ["st-5", "st-4"]
    assets = "/api/eam/assets"
    assert _keys(api.get(assets, **{"filter[isActive]": "true"})) == ["as-2", "as-4"]
    assert _keys(api.get(assets, **{"filter[isActive]": "0"})) == ["as-1", "as-3"]


def test_sorts(api):
    keys = _keys(api.get("/api/eam/work-orders", per_page="100", **{"sort[updatedAt]": "1"}))
    assert keys[:3] == ["wo-028", "wo-027", "wo-026"] and keys[-2:] == ["wo-029", "wo-030"]
    keys = _keys(api.get("/api/eam/work-orders", per_page="100", **{"sort[updatedAt]": "0"}))
    assert keys[:2] == ["wo-001", "wo-002"] and keys[-2:] == ["wo-029", "wo-030"]  # NULLs last
    keys = _keys(
        api.get("/api/eam/work-orders", per_page="4", **{"sort[status]": "0", "sort[key]": "1"})
    )
    assert keys == ["wo-030", "wo-027", "wo-024", "wo-021"]
    assert _keys(api.get("/api/eam/work-orders", **{"sort[key]": "1"}))[0] == "wo-030"


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"filter[nope]": "x"}, ("filter[nope]", "unknown field 'nope'")),
        ({"filter[title:like]": "x"}, ("filter[title:like]", "unknown operator 'like'")),
        ({"filter[updatedAt:gt]": "yesterday"}, ("filter[updatedAt:gt]", "not a date/time")),
        ({"filter[customFields]": "x"}, ("filter[customFields]", "not filterable")),
        ({"sort[title]": "2"}, ("sort[title]", "0 (ascending) or 1")),
        ({"sort[bogus]": "1"}, ("sort[bogus]", "unknown field")),
        ({"per_page": "1001"}, ("per_page", "1000")),
        ({"per_page": "0"}, ("per_page",)),
        ({"page": "0"}, ("page",)),
        ({"page": "x"}, ("page",)),
        ({"filterMatch": "some"}, ("filterMatch",)),
        ({"include_deleted": "maybe"}, ("include_deleted",)),
        ({"cursor": "garbage!"}, ("cursor", "not a cursor")),
        ({"cursor": "", "page": "2"}, ("cursor", "not both")),
        ({"cursor": "", "sort[title]": "1"}, ("cursor", "sort")),
        ({"modified_after": "soon"}, ("modified_after", "not a date/time")),
        ({"limit": "5"}, ("limit", "unknown query parameter")),
    ],
)
def test_bad_list_parameters_are_400_naming_them(api, params, names):
    r = api.get("/api/eam/work-orders", **params)
    assert r.status_code == 400, r.text
    body = r.json()
    for needle in names:
        assert needle in body["message"]
    assert body["errors"] and names[0] in body["errors"]


def test_type_errors_on_number_and_bool_fields(api):
    for params, needle in [
        ({"filter[quantity]": "ten"}, "not a number"),
        ({"filter[quantity]": "nan"}, "not a number"),
        ({"filter[quantity:contains]": "1"}, "applies to text fields"),
    ]:
        r = api.get("/api/eam/stocks", **params)
        assert r.status_code == 400 and needle in r.json()["message"], r.text
    r = api.get("/api/eam/assets", **{"filter[isActive:gt]": "true"})
    assert r.status_code == 400 and "boolean" in r.json()["message"]
    r = api.get("/api/eam/assets", **{"filter[isActive]": "yes please"})
    assert r.status_code == 400 and "filter[isActive]" in r.json()["errors"]


def test_remote_data_and_deleted(api):
    body = api.get("/api/eam/work-orders", include_remote_data="true", per_page="2").json()
    assert [d["remoteData"] for d in body["data"]] == [{"wonum": "wo-001"}, {"wonum": "wo-002"}]
    keys = _keys(api.get("/api/eam/work-orders", include_deleted="true", per_page="100"))
    assert "wo-031" in keys and len(keys) == 31
    total = api.get("/api/eam/work-orders", include_deleted="1").json()["meta"]["total"]
    assert total == 31
    assert api.get("/api/eam/work-orders/wo-031").status_code == 404
    one = api.get("/api/eam/work-orders/wo-031", include_deleted="true").json()["data"]
    assert one["deletedAt"] == "2024-03-02T00:00:00Z"


def test_single_record(api):
    r = api.get("/api/eam/work-orders/wo-005")
    assert r.status_code == 200 and r.json() == {
        "data": {**record_defaults("work-orders"), **_wo(5)}
    }
    r = api.get("/api/eam/work-orders/wo-005", include_remote_data="true")
    assert r.json()["data"]["remoteData"] == {"wonum": "wo-005"}
    r = api.get("/api/eam/work-orders/nope")
    assert r.status_code == 404 and r.json()["message"] == "work-orders 'nope' not found"
    r = api.get("/api/eam/work-orders/wo-005", page="2")
    assert r.status_code == 400 and "page" in r.json()["errors"]
    assert api.get("/api/eam/assets/wo-005").status_code == 404  # other entity
    assert api.get("/api/erp/stocks/st-1").json()["data"]["quantity"] == 10.0


def test_cursor_walk_covers_every_record_once(api):
    seen, cursor, pages = [], "", 0
    while cursor is not None:
        body = api.get("/api/eam/work-orders", cursor=cursor, per_page="7").json()
        seen += [d["key"] for d in body["data"]]
        assert body["meta"]["total"] == 30 and body["meta"]["per_page"] == 7
        cursor = body["meta"]["next_cursor"]
        assert (cursor is None) == (body["links"]["next"] is None)
        pages += 1
    assert pages == 5 and len(seen) == 30 and len(set(seen)) == 30
    assert seen[:2] == ["wo-001", "wo-002"] and seen[-2:] == ["wo-029", "wo-030"]  # NULLs last


def test_cursor_with_modified_after_and_filters(api):
    params = {"modified_after": "2024-03-01T10:20:00Z", "per_page": "5", "cursor": ""}
    first = api.get("/api/eam/work-orders", **params).json()
    assert [d["key"] for d in first["data"]] == [f"wo-0{i}" for i in range(21, 26)]
    assert first["meta"]["total"] is None  # no O(n) count in cursor mode with a filter
    second = api.get(
        "/api/eam/work-orders", **{**params, "cursor": first["meta"]["next_cursor"]}
    ).json()
    assert [d["key"] for d in second["data"]] == ["wo-026", "wo-027", "wo-028"]
    assert second["meta"]["next_cursor"] is None
    flt = {"filter[status]": "DONE", "cursor": encode_cursor("2024-03-01T10:20:00Z", "wo-020")}
    assert _keys(api.get("/api/eam/work-orders", **flt)) == ["wo-021", "wo-024", "wo-027", "wo-030"]
    offset = api.get("/api/eam/work-orders", modified_after="2024-03-01T10:26:00Z").json()
    assert [d["key"] for d in offset["data"]] == ["wo-027", "wo-028"]
    assert offset["meta"]["total"] == 2


def test_statuses(api, store):
    store.upsert_statuses("acme", "work-orders", [
        {"key": "OPEN", "name": "Open", "code": "OPEN", "isActive": True},
        {"key": "DONE", "name": "Done", "code": "DONE", "isActive": False},
    ])  # fmt: skip
    store.upsert_statuses("other", "work-orders", [{"key": "SECRET", "name": "x"}])
    store.upsert_statuses("acme", "production-orders", [{"key": "RUN", "name": "Running"}])
    assert _keys(api.get("/api/eam/statuses/work-orders")) == ["DONE", "OPEN"]
    assert _keys(api.get("/api/eam/statuses/work-orders", **{"filter[name:contains]": "op"})) == [
        "OPEN"
    ]
    assert _keys(api.get("/api/eam/statuses/work-orders", **{"filter[isActive]": "false"})) == [
        "DONE"
    ]
    assert _keys(api.get("/api/eam/statuses/work-orders", **{"sort[name]": "1"})) == [
        "OPEN",
        "DONE",
    ]
    assert _keys(api.get("/api/eam/statuses/purchase-orders")) == []
    assert _keys(api.get("/api/erp/statuses/production-orders")) == ["RUN"]
    body = api.get("/api/eam/statuses/work-orders", per_page="1", page="2").json()
    assert body["meta"]["total"] == 2 and [d["key"] for d in body["data"]] == ["OPEN"]
    bad = api.get("/api/eam/statuses/work-orders", cursor="")
    assert bad.status_code == 400 and "cursor" in bad.json()["errors"]
    assert api.get("/api/eam/statuses/work-orders", **{"filter[x]": "1"}).status_code == 400


def test_custom_fields_from_config_then_from_records(api, store):
    body = api.get("/api/eam/work-orders/custom-fields").json()
    assert body["data"] == [{"name": "area"}, {"name": "priorityCode"}]
    assert body["meta"]["total"] == 2
    # no config for this connection: names seen in its stored records
    load(store, "solo", "work-orders", [_wo(1, customFields={"zeta": 1, "alpha": "x"})])
    solo = api_for(api.client, store, "solo")
    assert solo.get("/api/eam/work-orders/custom-fields").json()["data"] == [
        {"name": "alpha"}, {"name": "zeta"}
    ]  # fmt: skip


def test_integration_status(api, store):
    def run(entity, run_id, status, start, window_start=None, error=None, failure=None):
        store.record_run(SyncRun(
            connection_id="acme", entity=entity, run_id=run_id, started_at=start,
            finished_at=None if status == "running" else start, status=status,
            window_start=window_start, error=error, failure=failure,
        ))  # fmt: skip

    cur = lambda: api.get("/api/integrations/current").json()["data"]  # noqa: E731
    assert cur()["sync_status"] == "inprogress"
    run("work-orders", "r1", "running", "2024-06-01T00:00:00Z")
    assert cur()["sync_status"] == "inprogress"
    run("work-orders", "r1", "success", "2024-06-01T00:00:00Z")
    run("assets", "r1", "success", "2024-06-01T00:00:00Z")
    data = cur()
    assert data["sync_status"] == "fulldone" and data["id"] == "acme"
    assert data["company_name"] == "Acme Corp" and data["provider"] == "maintainx"
    run("assets", "r2", "success", "2024-06-01T01:00:00Z", window_start="2024-06-01T00:00:00Z")
    assert cur()["sync_status"] == "fulldone"  # full read done before
    run("stocks", "r2", "success", "2024-06-01T01:00:00Z", window_start="2024-06-01T00:00:00Z")
    assert cur()["sync_status"] == "done"  # stocks never had a full read
    run(
        "stocks",
        "r3",
        "failed",
        "2024-06-01T02:00:00Z",
        error="SourceError: HTTP 500",
        failure="error",
    )
    data = cur()
    assert data["sync_status"] == "error" and data["sync_updated_at"] == "2024-06-01T02:00:00Z"
    stocks = next(e for e in data["entities"] if e["entity"] == "stocks")
    assert stocks["last_success_at"] == "2024-06-01T01:00:00Z" and stocks["status"] == "failed"
    run(
        "stocks",
        "r4",
        "failed",
        "2024-06-01T03:00:00Z",
        error="HTTP 401 Unauthorized",
        failure="auth",
    )
    assert cur()["sync_status"] == "fail" and cur()["sync_error"] == "stocks: HTTP 401 Unauthorized"
    run("stocks", "r5", "running", "2024-06-01T04:00:00Z")
    assert cur()["sync_status"] == "fail"  # until a later run succeeds
    run("stocks", "r5", "success", "2024-06-01T04:00:00Z")  # a full read this time
    assert cur()["sync_status"] == "fulldone" and cur()["sync_error"] is None
    other = api_for(api.client, store, "other")
    assert other.get("/api/integrations/current").json()["data"]["sync_status"] == "inprogress"


def test_unknown_routes_and_methods_are_json_4xx(api):
    r = api.get("/api/eam/nothing-here")
    assert r.status_code == 404 and r.json()["message"] == "Not Found"
    r = api.client.post("/api/eam/work-orders", headers={"Authorization": f"Bearer {api.token}"})
    assert r.status_code == 405 and "message" in r.json()
    raw = api.get("/api/eam/work-orders", **{"filter[title]": "x" * 10})
    assert orjson.loads(raw.content)["data"] == []
