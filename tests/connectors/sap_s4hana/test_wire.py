"""Every value the SAP sandbox sends has the JSON type OData v2 gives its EDMX type; pyodata reads it all.

The expected shapes below are the OData v2 JSON format's (Edm.Int64 and Edm.Decimal as strings,
Edm.Int32 as numbers, ``/Date(ms)/``, ``/Date(ms+0000)/``, ``PT..H..M..S``, null only where Nullable is
not false). Property types come from each service's ``$metadata`` as served (the same EDMX
test_metadata compares with SAP's), never from a list in this file.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pyodata
import pytest
import requests
from lxml import etree
from pyodata.v2.model import Config, PolicyIgnore

from connectors.sap_s4hana.client import SERVICE_PATHS
from connectors.sap_s4hana.metadata import SERVICES
from connectors.sap_s4hana.sandbox import SandboxHandle, build_server, start

logging.getLogger("pyodata").setLevel(logging.ERROR)
EDM = "{http://schemas.microsoft.com/ado/2008/09/edm}"
AUTH = ("demo", "demo")
INTS = {"Edm.Byte": (0, 255), "Edm.SByte": (-128, 127), "Edm.Int16": (-(2**15), 2**15 - 1),
        "Edm.Int32": (-(2**31), 2**31 - 1)}  # fmt: skip
PATTERNS = {
    "Edm.Int64": r"-?\d+",
    "Edm.Guid": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "Edm.DateTime": r"/Date\(-?\d+\)/",
    "Edm.DateTimeOffset": r"/Date\(-?\d+[+-]\d{4}\)/",
    "Edm.Time": r"PT\d{2}H\d{2}M\d{2}S",
    "Edm.Double": r"-?\d+(\.\d+)?([eE][+-]?\d+)?",
    "Edm.Single": r"-?\d+(\.\d+)?([eE][+-]?\d+)?",
}


def root_of(url: str, service: str) -> str:
    return f"{url}/sap/opu/odata/sap/{SERVICE_PATHS.get(service, service)}/"


def served_types(url: str, service: str) -> dict[str, dict[str, etree._Element]]:
    """entity set -> property -> its <Property> element, from the service's $metadata."""
    resp = requests.get(root_of(url, service) + "$metadata", auth=AUTH, timeout=10)
    schema = etree.fromstring(resp.content).find(f".//{EDM}Schema")
    ns = schema.get("Namespace")
    types = {f"{ns}.{t.get('Name')}": t for t in schema.findall(f"{EDM}EntityType")}
    return {
        es.get("Name"): {p.get("Name"): p for p in types[es.get("EntityType")].findall(f"{EDM}Property")}
        for es in schema.iter(f"{EDM}EntitySet")
    }  # fmt: skip


def wire_problem(prop: etree._Element, value: object) -> str | None:
    """Why ``value`` is not the OData v2 JSON form of ``prop`` (None when it is)."""
    edm = prop.get("Type")
    if value is None:
        return "null but Nullable=false" if prop.get("Nullable") == "false" else None
    if edm == "Edm.String":
        ok = isinstance(value, str) and len(value) <= int(prop.get("MaxLength", 10**9))
    elif edm == "Edm.Boolean":
        ok = isinstance(value, bool)
    elif edm in INTS:
        lo, hi = INTS[edm]
        ok = type(value) is int and lo <= value <= hi
    elif edm == "Edm.Decimal":
        m = isinstance(value, str) and re.fullmatch(r"-?(\d+)(?:\.(\d+))?", value)
        scale, precision = int(prop.get("Scale", 0)), int(prop.get("Precision", 38))
        whole, fraction = (m.group(1), m.group(2) or "") if m else ("", "")
        ok = bool(m) and len(fraction) <= scale and len(whole.lstrip("0")) <= precision - scale
    elif edm in PATTERNS:
        ok = isinstance(value, str) and re.fullmatch(PATTERNS[edm], value) is not None
    else:
        return f"unexpected EDM type {edm}"
    return None if ok else f"{value!r} is not the OData v2 JSON form of {edm}"


def pages(url: str, service: str, entity_set: str, query: str = "") -> Iterator[dict]:
    """Every record of a set, following the server's __next links."""
    next_url: str | None = f"{root_of(url, service)}{entity_set}?$format=json{query}"
    while next_url:
        resp = requests.get(next_url, auth=AUTH, timeout=30)
        assert resp.status_code == 200, resp.text
        d = resp.json()["d"]
        yield from d["results"]
        next_url = d.get("__next")


