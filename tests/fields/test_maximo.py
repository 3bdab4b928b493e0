"""Maximo: the sandbox serves the real objects' attributes (the data dictionary's, crewid on work
orders, a tenant's own) and child objects (a work order's assignments), its JSON schema describes
them, and custom fields on them, a child object's attribute included, arrive after one sync; the
README's example (``"crew": "crewid"``) works end to end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.maximo.sandbox import start_sandbox as start
from include.config import ConnectionConfig
from include.store import Store
from include.sync import fields
from tests.fields.conftest import factory, stored, sync

WO, PO = "work-orders", "purchase-orders"
KEY = "maximo-test-key"


@pytest.fixture(scope="module")
def maximo() -> Iterator[str]:
    url, handle = start(seed=4, size=120, apikey=KEY)
    try:
        yield url
    finally:
        handle.stop()


def cfg(custom: dict) -> ConnectionConfig:
    return ConnectionConfig(id="mx-cf", customer="acme", system="maximo", airflow_conn_id="unused",
                            entities=[WO, PO], custom_fields=custom)  # fmt: skip


def source(url: str):
    return factory(url, {"apikey": KEY})


def test_the_json_schema_describes_attributes_children_and_tenant_attributes(maximo):
    with source(maximo)(cfg({})) as c:
        wo = {f.name: f for f in c.describe(WO)}
        po = {f.name: f for f in c.describe(PO)}
    assert wo["crewid"].label == "Crew" and wo["cxpermitno"].label == "Permit Number"
    assert len(wo) > 200  # the whole WORKORDER object, not the mapped attributes
    assert wo["assignment"].many and "laborcode" in {f.name for f in wo["assignment"].children}
    assert "linecost" in {f.name for f in po["poline"].children}


def test_the_readme_example_and_a_child_object_attribute_arrive(maximo, store: Store):
    c = cfg({WO: {"crew": "crewid", "permit": "cxpermitno", "labor": "assignment.laborcode"},
             PO: {"lineCosts": "poline.linecost"},
             "purchase-orders.line-items": {"glDebit": "gldebitacct", "enteredBy": "enterby"}})  # fmt: skip
    sync(store, c, WO, source(maximo))
    sync(store, c, PO, source(maximo))
    wos = stored(store, c.id, WO)
    assert len(wos) == 120
    crews = [r["customFields"]["crew"] for r in wos.values()]
    assert set(crews) == {None, "CREW-A", "CREW-B", "CREW-C"}  # real values, nulls where unset
    assert any(r["customFields"]["permit"] for r in wos.values())
    labor = [r["customFields"]["labor"] for r in wos.values() if r["customFields"]["labor"]]
    assert labor and all(isinstance(v, list) and v[0].startswith("L") for v in labor)
    pos = stored(store, c.id, PO)
    assert pos and all(isinstance(r["customFields"]["lineCosts"], list) for r in pos.values()
                       if r.get("lineItems"))  # fmt: skip
    lines = stored(store, c.id, "purchase-orders.line-items")
    assert lines and all("glDebit" in r["customFields"] for r in lines.values())


def test_a_misspelt_attribute_is_refused_naming_it_and_the_closest(maximo, store: Store):
    c = cfg({WO: {"crew": "crewidd"}})
    with pytest.raises(fields.UnknownCustomFields) as err:
        sync(store, c, WO, source(maximo))
    msg = str(err.value)
    assert "custom_fields.work-orders.crew: 'crewidd'" in msg and "closest: crewid" in msg
    assert stored(store, c.id, WO) == {}
