"""SAP S/4HANA: custom fields on properties outside the default mapping arrive after one sync,
a path the $metadata does not have fails the first task before any data is read, and a change
of the custom fields makes the next scheduled run a full re-read."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from connectors.sap_s4hana.sandbox import SandboxHandle, start
from include.config import ConnectionConfig
from include.store import Store
from include.sync import fields
from tests.fields.conftest import factory, stored, sync

WO, PO = "work-orders", "purchase-orders"


@pytest.fixture(scope="module")
def sap() -> Iterator[tuple[str, SandboxHandle]]:
    url, handle = start(size=120, seed=3, server_page_size=50)
    try:
        yield url, handle
    finally:
        handle.stop()


def cfg(custom: dict) -> ConnectionConfig:
    return ConnectionConfig(id="sap-cf", customer="acme", system="sap_s4hana",
                            airflow_conn_id="unused", entities=[WO, PO], custom_fields=custom)  # fmt: skip


def source(sap):
    return factory(sap[0], {"user": "demo", "password": "demo"})


def test_describe_lists_properties_labels_and_the_item_navigation(sap):
    with source(sap)(cfg({})) as c:
        wo = {f.name: f for f in c.describe(WO)}
        po = {f.name: f for f in c.describe(PO)}
    assert wo["MainWorkCenter"].type == "Edm.String" and wo["MainWorkCenter"].label
    ops = wo["to_MaintenanceOrderOperation"]  # a navigation property, from the $metadata
    assert ops.many and "OperationDescription" in {f.name for f in ops.children}
    assert wo["YY1_MaintCrew_ORD"].custom and wo["YY1_MaintCrew_ORD"].label == "Maint. Crew"
    items = po["to_PurchaseOrderItem"]
    assert items.many and "Plant" in {f.name for f in items.children}


def test_custom_fields_outside_the_mapping_arrive_after_one_sync(sap, store: Store):
    c = cfg({WO: {"workCenter": "MainWorkCenter", "crew": "YY1_MaintCrew_ORD",
                  "steps": "to_MaintenanceOrderOperation.OperationDescription"},
             PO: {"plants": "to_PurchaseOrderItem.Plant"},
             "purchase-orders.line-items": {"storage": "StorageLocation", "plant": "Plant"}})  # fmt: skip
    sync(store, c, WO, source(sap))
    sync(store, c, PO, source(sap))
    wos = stored(store, c.id, WO)
    assert wos and all(r["customFields"]["workCenter"] in ("MECH", "ELEC", "INST")
                       for r in wos.values())  # fmt: skip
    # a navigation property read through $expand: each order's operations, 1 to 3
    steps = [r["customFields"]["steps"] for r in wos.values()]
    assert all(isinstance(s, list) and 1 <= len(s) <= 3 and "step 1" in s[0] for s in steps)
    assert {r["customFields"]["crew"] for r in wos.values()} >= {"CREW-N", "CREW-S"}
    pos = stored(store, c.id, PO)
    assert pos and all(isinstance(r["customFields"]["plants"], list) for r in pos.values())
    lines = stored(store, c.id, "purchase-orders.line-items")
    assert lines and all(r["customFields"]["plant"] for r in lines.values())
    # the metadata was read by the first task and cached
    cached = store.source_fields(c.id)
    assert {WO, PO, "purchase-orders.line-items"} <= set(cached)


def test_a_misspelt_path_fails_the_first_task_before_reading(sap, store: Store):
    c = cfg({WO: {"workCenter": "MainWorkCentre"}})
    with pytest.raises(fields.UnknownCustomFields) as err:
        sync(store, c, WO, source(sap))
    msg = str(err.value)
    assert "'MainWorkCentre'" in msg and WO in msg and "MainWorkCenter" in msg
    assert stored(store, c.id, WO) == {}  # nothing read, nothing loaded
    assert store.get_cursor(c.id, WO) is None


def test_a_change_in_the_variable_makes_the_next_scheduled_run_a_full_re_read(
    sap, store: Store, caplog: pytest.LogCaptureFixture
):
    before = cfg({})
    first = sync(store, before, WO, source(sap))
    assert first["full"]
    again = sync(store, before, WO, source(sap))
    assert not again["full"]  # incremental while nothing changes
    after = cfg({WO: {"workCenter": "MainWorkCenter", "currency": "Currency"}})
    with caplog.at_level(logging.INFO):
        changed = sync(store, after, WO, source(sap))
    assert changed["full"]
    assert "custom fields changed: full re-read" in caplog.text
    records = stored(store, after.id, WO)
    assert len(records) == 120
    assert all(r["customFields"] == {"workCenter": r["customFields"]["workCenter"],
                                     "currency": "EUR"} for r in records.values())  # fmt: skip
    assert all(r["customFields"]["workCenter"] for r in records.values())
    assert not sync(store, after, WO, source(sap))["full"]  # recorded: back to incremental
