"""Measuring points and measurement documents: OData V4 only at SAP (api_measuringpoint,
api_measurementdocument, srvd_a2x, 0001). The connector reads them without pyodata (V2 only): V4 JSON
(``value``, ``@odata.nextLink``, Edm.Date ``2024-01-31``, Edm.TimeOfDay ``09:00:00``, numbers as JSON
numbers), SAP's V4 error form, the same retries as every other call."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from lxml import etree

from connectors.base import SourceError, Window
from connectors.sap_s4hana.client import SapS4HanaConnector
from connectors.sap_s4hana.mapping import ENTITIES
from connectors.sap_s4hana.sandbox import start
from connectors.sap_s4hana.sandbox.odata4 import (
    MEASUREMENT_DOCUMENT,
    MEASURING_POINT,
    check_record,
)
from include.mapping import CompiledMapping

from .conftest import settings

BERLIN = ZoneInfo("Europe/Berlin")
POINTS = MEASURING_POINT.service
DOCS = MEASUREMENT_DOCUMENT.service


@pytest.fixture(scope="module")
def v4():
    url, handle = start(size=600, seed=4, server_page_size=25, timezone="Europe/Berlin")
    try:
        yield url, handle, SapS4HanaConnector(settings(url, tz="Europe/Berlin"))
    finally:
        handle.stop()


def _all(pages) -> list[dict]:
    return [r for page in pages for r in page]


def _mapped(entity: str, rows: list[dict]) -> dict[str, dict]:
    m = CompiledMapping(ENTITIES[entity].mapping, BERLIN)
    return {d["key"]: defaultdict(lambda: None, d) for d in (m(r).data for r in rows)}


def test_v4_wire_form_paging_and_metadata(v4):
    url, handle, _ = v4
    root = f"{url}/sap/opu/odata4/sap/{DOCS}/"
    first = requests.get(root + "MeasurementDocument?$count=true", auth=("demo", "demo"))
    assert first.headers["OData-Version"] == "4.0"
    body = first.json()
    assert body["@odata.count"] == len(handle.dataset.v4[DOCS]) > 25
    assert len(body["value"]) == 25 and body["@odata.nextLink"].startswith("MeasurementDocument?")
    doc = body["value"][0]
    assert isinstance(doc["MeasurementReading"], float | int)  # a JSON number, not a string
    assert len(doc["MsmtRdngDate"]) == 10 and doc["MsmtRdngTime"].count(":") == 2
    meta = etree.fromstring(requests.get(root + "$metadata", auth=("demo", "demo")).content)
    assert meta.get("Version") == "4.0"
    types = {p.get("Name"): p.get("Type") for p in meta.iter("{*}Property")}
    assert types["MsmtRdngDate"] == "Edm.Date" and types["MsmtRdngTime"] == "Edm.TimeOfDay"
    bad = requests.get(root + "MeasurementDocument?$filter=Nope eq 1", auth=("demo", "demo"))
    assert bad.status_code == 400 and "Nope" in bad.json()["error"]["message"]


def test_meters_field_by_field(v4):
    _, handle, c = v4
    rows = _all(c.read("meters", Window()))
    served = handle.dataset.v4[POINTS]
    assert len(rows) == len(served) > 25  # more than one page
    meters = _mapped("meters", rows)
    assets = {r["Equipment"] for r in handle.records("Equipment")}
    for src in served:
        m = meters[src["MeasuringPoint"]]
        assert m["name"] == src["MeasuringPointDescription"]
        assert m["assetKeys"] == [src["Equipment"]] and src["Equipment"] in assets
        assert m["uomKey"] == src["MeasurementRangeUnit"]
        # Edm.Date is Berlin wall clock: midnight of 2023-01-15 is 23:00Z the day before
        assert m["createdAt"] == "2023-01-14T23:00:00Z"
    assert {f.name for f in c.describe("meters")} == set(MEASURING_POINT.types)


def test_meter_readings_field_by_field(v4):
    _, handle, c = v4
    rows = _all(c.read("meter-readings", Window()))
    served = handle.dataset.v4[DOCS]
    valid = [d for d in served if not d["MsmtRdngIsReversed"]]
    assert 0 < len(valid) < len(served)  # reversed documents are no readings
    readings = _mapped("meter-readings", rows)
    assert set(readings) == {d["MeasurementDocument"] for d in valid}
    equipment = {p["MeasuringPoint"]: p["Equipment"] for p in handle.dataset.v4[POINTS]}
    for src in valid:
        m = readings[src["MeasurementDocument"]]
        assert m["meterKey"] == src["MeasuringPoint"]
        assert m["assetKey"] == equipment[src["MeasuringPoint"]]
        assert m["reading"] == src["MeasurementReadingInEntryUoM"]
        wall = datetime.fromisoformat(f"{src['MsmtRdngDate']}T{src['MsmtRdngTime']}")
        assert m["readAt"] == wall.replace(tzinfo=BERLIN).astimezone(ZoneInfo("UTC")).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    # a new reading shows in the next read; the key listing has every valid document
    handle.dataset.v4[DOCS].append(check_record(MEASUREMENT_DOCUMENT, {
        "MeasurementDocument": "99999", "MeasuringPoint": served[0]["MeasuringPoint"],
        "MsmtRdngDate": "2024-07-01", "MsmtRdngTime": "06:30:00", "MeasurementReading": 77.5,
        "MeasurementReadingInEntryUoM": 77.5, "MeasurementReadingEntryUoM": "H"}))  # fmt: skip
    again = _mapped("meter-readings", _all(c.read("meter-readings", Window())))
    assert again["99999"]["reading"] == 77.5
    assert again["99999"]["readAt"] == "2024-07-01T04:30:00Z"  # CEST
    keys = {r["MeasurementDocument"] for r in _all(c.read_keys("meter-readings"))}
    assert keys == set(again)


def test_v4_faults_are_retried_and_a_persistent_one_named(v4):
    url, handle, _ = v4
    handle.faults.retry_after = 0.2
    c = SapS4HanaConnector(settings(url, tz="Europe/Berlin"))
    slept: list[float] = []
    c.http._sleep = slept.append
    handle.faults.forced.extend(["429", "500", "truncate"])
    assert len(_all(c.read("meters", Window()))) == len(handle.dataset.v4[POINTS])
    assert c.http.retries == 3 and slept[0] == 0.2
    handle.faults.forced.extend(["500"] * 3)
    c2 = SapS4HanaConnector(settings(url, tz="Europe/Berlin", retries=2))
    with pytest.raises(SourceError) as info:
        list(c2.read("meters", Window()))
    assert info.value.status == 500
    assert "/sap/opu/odata4/sap/api_measuringpoint/" in info.value.endpoint
    assert "Internal server error" in str(info.value)


def test_next_link_to_another_host_is_refused(v4):
    url, _, c = v4
    calls = []
    original = c.http.request

    def request(method, path, **kw):
        resp = original(method, path, **kw)
        if not calls:
            resp.decoded["@odata.nextLink"] = "http://elsewhere.example/x/MeasuringPoint?a=1"
        calls.append(path)
        return resp

    c.http.request = request
    with pytest.raises(SourceError, match="another host"):
        list(c.read("meters", Window()))


def test_pm_materials_are_the_task_list_components_of_each_plan(v4):
    _, handle, c = v4
    items = handle.records("MaintenanceItem")
    components = handle.dataset.v4["api_maintenancetasklist/srvd_a2x/sap/maintenancetasklist/0001"]
    rows = _all(c.read("pm.materials", Window()))
    mapped = _mapped("pm.materials", rows)
    expected = {}
    for item in items:
        if not item["TaskListGroup"]:
            continue  # a plan without a task list has no spare parts
        for comp in components:
            if (comp["TaskListType"], comp["TaskListGroup"], comp["TaskListGroupCounter"]) == (
                item["TaskListType"],
                item["TaskListGroup"],
                item["TaskListGroupCounter"],
            ):
                key = ":".join([item["MaintenancePlan"], comp["TaskListType"],
                                comp["TaskListGroup"], comp["TaskListGroupCounter"],
                                comp["TaskListSequence"], comp["TaskListOperationInternalId"],
                                comp["TaskListOpBOMItmInternalID"],
                                comp["TaskListOpBOMItmIntVersCounter"]])  # fmt: skip
                expected[key] = (item["MaintenancePlan"], comp)
    assert set(mapped) == set(expected) and expected
    plans = {i["MaintenancePlan"] for i in items}
    assert {m["pmKey"] for m in mapped.values()} < plans  # shared task lists, some plans none
    for key, (plan, comp) in expected.items():
        m = mapped[key]
        assert m["pmKey"] == plan and m["materialKey"] == comp["Material"]
        assert m["requiredQuantity"] == comp["BillOfMaterialItemQuantity"]
        assert m["uomKey"] == comp["BillOfMaterialItemUnit"] and m["name"] == comp["MaterialName"]
    materials = {r["Product"] for r in handle.records("A_Product")}
    assert all(m["materialKey"] in materials for m in mapped.values())
