"""Fiix: each class's fields (Fiix's DTO listing, with ``dv_`` display values and the child
lists) describe an entity; custom fields outside the default mapping, on the PO and through its
lines, are requested by themselves (no ``requested_fields`` option) and arrive after one sync; a
misspelt field is refused naming it before anything is read; discovery and preview save nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.fiix.sandbox import start_sandbox
from include.config import ConnectionConfig
from include.store import Store
from include.sync import fields
from tests.fields.conftest import factory, stored, sync

KEYS = ("app-f", "access-f", "secret-f")
WO, PO, LINES = "work-orders", "purchase-orders", "purchase-orders.line-items"


@pytest.fixture(scope="module")
def fiix() -> Iterator[tuple[str, object]]:
    url, handle = start_sandbox(seed=4, size=150, keys=KEYS)
    try:
        yield url, handle
    finally:
        handle.stop()


def cfg(custom: dict, entities: tuple[str, ...] = (WO,)) -> ConnectionConfig:
    return ConnectionConfig(id="fiix-cf", customer="globex", system="fiix",
                            airflow_conn_id="unused", entities=list(entities),
                            custom_fields=custom)  # fmt: skip


def source(url: str):
    return factory(url, dict(zip(("app_key", "access_key", "secret_key"), KEYS, strict=True)))


def test_describe_lists_the_class_fields_display_values_and_child_lists(fiix):
    url, _ = fiix
    with source(url)(cfg({})) as c:
        wo = {f.name: f for f in c.describe(WO)}
        po = {f.name: f for f in c.describe(PO)}
        lines = {f.name for f in c.describe(LINES)}
    assert wo["strAdminNotes"].type == "string" and wo["dtmDateCreated"].type == "datetime"
    assert wo["intRequestedByUserID"].type == "integer" and "dv_intPriorityID" in wo
    assert po["lines"].many and "dblTaxRate" in {f.name for f in po["lines"].children}
    assert {"dblTaxRate", "intStockID", "dv_intSupplierID"} <= lines


def test_custom_fields_arrive_after_one_sync_without_requested_fields(fiix, store: Store):
    url, h = fiix
    wo = h.records("WorkOrder")[5]
    h.update("WorkOrder", wo["id"], strAdminNotes="call the vendor first")
    c = cfg({WO: {"adminNotes": "strAdminNotes", "requester": "intRequestedByUserID"},
             PO: {"freight": "dblFreight", "lineTax": "lines.dblTaxRate"},
             LINES: {"stock": "intStockID"}}, (WO, PO))  # fmt: skip
    assert "requested_fields" not in c.options
    sync(store, c, WO, source(url))
    wos = stored(store, c.id, WO)
    assert len(wos) == len(h.records("WorkOrder"))
    assert wos[str(wo["id"])]["customFields"]["adminNotes"] == "call the vendor first"
    assert all("requester" in r["customFields"] for r in wos.values())
    assert any(r["customFields"]["requester"] is not None for r in wos.values())
    sync(store, c, PO, source(url))
    pos = stored(store, c.id, PO)
    assert pos and any(r["customFields"]["freight"] is not None for r in pos.values())
    with_lines = [r for r in pos.values() if r.get("lineItems")]
    assert with_lines and all(isinstance(r["customFields"]["lineTax"], list) for r in with_lines)
    assert any(v is not None for r in with_lines for v in r["customFields"]["lineTax"])
    lines = stored(store, c.id, LINES)
    assert lines and any(r["customFields"]["stock"] is not None for r in lines.values())


def test_a_misspelt_field_is_refused_naming_it(fiix, store: Store):
    url, _ = fiix
    c = cfg({WO: {"adminNotes": "strAdminNote"}})
    with pytest.raises(fields.UnknownCustomFields) as err:
        sync(store, c, WO, source(url))
    assert "'strAdminNote'" in str(err.value) and "strAdminNotes" in str(err.value)
    assert stored(store, c.id, WO) == {}


def test_discovery_and_preview_save_nothing(fiix, store: Store):
    url, _ = fiix
    c = cfg({WO: {"adminNotes": "strAdminNotes"}})
    with source(url)(c) as conn:
        found = {f["name"]: f for f in fields.discover(conn.describe(WO), c, WO)}
        shown = fields.preview(conn, c, WO, limit=5)
    assert found["strAdminNotes"]["mapped_to"] == ["customFields.adminNotes"]
    assert found["strCode"]["mapped"] and not found["strAdminNotes"]["custom"]
    assert shown["read"] == 5 and len(shown["data"]) == 5 and not shown["failed"]
    assert all("adminNotes" in r["customFields"] for r in shown["data"])
    assert stored(store, c.id, WO) == {}
