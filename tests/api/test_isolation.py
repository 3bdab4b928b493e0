"""A token only ever reads its own connection: every endpoint, many connections, shared keys,
OR-filters, cursors, deleted rows and statuses."""

from __future__ import annotations

import pytest

from include.api.query import encode_cursor
from include.model import EAM_ENTITIES, ERP_ENTITIES
from include.store import SyncRun
from tests.api.conftest import api_for, load, make_client

CONNECTIONS = [f"c{i}" for i in range(5)]
ENTITIES = sorted(set(EAM_ENTITIES) | set(ERP_ENTITIES))
STATUS_PATHS = [
    ("eam", "work-orders"), ("eam", "purchase-orders"),
    ("erp", "purchase-orders"), ("erp", "production-orders"),
]  # fmt: skip


def _records(cid: str) -> list[dict]:
    mark = {"owner": cid}
    return [
        {"key": "shared-1", "updatedAt": "2024-01-01T00:00:00Z", "customFields": mark},
        {"key": f"{cid}-own", "updatedAt": "2024-01-02T00:00:00Z", "customFields": mark},
        {"key": f"{cid}-gone", "deletedAt": "2024-01-03T00:00:00Z", "customFields": mark},
    ]


@pytest.fixture(scope="module")
def apis(module_store):
    store = module_store
    for cid in CONNECTIONS:
        for entity in ENTITIES:
            load(store, cid, entity, _records(cid), raw=[{"owner": cid}] * 3)
        for _ns, entity in STATUS_PATHS:
            store.upsert_statuses(cid, entity, [{"key": f"{cid}-st", "name": cid}])
        store.record_run(SyncRun(cid, "work-orders", "r1", "2024-01-01T00:00:00Z",
                                 status="failed" if cid == "c0" else "success"))  # fmt: skip
    with make_client(store) as client:
        yield {cid: api_for(client, store, cid) for cid in CONNECTIONS}


def _paths():
    for ns, entities in (("eam", EAM_ENTITIES), ("erp", ERP_ENTITIES)):
        for entity in entities:
            yield f"/api/{ns}/{entity}"


@pytest.mark.parametrize("path", list(_paths()))
def test_every_resource_is_scoped(apis, path):
    for n, (cid, api) in enumerate(apis.items()):
        other = CONNECTIONS[(n + 1) % len(CONNECTIONS)]
        # every row, deleted ones and remote data included, offset then keyset paging
        body = api.get(path, include_deleted="true", include_remote_data="true").json()
        assert sorted(d["key"] for d in body["data"]) == [f"{cid}-gone", f"{cid}-own", "shared-1"]
        assert {d["customFields"]["owner"] for d in body["data"]} == {cid}
        assert {d["remoteData"]["owner"] for d in body["data"]} == {cid}
        assert body["meta"]["total"] == 3
        cursor = encode_cursor("2000-01-01T00:00:00Z", "")
        body = api.get(path, cursor=cursor, include_deleted="1", modified_after="2000-01-01").json()
        assert [d["key"] for d in body["data"]] == ["shared-1", f"{cid}-own"]
        # an OR filter naming another connection's rows cannot widen the scope
        params = {"filter[key]": f"{other}-own", "filter[customFields.owner]": other}
        r = api.get(path, filterMatch="any", **params)
        assert r.status_code == 200 and r.json()["data"] == [], (cid, path)
        # another connection's key is not found; the shared key is this connection's record
        assert api.get(f"{path}/{other}-own", include_deleted="true").status_code == 404
        shared = api.get(f"{path}/shared-1", include_remote_data="true").json()["data"]
        assert shared["customFields"]["owner"] == cid and shared["remoteData"]["owner"] == cid


def test_statuses_custom_fields_and_integration_are_scoped(apis):
    for cid, api in apis.items():
        for ns, entity in STATUS_PATHS:
            body = api.get(f"/api/{ns}/statuses/{entity}").json()
            assert [d["key"] for d in body["data"]] == [f"{cid}-st"]
        fields = api.get("/api/eam/work-orders/custom-fields").json()["data"]
        assert fields == [{"name": "owner"}]
        data = api.get("/api/integrations/current").json()["data"]
        assert data["id"] == cid
        assert data["sync_status"] == ("error" if cid == "c0" else "fulldone")