def assert_wire_form(url: str, service: str, entity_set: str, props: dict,
                     records: list[dict]) -> None:  # fmt: skip
    assert records, f"{service}/{entity_set} served no records"
    problems = []
    for rec in records:
        extra = {
            k
            for k in set(rec) - set(props) - {"__metadata"}
            if not (isinstance(rec[k], dict) and "__deferred" in rec[k])
        }  # nav links
        missing = set(props) - set(rec)
        if extra or missing:
            problems.append(f"{entity_set}: extra {sorted(extra)}, missing {sorted(missing)}")
        for name, prop in props.items():
            why = wire_problem(prop, rec.get(name))
            if why:
                problems.append(f"{entity_set}.{name}: {why}")
    assert not problems, f"{len(problems)} problems, e.g. {sorted(set(problems))[:10]}"


@pytest.fixture(scope="module")
def small() -> Iterator[tuple[str, SandboxHandle]]:
    url, handle = start(size=400, seed=3, server_page_size=60)
    try:
        yield url, handle
    finally:
        handle.stop()


def served_sets() -> list[tuple[str, str]]:
    return [(service, name) for service, names in SERVICES.items() for name in names]


@pytest.mark.parametrize("service, entity_set", served_sets())
def test_every_property_has_its_edmx_json_type(small, service, entity_set):
    url, _ = small
    props = served_types(url, service)[entity_set]
    assert_wire_form(url, service, entity_set, props, list(pages(url, service, entity_set)))


def test_every_served_set_is_checked(small):
    """The parametrisation covers each set of each service's $metadata (none skipped)."""
    url, _ = small
    served = {(s, n) for s in SERVICES for n in served_types(url, s)}
    assert served == set(served_sets())


def test_changed_and_added_records_keep_the_wire_types(small):
    """Values given the Python way (a number for an Edm.Int64, a Decimal) are sent as OData types."""
    url, handle = small
    handle.update("MaintenanceOrder", ("4000001",), {"MaintenanceObjectList": 6000000123})
    added = handle.add("A_PurchaseOrderItem", {"PurchaseOrder": "4500000001",
                                               "PurchaseOrderItem": "990",
                                               "OrderQuantity": Decimal("2.5"),
                                               "NetPriceAmount": 12})  # fmt: skip
    assert (added["OrderQuantity"], added["NetPriceAmount"]) == ("2.500", "12.000")
    session = requests.Session()
    session.auth = AUTH
    root = root_of(url, "API_MAINTENANCEORDER")
    token = session.get(root, headers={"x-csrf-token": "Fetch"}).headers["x-csrf-token"]
    resp = session.patch(f"{root}MaintenanceOrder('4000002')", json={"MaintenanceObjectList": 42},
                         headers={"x-csrf-token": token})  # fmt: skip
    assert resp.status_code == 204, resp.text
    bad = session.patch(f"{root}MaintenanceOrder('4000002')", json={"MaintenanceCall": "x"},
                        headers={"x-csrf-token": token})  # fmt: skip
    assert bad.status_code == 400 and "MaintenanceCall" in bad.json()["error"]["message"]["value"]
    orders = [r for r in pages(url, "API_MAINTENANCEORDER", "MaintenanceOrder",
                               "&$filter=MaintenanceObjectList gt 0")]  # fmt: skip
    assert {r["MaintenanceOrder"]: r["MaintenanceObjectList"] for r in orders} == {
        "4000001": "6000000123", "4000002": "42"}  # fmt: skip
    props = served_types(url, "API_MAINTENANCEORDER")["MaintenanceOrder"]
    assert_wire_form(url, "API_MAINTENANCEORDER", "MaintenanceOrder", props, orders)
    items = list(pages(url, "API_PURCHASEORDER_PROCESS_SRV", "A_PurchaseOrderItem",
                       "&$filter=PurchaseOrderItem eq '990'"))  # fmt: skip
    assert [(i["OrderQuantity"], i["NetPriceAmount"]) for i in items] == [("2.500", "12.000")]
    props = served_types(url, "API_PURCHASEORDER_PROCESS_SRV")["A_PurchaseOrderItem"]
    assert_wire_form(url, "API_PURCHASEORDER_PROCESS_SRV", "A_PurchaseOrderItem", props, items)


