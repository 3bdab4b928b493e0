"""Limble: the OpenAPI's standard fields and, for assets, parts and vendors, the customer's own
fields (``/v2/<kind>/fields/suggested``) describe an entity; custom fields outside the default
mapping (a task attribute, an asset's customer-defined field, a PO item attribute) arrive after
one sync; a misspelt path is refused naming it before anything is read; discovery and preview
save nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.limble.sandbox import start_sandbox
from include.config import ConnectionConfig
from include.store import Store
from include.sync import fields
from tests.fields.conftest import factory, stored, sync

WO, ASSETS, PO, LINES = "work-orders", "assets", "purchase-orders", "purchase-orders.line-items"
CREDS = {"user": "cf-client", "password": "cf-secret"}


@pytest.fixture(scope="module")
def limble() -> Iterator[tuple[str, object]]:
    url, handle = start_sandbox(seed=6, size=200, client_id="cf-client", secret="cf-secret")
    try:
        yield url, handle
    finally:
        handle.stop()


def cfg(custom: dict, entities: tuple[str, ...] = (WO,)) -> ConnectionConfig:
    return ConnectionConfig(id="limble-cf", customer="globex", system="limble",
                            airflow_conn_id="unused", entities=list(entities),
                            custom_fields=custom)  # fmt: skip


def source(url: str):
    return factory(url, CREDS)


def test_describe_lists_standard_and_the_customers_fields(limble):
    url, _ = limble
    with source(url)(cfg({})) as c:
        wo = {f.name: f for f in c.describe(WO)}
        assets = {f.name: f for f in c.describe(ASSETS)}
        po = {f.name: f for f in c.describe(PO)}
    assert wo["requestorName"].type == "string" and "name" in wo and "meta" in wo
    custom = {f.name: f for f in assets["fields"].children}
    assert custom["Criticality"].type == "Dropdown" and custom["Criticality"].custom
    assert {"Serial Number", "Install Date"} <= set(custom)
    assert po["items"].many and "qtyReceived" in {f.name for f in po["items"].children}
    assert "customField1" in po


def test_custom_fields_arrive_after_one_sync(limble, store: Store):
    url, h = limble
    c = cfg({WO: {"requestor": "requestorName", "creator": "userID"},
             ASSETS: {"criticality": "fields.Criticality", "serial": "fields.Serial Number"},
             PO: {"billTo": "customField1", "itemUnits": "items.orderUnitAbbreviation"},
             LINES: {"discount": "discount"}}, (WO, ASSETS, PO))  # fmt: skip
    sync(store, c, WO, source(url))
    wos = stored(store, c.id, WO)
    tasks = {str(t["taskID"]): t for t in h.records("/tasks") if not t["template"]}
    assert set(wos) == set(tasks)
    assert all(r["customFields"]["requestor"] == tasks[k]["requestorName"] for k, r in wos.items())
    sync(store, c, ASSETS, source(url))
    assets = stored(store, c.id, ASSETS)
    values = {(v["assetID"], v["field"]): v["value"] for v in h.records("/assets/fields")}
    assert assets and all(
        r["customFields"]["criticality"] == values.get((int(k), "Criticality"))
        for k, r in assets.items()
    )
    assert any(r["customFields"]["criticality"] in ("A", "B", "C") for r in assets.values())
    assert any(r["customFields"]["serial"] for r in assets.values())
    po = h.records("/po")[2]
    h.update("/po", po["poID"], customField1="Dock 4")
    sync(store, c, PO, source(url))
    pos = stored(store, c.id, PO)
    with_items = [r for r in pos.values() if r.get("lineItems")]
    assert with_items and any(r["customFields"]["itemUnits"] for r in with_items)
    assert all(isinstance(r["customFields"]["itemUnits"], list | None) for r in with_items)
    assert pos[str(po["poID"])]["customFields"]["billTo"] == "Dock 4"
    lines = stored(store, c.id, LINES)
    assert lines and all("discount" in r["customFields"] for r in lines.values())


def test_a_misspelt_path_is_refused_naming_it(limble, store: Store):
    url, _ = limble
    c = cfg({ASSETS: {"criticality": "fields.Criticallity"}}, (ASSETS,))
    with pytest.raises(fields.UnknownCustomFields) as err:
        sync(store, c, ASSETS, source(url))
    assert "'fields.Criticallity'" in str(err.value) and "fields.Criticality" in str(err.value)
    assert stored(store, c.id, ASSETS) == {}


def test_discovery_and_preview_save_nothing(limble, store: Store):
    url, _ = limble
    c = cfg({ASSETS: {"criticality": "fields.Criticality"}}, (ASSETS,))
    with source(url)(c) as conn:
        found = {f["name"]: f for f in fields.discover(conn.describe(ASSETS), c, ASSETS)}
        shown = fields.preview(conn, c, ASSETS, limit=7)
    assert found["fields.Criticality"]["custom"]
    assert found["fields.Criticality"]["mapped_to"] == ["customFields.criticality"]
    assert found["name"]["mapped"] and found["fields"]["object"]
    assert shown["read"] == 7 and len(shown["data"]) == 7 and not shown["failed"]
    assert shown["fill_rates"]["criticality"]["filled"] > 0
    assert stored(store, c.id, ASSETS) == {}
