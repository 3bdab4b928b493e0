"""Tryton (a real trytond server): ``fields_get`` describes each model, custom fields on fields
outside the default mapping (a many2one's field too, read as ``party.code``) arrive after one
sync, and an unknown field fails the first task before any data is read."""

from __future__ import annotations

import pytest

from include.config import ConnectionConfig
from include.store import Store
from include.sync import fields
from tests.connectors.tryton.conftest import tryton  # noqa: F401 - the session server
from tests.fields.conftest import factory, stored, sync

PO, LINES = "purchase-orders", "purchase-orders.line-items"


def cfg(handle, custom: dict) -> ConnectionConfig:
    return ConnectionConfig(id="tryton-cf", customer="globex", system="tryton",
                            airflow_conn_id="unused", entities=[PO], custom_fields=custom,
                            options={"database": handle.db})  # fmt: skip


def source(handle):
    return factory(handle.url, {"user": handle.user, "password": handle.password})


def test_fields_get_describes_the_model_and_its_many2one_targets(tryton):  # noqa: F811
    with source(tryton)(cfg(tryton, {})) as c:
        po = {f.name: f for f in c.describe(PO)}
        lines = {f.name: f for f in c.describe(LINES)}
    assert po["payment_term"].type == "many2one" and po["payment_term"].label
    assert "name" in {f.name for f in po["party"].children}
    assert po["lines"].many and "unit_price" in {f.name for f in po["lines"].children}
    assert lines["product"].type == "many2one"


def test_custom_fields_arrive_after_one_sync(tryton, store: Store):  # noqa: F811
    c = cfg(tryton, {PO: {"partyName": "party.name", "createdBy": "create_uid", "warehouseName": "warehouse.name",
                          "lineProducts": "lines.product"},
                     LINES: {"productName": "product.name", "supplierProduct": "product_supplier"}})  # fmt: skip
    sync(store, c, PO, source(tryton))
    pos = stored(store, c.id, PO)
    assert pos
    assert all(r["customFields"]["partyName"] for r in pos.values())
    assert all(
        r["customFields"]["createdBy"] and r["customFields"]["warehouseName"] for r in pos.values()
    )
    with_lines = [r for r in pos.values() if r.get("lineItems")]
    assert with_lines and all(isinstance(r["customFields"]["lineProducts"], list)
                              for r in with_lines)  # fmt: skip
    lines = stored(store, c.id, LINES)
    assert lines and all(r["customFields"]["productName"] for r in lines.values()
                         if r.get("materialKey"))  # fmt: skip
    assert all("supplierProduct" in r["customFields"] for r in lines.values())


def test_an_unknown_field_fails_the_first_task(tryton, store: Store):  # noqa: F811
    c = cfg(tryton, {PO: {"terms": "payment_terms.name"}})
    with pytest.raises(fields.UnknownCustomFields) as err:
        sync(store, c, PO, source(tryton))
    assert "'payment_terms.name'" in str(err.value) and "payment_term.name" in str(err.value)
    assert stored(store, c.id, PO) == {}
