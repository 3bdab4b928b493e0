"""Maximo records -> unified records: field by field against the sandbox's source records,
references that join, custom fields, PO lines as children, and every entity validating."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.base import Window
from connectors.maximo.mapping import ENTITIES
from include.mapping import CompiledMapping, MappingError
from include.model import ENTITIES as MODELS
from include.model import list_adapter
from include.model.keys import make_key
from tests.connectors.maximo.conftest import NY, connector


def utc(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def data(shared) -> dict[str, list[dict]]:
    url, _ = shared
    with connector(url, page_size=1000) as c:
        return {e: [r for p in c.read(e, Window()) for r in p] for e in ENTITIES}


def mapped(entity: str, rows: list[dict], custom: dict[str, str] | None = None) -> list[dict]:
    cm = CompiledMapping(ENTITIES[entity].mapping, NY, custom)
    return [cm(r).data for r in rows]


def test_every_entity_maps_and_validates(data):
    for entity, rows in data.items():
        assert rows, entity
        records = mapped(entity, rows)
        list_adapter(entity).validate_python(records)
        assert len({r["key"] for r in records}) == len(records), f"{entity}: duplicate keys"


def test_work_order_field_by_field(shared, data):
    _, h = shared
    table = h.sandbox.table("MXAPIWODETAIL")
    done = next(r for r in data["work-orders"] if r["status"] == "COMP" and r.get("pmnum"))
    src = table.current((done["siteid"], done["wonum"]))  # the sandbox's own record
    assert src is not None
    (wo,) = mapped("work-orders", [done])
    assert wo == {
        "key": f"{src['siteid']}:{src['wonum']}",
        "code": src["wonum"], "title": src["description"], "status": "COMP", "statusKey": "COMP",
        "siteKey": src["siteid"], "organizationKey": "EAGLENA",
        "assetKey": f"{src['siteid']}:{src['assetnum']}",
        "locationKey": f"{src['siteid']}:{src['location']}",
        **({"parentKey": f"{src['siteid']}:{src['parent']}"} if src["parent"] else {}),
        "pmKey": f"{src['siteid']}:{src['pmnum']}", "teamKey": src["persongroup"],
        "laborAssignedKey": src["lead"], "severity": str(src["wopriority"]),
        "categoryName": src["worktype"], "estimatedTime": str(src["estdur"]),
        "actualTime": str(src["actlabhrs"]), "scheduledAt": utc(src["schedstart"]),
        "dueAt": utc(src["targcompdate"]), "completedAt": utc(src["actfinish"]),
        "accountKey": f"EAGLENA:{src['glaccount']}",
        "customFields": {}, "createdAt": utc(src["reportdate"]), "updatedAt": utc(src["changedate"]),
    }  # fmt: skip


def test_asset_stock_and_po_fields(shared, data):
    _, h = shared
    raw = data["assets"][7]
    src = h.sandbox.table("MXAPIASSET").current((raw["siteid"], raw["assetnum"]))
    (a,) = mapped("assets", [raw])
    assert (a["name"], a["serialNumber"], a["makeName"], a["modelName"]) == (
        src["description"], src["serialnum"], src["manufacturer"], src["pluscmodelnum"])  # fmt: skip
    assert a["vendorKey"] == f"EAGLENA:{src['vendor']}" and a["activatedAt"] == utc(
        src["installdate"]
    )
    assert a["isActive"] == (src["status"] != "DECOMMISSIONED")

    raw = next(r for r in data["stocks"] if len(r["invbalances"]) == 2)
    (s,) = mapped("stocks", [raw])
    assert s["quantity"] == raw["curbaltotal"] == sum(b["curbal"] for b in raw["invbalances"])
    (s2,) = mapped("stocks", [{k: v for k, v in raw.items() if k != "curbaltotal"}])
    assert s2["quantity"] == s["quantity"]  # falls back to the balances
    assert s["storeroomKey"] == f"{raw['siteid']}:{raw['location']}"

    raw = data["purchase-orders"][3]
    (po,) = mapped("purchase-orders", [raw])
    assert po["totalNetValue"] == raw["totalcost"]
    assert po["totalGrossValue"] == round(raw["totalcost"] + raw["totaltax1"], 2)
    assert po["orderDate"].endswith("Z") and po["vendorKey"] == f"EAGLENA:{raw['vendor']}"


def test_references_join_their_targets(data):
    keys = {e: {r["key"] for r in mapped(e, rows)} for e, rows in data.items()}
    wos = mapped("work-orders", data["work-orders"])
    assert all(w["assetKey"] in keys["assets"] for w in wos)
    assert all(w["locationKey"] in keys["locations"] for w in wos)
    assert all(w["siteKey"] in keys["sites"] for w in wos)
    assert all(w["pmKey"] in keys["pm"] for w in wos if "pmKey" in w)
    assert all(w["parentKey"] in keys["work-orders"] for w in wos if "parentKey" in w)
    assert all(
        w["teamKey"] in keys["teams"] and w["laborAssignedKey"] in keys["users"] for w in wos
    )
    assets = mapped("assets", data["assets"])
    assert all(
        a["locationKey"] in keys["locations"] and a["vendorKey"] in keys["vendors"] for a in assets
    )
    stocks = mapped("stocks", data["stocks"])
    assert all(
        s["materialKey"] in keys["materials"] and s["storeroomKey"] in keys["locations"]
        for s in stocks
    )
    meters = mapped("meters", data["meters"])
    assert all(set(m["assetKeys"]) <= keys["assets"] for m in meters)
    readings = mapped("meter-readings", data["meter-readings"])
    assert all(
        r["meterKey"] in keys["meters"] and r["assetKey"] in keys["assets"] for r in readings
    )
    teams = mapped("teams", data["teams"])
    assert all(set(t["userKeys"]) <= keys["users"] and t["userKeys"] for t in teams)
    pms = mapped("pm", data["pm"])
    assert all(set(p["assetKeys"]) <= keys["assets"] for p in pms)


def test_po_line_items_are_children_keyed_by_site_po_and_line(data):
    raw = data["purchase-orders"][0]
    cm = CompiledMapping(ENTITIES["purchase-orders"].mapping, NY)
    get_lines, child = cm.children["purchase-orders.line-items"]
    lines = [child(item).data for item in get_lines(raw)]
    assert len(lines) == len(raw["poline"]) >= 1
    po_key = cm(raw).key
    for line, src in zip(lines, raw["poline"], strict=True):
        assert line["key"] == make_key([raw["siteid"], raw["ponum"], src["polinenum"]])
        assert line["purchaseOrderKey"] == po_key
        assert line["quantity"] == src["orderqty"] and line["price"] == src["unitcost"]
        assert (
            line["lineNo"] == str(src["polinenum"])
            and line["materialKey"] == f"SET1:{src['itemnum']}"
        )
    list_adapter("purchase-orders.line-items").validate_python(lines)


def test_custom_fields_from_source_paths(data):
    raw = data["work-orders"][0]
    (wo,) = mapped(
        "work-orders", [raw], {"equipmentClass": "woeq1", "shift": "wolo1", "nope": "x.y"}
    )
    assert wo["customFields"] == {
        "equipmentClass": raw["woeq1"],
        "shift": raw["wolo1"],
        "nope": None,
    }
    raw = data["stocks"][0]
    (s,) = mapped("stocks", [raw], {"firstBin": "invbalances"})
    assert s["customFields"]["firstBin"] == raw["invbalances"]


def test_bad_source_value_is_a_named_mapping_error(data):
    raw = {**data["work-orders"][0], "schedstart": "not a date"}
    with pytest.raises(MappingError, match="scheduledAt"):
        mapped("work-orders", [raw])


def test_mapped_fields_exist_in_the_unified_model():
    for entity, spec in ENTITIES.items():
        fields = set(MODELS[entity].model_fields)
        assert set(spec.mapping.fields) <= fields, entity
        for child, (_, cm) in spec.mapping.children.items():
            assert set(cm.fields) <= set(MODELS[child].model_fields), child
