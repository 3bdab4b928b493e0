"""The resources issue 15 added for MaintainX, end to end: the sandbox (MaintainX's wire format),
the connector, the pipeline, a SQLite store and the API. Each test checks the values a unified
record carries against the source record it came from; the incremental ones change a record at
the source and check that the next scheduled run (a window on updatedAt) brings the change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from connectors.base import SourceSettings
from connectors.maintainx import CONNECTOR as MaintainX
from connectors.maintainx.mapping import STATUS_CATEGORIES
from connectors.maintainx.sandbox import DEFAULT_API_KEY, start_sandbox
from include.api import create_app, issue_token
from include.config import ConnectionConfig
from include.model.timeutil import format_utc, to_utc_iso, utcnow, zone
from include.store import Store
from include.sync import pipeline
from include.sync.statuses import refresh_statuses
from tests.test_related_records import sync_run

pytestmark = pytest.mark.integration
ENTITIES = [
    "labors", "users", "companies", "asset-templates", "assets-downtime", "service-requests",
    "inventories", "work-orders", "work-orders.materials", "assets", "assets.materials",
    "documents",
]  # fmt: skip


@pytest.fixture
def mx() -> Iterator[tuple[Any, Any]]:
    url, handle = start_sandbox(0, seed=11, size=300)
    settings = SourceSettings(
        connection_id="mx-cov", host=url, credentials={"api_key": DEFAULT_API_KEY},
        timezone=zone("UTC"), page_size=100,
    )  # fmt: skip
    src = MaintainX(settings)
    try:
        yield handle, src
    finally:
        src.close()
        handle.stop()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'store.db'}")
    s.migrate()
    yield s
    s.close()


CFG = ConnectionConfig(id="mx-cov", customer="acme", system="maintainx",
                       airflow_conn_id="unused", entities=ENTITIES)  # fmt: skip


def _sync(store: Store, src: Any, tmp: Path, entity: str, full: bool = True) -> dict:
    """One run of ``entity`` (tests/test_related_records.py's), nothing quarantined."""
    summary = sync_run(store, CFG, src, tmp, full, entity)
    assert summary["quarantined"] == 0, summary
    return summary


def _get(store: Store, path: str, **params: str) -> list[dict]:
    """Every record the API lists at ``path`` (one page of up to 1000)."""
    api = TestClient(create_app(store, config_provider=lambda c: CFG if c == CFG.id else None))
    r = api.get(
        path,
        params={"per_page": "1000", **params},
        headers={"Authorization": f"Bearer {issue_token(store.engine, CFG.id)}"},
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert len(data) < 1000  # one page holds them all
    return data


def _since() -> str:
    now = utcnow()
    return format_utc(
        now.replace(microsecond=now.microsecond // 1000 * 1000) - timedelta(milliseconds=1)
    )


def _all(handle: Any, path: str) -> list[dict]:
    """Every record of a sandbox collection, as ``GET <path>/<id>`` shows it."""
    coll = handle.world.collections[path]
    ids = [coll.id_of(i) for i in range(coll.size)]
    return [handle.record(path, i) for i in ids if coll.index_of(i) is not None]


def _ts(value: str | None) -> str | None:
    return to_utc_iso(value, zone("UTC"))


# ------------------------------------------------------------------------- snapshots


def test_service_requests_carry_the_work_request_and_its_status_category(mx, store, tmp_path):
    handle, src = mx
    _sync(store, src, tmp_path, "service-requests")
    served = {r["key"]: r for r in _get(store, "/api/eam/service-requests")}
    source = _all(handle, "/workrequests")
    assert len(served) == len(source) > 10
    for wr in source:
        r = served[str(wr["id"])]
        assert (r["title"], r["description"], r["status"], r["severity"]) == (
            wr["title"], wr["description"], wr["requestStatus"], wr["priority"])  # fmt: skip
        assert r["statusCategory"] == STATUS_CATEGORIES["service-requests"][wr["requestStatus"]]
        assert r["workOrderKey"] == (str(wr["workOrderId"]) if wr["workOrderId"] else None)
        assert r["assetKey"] == (str(wr["assetId"]) if wr["assetId"] else None)
        assert r["locationKey"] == str(wr["locationId"])
        assert r["teamKey"] == (str(wr["approverTeamId"]) if wr["approverTeamId"] else None)
        assert r["createdAt"] == _ts(wr["createdAt"]) and r["updatedAt"] == _ts(wr["updatedAt"])
        assert [(d["key"], d["url"], d["contentType"]) for d in r["documents"]] == [
            (str(a["id"]), a["url"], a["mimeType"]) for a in wr["attachments"]]  # fmt: skip
    # approved requests became work orders: the category filter finds exactly them
    converted = _get(store, "/api/eam/service-requests", **{"filter[statusCategory]": "converted"})
    want = {str(w["id"]) for w in source if w["requestStatus"] == "APPROVED"}
    assert {r["key"] for r in converted} == want and want
    assert all(r["workOrderKey"] for r in converted)
    # the status list (manifest.yaml's static list) with each status's category
    refresh_statuses(store, CFG, src)
    rows = _get(store, "/api/eam/statuses/service-requests")
    assert {r["code"]: r["statusCategory"] for r in rows} == {
        "PENDING": "open", "APPROVED": "converted", "REJECTED": "rejected", "DONE": "closed"}  # fmt: skip


def test_assets_downtime_is_each_offline_period(mx, store, tmp_path):
    handle, src = mx
    _sync(store, src, tmp_path, "assets-downtime")
    served = {r["key"]: r for r in _get(store, "/api/eam/assets-downtime")}
    periods = _all(handle, "/assetstatuses")
    offline = [p for p in periods if p["status"] == "OFFLINE"]
    assert 0 < len(offline) < len(periods)  # ONLINE and IGNORE periods are not downtime
    assert set(served) == {str(p["id"]) for p in offline}
    for p in offline:
        r = served[str(p["id"])]
        assert r["assetKey"] == str(p["assetId"])
        assert (r["startedAt"], r["endedAt"]) == (_ts(p["startedAt"]), _ts(p["endedAt"]))
        assert (r["categoryName"], r["description"]) == (p["downtimeType"], p["description"])
    assert any(r["endedAt"] is None for r in served.values())  # still down
    assert {r["categoryName"] for r in served.values()} == {"PLANNED", "UNPLANNED"}


def test_labors_are_the_users_work_can_be_assigned_to(mx, store, tmp_path):
    handle, src = mx
    for entity in ("labors", "users"):
        _sync(store, src, tmp_path, entity)
    labors = {r["key"]: r for r in _get(store, "/api/eam/labors")}
    users = {r["key"]: r for r in _get(store, "/api/eam/users")}
    source = _all(handle, "/users")
    assignable = {str(u["id"]): u for u in source if u["role"] != "REQUESTER"}
    assert set(labors) == set(assignable) and len(assignable) < len(source) == len(users)
    for key, u in assignable.items():
        r = labors[key]
        assert (r["firstName"], r["lastName"], r["roleName"]) == (
            u["firstName"], u["lastName"], u["role"])  # fmt: skip
        assert r["userKey"] == key and users[key]["name"] == r["name"]


def test_asset_templates_are_models_with_their_manufacturer(mx, store, tmp_path):
    handle, src = mx
    for entity in ("companies", "asset-templates", "assets"):
        _sync(store, src, tmp_path, entity)
    companies = {r["key"]: r for r in _get(store, "/api/eam/companies")}
    makers = {m["id"]: m["name"] for m in _all(handle, "/manufacturers")}
    assert {k: r["name"] for k, r in companies.items()} == {str(i): n for i, n in makers.items()}
    assert all(r["organizationKey"] == "4242" for r in companies.values())
    templates = {r["key"]: r for r in _get(store, "/api/eam/asset-templates")}
    models = _all(handle, "/models")
    assert len(templates) == len(models)
    for m in models:
        r = templates[str(m["id"])]
        assert (r["name"], r["manufacturerName"]) == (m["name"], makers.get(m["manufacturerId"]))
    assert any(r["manufacturerName"] is None for r in templates.values())  # a maker-less model
    # an asset's make and model name one of them
    names = {(r["manufacturerName"], r["name"]) for r in templates.values()}
    for a in _get(store, "/api/eam/assets")[:50]:
        assert (a["makeName"], a["modelName"]) in names


# ----------------------------------------------------------------------- incremental


def test_inventories_per_part_and_location_follow_a_part_edit(mx, store, tmp_path):
    handle, src = mx
    _sync(store, src, tmp_path, "inventories")
    served = {r["key"]: r for r in _get(store, "/api/eam/inventories")}
    parts = _all(handle, "/parts")
    assert len(served) == sum(len(p["locations"]) for p in parts)
    p = parts[3]
    for loc in p["locations"]:
        r = served[f"{p['id']}:{loc['locationId']}"]
        assert (r["name"], r["code"], r["locationKey"]) == (
            p["name"], p["barcode"], str(loc["locationId"]))  # fmt: skip
        assert r["quantity"] == loc["availableQuantity"]
        assert r["unitCost"] == pytest.approx(p["unitCost"] / 100)  # cents -> currency units
    locs = [dict(x) for x in p["locations"]]
    locs[0]["availableQuantity"] = 4321
    since = _since()
    handle.change("/parts", p["id"], locations=locs, unitCost=12345)
    summary = _sync(store, src, tmp_path, "inventories", full=False)
    assert summary["full"] is False
    changed = _get(store, "/api/eam/inventories", modified_after=since)
    assert {r["key"] for r in changed} == {f"{p['id']}:{x['locationId']}" for x in locs}
    first = next(r for r in changed if r["locationKey"] == str(locs[0]["locationId"]))
    assert first["quantity"] == 4321 and first["unitCost"] == 123.45


def _wo_with_parts(handle: Any, n: int = 0) -> dict:
    return [w for w in _all(handle, "/workorders") if w["parts"]][n]


def test_work_order_parts_are_its_materials_and_follow_its_edits(mx, store, tmp_path):
    handle, src = mx
    _sync(store, src, tmp_path, "work-orders.materials")
    orders = _all(handle, "/workorders")
    assert sum(len(w["parts"]) for w in orders) == store.count(CFG.id, "work-orders.materials")
    wo = _wo_with_parts(handle)
    served = _get(store, f"/api/eam/work-orders/{wo['id']}/materials")
    assert {(r["materialKey"], r["name"], r["quantity"]) for r in served} == {
        (str(p["id"]), p["name"], p["quantityUsed"]) for p in wo["parts"]}  # fmt: skip
    assert all(r["workOrderKey"] == str(wo["id"]) for r in served)
    # a part used on the work order: its updatedAt moves, the next run brings the quantity
    parts = [dict(p) for p in wo["parts"]]
    parts[0]["quantityUsed"] = 9
    since = _since()
    handle.change("/workorders", wo["id"], parts=parts)
    assert _sync(store, src, tmp_path, "work-orders.materials", full=False)["full"] is False
    changed = _get(store, "/api/eam/work-orders/materials", modified_after=since)
    assert {r["workOrderKey"] for r in changed} == {str(wo["id"])}
    assert {r["materialKey"]: r["quantity"] for r in changed}[str(parts[0]["id"])] == 9
    # a part taken off the work order: the reconciliation (a key listing) soft-deletes it
    handle.change("/workorders", wo["id"], parts=parts[1:])
    assert pipeline.reconcile_from_source(store, CFG, src, "work-orders.materials") == 1
    gone = store.get_record(CFG.id, "work-orders.materials", f"{wo['id']}:{parts[0]['id']}")
    assert gone["deleted_at"] is not None


def test_parts_linked_to_assets_are_asset_materials_and_follow_a_part_edit(mx, store, tmp_path):
    handle, src = mx
    _sync(store, src, tmp_path, "assets.materials")
    parts = _all(handle, "/parts")
    assert sum(len(p["assetIds"]) for p in parts) == store.count(CFG.id, "assets.materials") > 0
    listed = {
        (r["assetId"], r["partId"]) for page in src.read_keys("assets.materials") for r in page
    }
    assert listed == {(a, p["id"]) for p in parts for a in p["assetIds"]}
    linked = next(p for p in parts if p["assetIds"])
    asset = linked["assetIds"][0]
    served = _get(store, f"/api/eam/assets/{asset}/materials")
    mine = {str(p["id"]): p for p in parts if asset in p["assetIds"]}
    assert {r["materialKey"] for r in served} == set(mine)
    for r in served:
        p = mine[r["materialKey"]]
        assert r["assetKey"] == str(asset) and r["name"] == p["name"]
        assert r["partNumber"] == p["vendors"][0]["partNumber"]
    # linking a part to another asset is an edit of the part: the next run brings the link
    other = next(a for a in _all(handle, "/assets") if a["id"] not in linked["assetIds"])
    since = _since()
    handle.change("/parts", linked["id"], assetIds=[*linked["assetIds"], other["id"]])
    assert _sync(store, src, tmp_path, "assets.materials", full=False)["full"] is False
    changed = _get(store, f"/api/eam/assets/{other['id']}/materials", modified_after=since)
    assert [(r["materialKey"], r["name"]) for r in changed] == [(str(linked["id"]), linked["name"])]
    # the part's other links are dated by the same edit; nothing else changed
    still = _get(store, f"/api/eam/assets/{asset}/materials", modified_after=since)
    assert [r["materialKey"] for r in still] == [str(linked["id"])]


def test_documents_are_work_order_attachments_and_follow_an_upload(mx, store, tmp_path):
    handle, src = mx
    _sync(store, src, tmp_path, "documents")
    orders = _all(handle, "/workorders")
    files = {a["id"]: (w, a) for w in orders for a in w["attachments"]}
    served = {r["key"]: r for r in _get(store, "/api/eam/documents")}
    assert set(served) == {str(i) for i in files} and files
    # a key listing reads the details too: the same keys (what a reconciliation compares)
    assert {r["id"] for page in src.read_keys("documents") for r in page} == set(files)
    for aid, (w, a) in list(files.items())[:20]:
        r = served[str(aid)]
        assert (r["name"], r["url"], r["contentType"]) == (a["fileName"], a["url"], a["mimeType"])
        assert r["entityKeys"] == [str(w["id"])] and r["createdAt"] == _ts(a["createdAt"])
    # an upload is an edit of the work order: the next run lists the new file
    wo = next(w for w in orders if not w["attachments"])
    new = {"id": 987654321, "mimeType": "application/pdf", "fileName": "inspection.pdf",
           "url": "https://files.example.com/attachments/987654321/inspection.pdf",
           "createdAt": "2025-06-01T08:00:00.000Z", "width": None, "height": None}  # fmt: skip
    since = _since()
    handle.change("/workorders", wo["id"], attachments=[new])
    assert _sync(store, src, tmp_path, "documents", full=False)["full"] is False
    changed = _get(store, "/api/eam/documents", modified_after=since)
    assert [(r["key"], r["name"], r["entityKeys"]) for r in changed] == [
        ("987654321", "inspection.pdf", [str(wo["id"])])]  # fmt: skip
    # a work order deleted between the list and its detail read is left out (404), not an error
    a, b = [w for w in orders if w["attachments"]][:2]
    handle.delete("/workorders", a["id"])
    rows = src.attachment_rows("documents", [{"id": a["id"]}, {"id": b["id"]}])
    assert {r["workOrderId"] for r in rows} == {b["id"]}