def test_data_file_values_are_coerced_or_refused(tmp_path: Path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"MaintenanceOrder": [
        {"MaintenanceOrder": "4711", "MaintenanceObjectList": 5, "MaintenanceCall": "3",
         "LastChangeDateTime": "/Date(1704067200000)/"}]}))  # fmt: skip
    server = build_server(data=good)
    try:
        (rec,) = [
            r for _, r in server.dataset.tables[("API_MAINTENANCEORDER", "MaintenanceOrder")].rows()
        ]
        assert (rec["MaintenanceObjectList"], rec["MaintenanceCall"]) == ("5", 3)
        assert rec["LastChangeDateTime"] == "/Date(1704067200000+0000)/"
    finally:
        server.server_close()
    for record, named in [({"MaintenanceOrder": "1", "MaintenanceObjectList": "12a"}, "MaintenanceObjectList"),
                          ({"MaintenanceOrder": None}, "MaintenanceOrder"),
                          ({"MaintenanceOrder": "1", "OrderHasLongText": "yes"}, "OrderHasLongText"),
                          ({"MaintenanceOrder": "1", "MaintenanceCall": 2**40}, "MaintenanceCall")]:  # fmt: skip
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({"MaintenanceOrder": [record]}))
        with pytest.raises(ValueError, match=f"MaintenanceOrder record 1: .*{named}"):
            build_server(data=bad)


# --- pyodata, SAP's own client, with SAP's real EDMX ---------------------------------------------

PYTHON_TYPES = {"Edm.String": str, "Edm.Boolean": bool, "Edm.Int16": int, "Edm.Int32": int,
                "Edm.Int64": int, "Edm.Byte": int, "Edm.Decimal": str, "Edm.Time": str,
                "Edm.Guid": str, "Edm.DateTime": datetime, "Edm.DateTimeOffset": datetime,
                "Edm.Double": float}  # fmt: skip


def real_client(reference_sap: Path, url: str, service: str) -> pyodata.Client:
    """pyodata on the sandbox with SAP's published EDMX (API_MAINTENANCEPLAN has none: served)."""
    real = reference_sap / f"{service}.edmx"
    session = requests.Session()
    session.auth = AUTH
    return pyodata.Client(root_of(url, service), session,
                          metadata=real.read_bytes() if real.exists() else None,
                          config=Config(default_error_policy=PolicyIgnore(), retain_null=True))  # fmt: skip


def assert_typed(entity_type, proxies) -> None:
    for proxy in proxies:
        for prop in entity_type.proprties():
            value = getattr(proxy, prop.name)
            if value is None:
                assert prop.nullable, f"{entity_type.name}.{prop.name} is null"
                continue
            assert isinstance(value, PYTHON_TYPES[prop.typ.name]), (prop.name, value)
            if prop.typ.name == "Edm.Decimal":
                Decimal(value)
            if prop.typ.name == "Edm.DateTimeOffset":
                assert value.tzinfo is not None, prop.name


@pytest.mark.parametrize("service, entity_set", served_sets())
def test_pyodata_reads_every_set_with_the_real_edmx(reference_sap, small, service, entity_set):
    url, _ = small
    client = real_client(reference_sap, url, service)
    entity_type = client.schema.entity_set(entity_set).entity_type
    first = getattr(client.entity_sets, entity_set).get_entities().top(150).execute()
    rows = list(first)
    next_url = first.next_url  # the server pages at 60: pyodata follows its __next
    while next_url:
        page = getattr(client.entity_sets, entity_set).get_entities().next_url(next_url).execute()
        rows += list(page)
        next_url = page.next_url
    assert len(rows) == min(
        150, int(getattr(client.entity_sets, entity_set).get_entities().count().execute())
    )
    assert len(rows) > 0
    assert_typed(entity_type, rows)


def test_pyodata_reads_the_connectors_queries(reference_sap, small):
    """The connector's own query shapes: a change window ordered by time, items by order numbers."""
    url, _ = small
    client = real_client(reference_sap, url, "API_MAINTENANCEORDER")
    window = (client.entity_sets.MaintenanceOrder.get_entities()
              .filter("LastChangeDateTime ge datetimeoffset'2024-01-01T00:01:00Z'")
              .order_by("LastChangeDateTime,MaintenanceOrder").top(50).execute())  # fmt: skip
    assert len(window) == 50 and all(o.LastChangeDateTime.minute >= 1 for o in window)
    assert all(isinstance(o.MaintenanceObjectList, int) for o in window)
    po = real_client(reference_sap, url, "API_PURCHASEORDER_PROCESS_SRV")
    items = (po.entity_sets.A_PurchaseOrderItem.get_entities()
             .filter("PurchaseOrder eq '4500000002' or PurchaseOrder eq '4500000005'")
             .order_by("PurchaseOrder,PurchaseOrderItem").execute())  # fmt: skip
    assert [(i.PurchaseOrder, i.PurchaseOrderItem) for i in items] == [
        ("4500000002", "10"), ("4500000002", "20"), ("4500000002", "30"),
        ("4500000005", "10"), ("4500000005", "20"), ("4500000005", "30")]  # fmt: skip
    assert_typed(po.schema.entity_set("A_PurchaseOrderItem").entity_type, items)
