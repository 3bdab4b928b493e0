"""Limble, issue 15: every Makini EAM resource Limble has, read through the sandbox and mapped;
the values of the unified records are checked against the sandbox's own records (Limble's wire
format: ids, Unix seconds, text numbers, ``YYYY-MM-DD HH:MM:SS`` work request times)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from connectors.base import SourceSettings, Window
from connectors.limble import CONNECTOR
from connectors.limble.sandbox import start_sandbox
from include.config.coverage import system_coverage
from include.mapping.compiled import CompiledMapping
from include.model import list_adapter

AUTH = ("sbx", "sbx-secret")
UTC_ZONE = ZoneInfo("UTC")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[str, Any]]:
    url, handle = start_sandbox(seed=6, size=300, client_id=AUTH[0], secret=AUTH[1])
    try:
        yield url, handle
    finally:
        handle.stop()


def connector(url: str, page_size: int = 40) -> Any:
    return CONNECTOR(SourceSettings("t", url, {"user": AUTH[0], "password": AUTH[1]}, UTC_ZONE,
                                    page_size=page_size, options={"retry_base_delay": 0.01}))  # fmt: skip


def unified(url: str, entity: str, window: Window | None = None, page_size: int = 40) -> dict:
    """{key: unified record} of ``entity`` read through the sandbox, validated by the model."""
    cm = CompiledMapping(CONNECTOR.entities[entity].mapping, UTC_ZONE, entity=entity,
                         status_categories=CONNECTOR.status_categories.get(entity))  # fmt: skip
    with connector(url, page_size) as c:
        raws = [r for page in c.read(entity, window or Window()) for r in page]
    out = {}
    for raw in raws:
        key, _, _, data = cm.row(raw)
        assert key not in out, f"{entity}: key {key} twice"
        out[key] = {**data, "key": key}
    list_adapter(entity).validate_python(list(out.values()))
    return out


def iso(secs: int) -> str:
    return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def get(url: str, path: str, **params: object) -> requests.Response:
    return requests.get(f"{url}/v2{path}", params=params, auth=AUTH, timeout=10)


def test_no_makini_resource_is_left_not_yet() -> None:
    cells = system_coverage("limble")
    assert [c["resource"] for c in cells if c["coverage"] == "not_yet"] == []
    no = {c["resource"]: c["reason"] for c in cells if c["coverage"] == "no_concept"}
    assert set(no) == {"locations", "companies", "customers", "asset-templates",
                       "asset-templates.materials", "return-orders", "materials.children"}  # fmt: skip
    assert "sites" in no["locations"] and "vendors" in no["companies"]


def test_parts_on_tasks_split_into_work_orders_and_pms(sandbox: tuple[str, Any]) -> None:
    url, h = sandbox
    templates = {t["taskID"] for t in h.records("/tasks") if t["template"]}
    rel = {str(r["relationID"]): r for r in h.records("/tasks/parts")}
    wo, pm = unified(url, "work-orders.materials"), unified(url, "pm.materials")
    assert wo and pm and set(wo).isdisjoint(pm)
    assert set(wo) | set(pm) == set(rel)
    assert {k for k, r in rel.items() if r["taskID"] in templates} == set(pm)
    for key, m in wo.items():
        src = rel[key]
        assert m["workOrderKey"] == str(src["taskID"]) and m["pmKey"] is None
        assert m["materialKey"] == str(src["partID"]) and m["name"] == src["partName"]
        assert m["quantity"] == float(src["quantity"]) and m["updatedAt"] == iso(src["lastEdited"])
    for key, m in pm.items():
        assert m["pmKey"] == str(rel[key]["taskID"]) and m["workOrderKey"] is None


def test_parts_on_assets_read_in_windows(sandbox: tuple[str, Any]) -> None:
    url, h = sandbox
    rel = {str(r["relationID"]): r for r in h.records("/assets/parts")}
    got = unified(url, "assets.materials", page_size=25)
    assert set(got) == set(rel)
    for key, m in got.items():
        src = rel[key]
        assert (m["assetKey"], m["materialKey"], m["quantity"]) == (
            str(src["assetID"]), str(src["partID"]), float(src["qty"]))  # fmt: skip
        assert m["createdAt"] == iso(src["createdAt"])
    one = next(iter(rel.values()))
    changed = h.update("/assets/parts", one["relationID"], qty=97)
    start = datetime.fromtimestamp(changed["lastEdited"], UTC)  # exactly the window start
    window = unified(url, "assets.materials", Window(start, datetime(2030, 1, 1, tzinfo=UTC)))
    assert window[str(one["relationID"])]["quantity"] == 97.0
    assert len(window) < len(got)


def test_meters_are_number_asset_fields_and_readings_their_history(
    sandbox: tuple[str, Any],
) -> None:
    url, h = sandbox
    numbers = {str(v["valueID"]): v for v in h.records("/assets/fields")
               if v["fieldType"] == "Number"}  # fmt: skip
    meters = unified(url, "meters")
    assert meters and set(meters) == set(numbers)
    for key, m in meters.items():
        v = numbers[key]
        assert m["name"] == v["field"] == "Run Hours"
        assert m["assetKeys"] == [str(v["assetID"])] and m["siteKey"] == str(v["locationID"])
        assert m["lastReading"] == float(v["value"]) and m["lastReadingAt"] == iso(v["lastEdited"])
    readings = unified(url, "meter-readings")
    history = h.records("/assets/fields/history")
    assert len(readings) == len(history)
    by_asset = {v["assetID"]: k for k, v in numbers.items()}
    for row in history:
        meter = by_asset[row["_assetID"]]
        r = readings[f"{meter}:{row['dateUpdated']}"]
        assert r["meterKey"] == meter and r["assetKey"] == str(row["_assetID"])
        assert r["reading"] == float(row["value"]) and r["readAt"] == iso(int(row["dateUpdated"]))
    # the latest reading of a meter is its value
    for key, m in meters.items():
        mine = [r for r in readings.values() if r["meterKey"] == key]
        assert max(mine, key=lambda r: r["readAt"])["reading"] == m["lastReading"]
    # history rows are served as documented: no asset, the time as text
    served = get(url, "/assets/fields/history", limit=5).json()
    assert served and all("_assetID" not in r and isinstance(r["dateUpdated"], str)
                          for r in served)  # fmt: skip


def test_documents_are_the_files_of_document_fields(sandbox: tuple[str, Any]) -> None:
    url, h = sandbox
    files = {f"{v['valueID']}:{f['fileName']}": (v, f) for v in h.records("/assets/fields")
             if v["fieldType"] in ("Documents", "Pictures") for f in v["files"]}  # fmt: skip
    docs = unified(url, "documents")
    assert docs and set(docs) == set(files)
    for key, d in docs.items():
        v, f = files[key]
        assert d["url"] == f["link"] and d["name"] == f["fileName"]
        assert d["entityKeys"] == [str(v["assetID"])] and d["description"] == v["field"]
    pdf = next(d for d in docs.values() if d["name"].endswith(".pdf"))
    assert pdf["contentType"] == "application/pdf"


def test_work_requests_are_service_requests(sandbox: tuple[str, Any]) -> None:
    url, h = sandbox
    src = {str(r["workRequestSubmissionId"]): r for r in
           h.records("/work-requests/work-request-submissions")}  # fmt: skip
    got = unified(url, "service-requests", page_size=7)
    assert set(got) == set(src)
    category = {"Pending": "open", "Approved": "converted", "Rejected": "rejected"}
    for key, s in got.items():
        r = src[key]
        assert s["status"] == r["status"] and s["statusCategory"] == category[r["status"]]
        assert s["title"] == r["requestTitle"] and s["siteKey"] == str(r["locationId"])
        assert s["createdAt"] == r["createdAt"].replace(" ", "T") + "Z"
        assert s["assetKey"] == (str(r["assetId"]) if r["assetId"] else None)
        if r["status"] == "Approved":
            assert s["workOrderKey"] == str(r["checklistID"])
            assert s["approvedAt"] == r["reviewedAt"].replace(" ", "T") + "Z"
        else:
            assert s["workOrderKey"] is None and s["approvedAt"] is None
    assert {s["status"] for s in got.values()} == {"Pending", "Approved", "Rejected"}


def test_downtime_is_recorded_on_completed_tasks(sandbox: tuple[str, Any]) -> None:
    url, h = sandbox
    src = {str(t["taskID"]): t for t in h.records("/tasks")
           if t["downtime"] and t["assetID"] and not t["template"]}  # fmt: skip
    got = unified(url, "assets-downtime")
    assert got and set(got) == set(src)
    for key, d in got.items():
        t = src[key]
        assert d["assetKey"] == str(t["assetID"]) and d["description"] == t["name"]
        assert d["endedAt"] == iso(t["dateCompleted"])
        assert d["startedAt"] == iso(t["dateCompleted"] - t["downtime"])


def test_lookups_regions_gls_units_users_locations_parts(sandbox: tuple[str, Any]) -> None:
    url, h = sandbox
    orgs = unified(url, "organizations")
    assert {k: o["name"] for k, o in orgs.items()} == {
        str(r["regionID"]): r["regionName"] for r in h.records("/regions")}  # fmt: skip
    gls = unified(url, "accounts")
    assert {k: (a["code"], a["name"]) for k, a in gls.items()} == {
        str(g["glID"]): (g["abbr"], g["name"]) for g in h.records("/gl")}  # fmt: skip
    units = unified(url, "uom", page_size=5)  # page numbers, 5 a page: 3 pages
    assert {k: (u["code"], u["name"]) for k, u in units.items()} == {
        u["unitCode"]: (u["abbreviation"], u["name"]) for u in h.records("/uom")}  # fmt: skip
    labors = unified(url, "labors")
    for u in h.records("/users"):
        lab = labors[str(u["userID"])]
        assert lab["userKey"] == str(u["userID"]) and lab["code"] == u["username"]
        assert (lab["firstName"], lab["lastName"]) == (u["firstName"], u["lastName"])
        assert lab["isActive"] is (u["active"] == "true")
        assert lab["teamKey"] == str(u["teams"][0]["teamID"])
    rooms = unified(url, "storerooms")
    assert {k: (s["siteKey"], s["name"]) for k, s in rooms.items()} == {
        str(loc["locationID"]): (str(loc["locationID"]), loc["name"])
        for loc in h.records("/locations")}  # fmt: skip
    inv = unified(url, "inventories")
    for p in h.records("/parts"):
        i = inv[str(p["partID"])]
        assert (i["code"], i["quantity"], i["unitCost"]) == (
            p["number"], float(p["stockOnHand"]), float(p["generalPrice"]))  # fmt: skip


def test_the_sandbox_pages_units_and_fields_as_documented(sandbox: tuple[str, Any]) -> None:
    url, _ = sandbox
    assert len(get(url, "/uom").json()) == 12  # default 20 a page
    r = get(url, "/uom", limit=101)
    assert r.status_code == 400 and "100" in r.json()["error"]["message"]
    assert get(url, "/uom", cursor=1).status_code == 400  # unit codes: page numbers only
    r = get(url, "/uom", limit=5, page=3)
    assert len(r.json()) == 2 and "Next-Page" not in r.headers and "Previous-Page" in r.headers
    assert [u["unitCode"] for u in get(url, "/uom", unitCodes="hour,each").json()] == [
        "each", "hour"]  # fmt: skip
    kinds = {v["fieldType"] for v in get(url, "/assets/fields", limit=1000,
                                          **{"fieldType[0]": "Number"}).json()}  # fmt: skip
    assert kinds == {"Number"}
