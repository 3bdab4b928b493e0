"""The rest of Makini's EAM reads from Maximo (issue 15): each read through the sandbox and checked
value by value against the sandbox's own records; the fixed filters (downtime, returns) kept with
windows; documents' owners and PM materials joined to real unified keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import Window
from connectors.maximo import client
from connectors.maximo.mapping import ENTITIES
from connectors.maximo.sandbox.data import GL, UNITS
from include.config.coverage import system_coverage
from include.mapping import CompiledMapping
from include.model import list_adapter
from include.model.keys import make_key
from tests.connectors.maximo.conftest import NY, connector


def utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read(url: str, entity: str, window: Window | None = None) -> list[dict]:
    with connector(url, page_size=50) as c:
        rows = [r for p in c.read(entity, window or Window()) for r in p]
    cm = CompiledMapping(ENTITIES[entity].mapping, NY, None)
    records = [cm(r).data for r in rows]
    list_adapter(entity).validate_python(records)  # every record is a valid Makini record
    assert len({r["key"] for r in records}) == len(records), f"{entity}: duplicate keys"
    return records


def by_key(records: list[dict]) -> dict[str, dict]:
    return {r["key"]: r for r in records}


def test_no_resource_is_left_not_yet():
    cells = {c["resource"]: c for c in system_coverage("maximo")}
    assert not [r for r, c in cells.items() if c["coverage"] == "not_yet"]
    assert cells["customers"]["coverage"] == "no_concept"
    assert "Service Providers" in (cells["customers"]["reason"] or "")


def test_accounts_and_work_orders_join(shared):
    url, h = shared
    accounts = by_key(read(url, "accounts"))
    assert len(accounts) == len(GL)
    src = h.sandbox.table("MXAPICHARTOFACCOUNTS").current(("EAGLENA", GL[7]))
    acc = accounts[f"EAGLENA:{GL[7]}"]
    assert (acc["code"], acc["name"]) == (GL[7], src["accountname"])
    wos = read(url, "work-orders")
    assert wos and all(w["accountKey"] in accounts for w in wos)


def test_uom_joins_items_and_meters(shared):
    url, _ = shared
    uom = by_key(read(url, "uom"))
    assert {k: u["name"] for k, u in uom.items()} == {u: d for u, d, _ in UNITS}
    used = {m["uomKey"] for m in read(url, "materials")} | {
        m["uomKey"] for m in read(url, "meters")
    }
    assert used and used <= set(uom)


def test_companies_carry_address_parent_and_vendors_point_at_them(sandbox):
    url, h = sandbox(size=60)
    h.mutate("MXAPICOMPANY", ("EAGLENA", "V100001"), address2="Lowell", address4="01852")
    companies = by_key(read(url, "companies"))
    c = companies["EAGLENA:V100001"]
    src = h.sandbox.table("MXAPICOMPANY").current(("EAGLENA", "V100001"))
    assert c["addresses"] == [{
        "addressLines": src["address1"], "city": "Lowell", "state": src["address3"],
        "postCode": "01852", "country": "US", "addressee": src["name"], "phone": src["phone"],
    }]  # fmt: skip
    assert c["parentKey"] == "EAGLENA:V100000" and c["currencyKey"] == "USD"
    assert companies["EAGLENA:V100000"].get("parentKey") is None
    vendors = read(url, "vendors")
    assert {v["companyKey"] for v in vendors} <= set(companies)
    # incremental on changedate: only the company just changed
    since = datetime.now(UTC) - timedelta(minutes=1)
    changed = read(url, "companies", Window(since, None))
    assert [r["key"] for r in changed] == ["EAGLENA:V100001"]


def test_downtime_reads_only_rows_that_end_a_downtime_also_in_a_window(shared):
    url, h = shared
    table = h.sandbox.table("MXAPIASSETSTATUS")
    down = by_key(read(url, "assets-downtime"))
    n = table.os.count
    ups = [table.base(i) for i in range(n) if table.base(i)["downtime"]]
    assert len(down) == len(ups) < n  # the down rows (no hours) are not downtimes
    src = ups[3]
    d = down[str(src["assetstatusid"])]
    assert d["assetKey"] == f"{src['siteid']}:{src['assetnum']}"
    assert d["endedAt"] == utc(src["changedate"])
    assert d["startedAt"] == utc(src["changedate"] - src["downtime"] * 3600)
    assert d["categoryName"] == src["code"]
    assets = {a["key"] for a in read(url, "assets")}
    assert {x["assetKey"] for x in down.values()} <= assets
    # a window keeps the filter: the request ANDs both
    t = table.base(n // 2)["changedate"]
    win = Window(datetime.fromtimestamp(t, UTC), None)
    with connector(url) as c:
        assert (
            c.build_request("assets-downtime", win)
            .params["oslc.where"]
            .startswith("downtime>0 and changedate>=")
        )
    got = read(url, "assets-downtime", win)
    want = {str(r["assetstatusid"]) for r in ups if r["changedate"] >= t}
    assert {r["key"] for r in got} == want and want


def test_asset_templates_their_parts_and_assets(shared):
    url, h = shared
    templates = by_key(read(url, "asset-templates"))
    src = h.sandbox.table("MXAPIASSETTEMPLATE").current(("EAGLENA", "T1002"))
    assert templates["EAGLENA:T1002"]["name"] == src["description"]
    assert templates["EAGLENA:T1002"]["manufacturerName"] == src["manufacturer"]
    parts = read(url, "asset-templates.materials")
    assert {p["assetTemplateKey"] for p in parts} == set(templates)
    materials = {m["key"] for m in read(url, "materials")}
    assert all(p["materialKey"] in materials and p["quantity"] >= 1 for p in parts)
    used = {a.get("assetTemplateKey") for a in read(url, "assets")} - {None}
    assert used and used <= set(templates)


def test_documents_name_their_owners_by_unified_key(sandbox):
    url, h = sandbox(size=120)
    docs = by_key(read(url, "documents"))
    table = h.sandbox.table("MXAPIDOCLINKS")
    wos = {w["key"]: w for w in read(url, "work-orders")}
    assets = {a["key"] for a in read(url, "assets")}
    for i in range(table.os.count):
        src = table.base(i)
        doc = docs[str(src["doclinksid"])]
        (owner,) = doc["entityKeys"]
        if src["ownertable"] == "WORKORDER":
            wo = h.sandbox.table("MXAPIWODETAIL").base(src["ownerid"] - 1)
            assert owner == make_key([wo["siteid"], wo["wonum"]]) and owner in wos
        else:
            assert owner in assets
        assert doc["url"] == src["urlname"] and doc["type"] == src["doctype"]
    pdf = next(d for d in docs.values() if str(d["url"]).endswith(".pdf"))
    assert pdf["contentType"] == "application/pdf"
    assert all(d.get("contentType") is None for d in docs.values() if d["url"].startswith("https:"))
    # an owner gone from Maximo: the document names no owner
    first = table.base(0)
    wo = h.sandbox.table("MXAPIWODETAIL").base(first["ownerid"] - 1)
    h.delete("MXAPIWODETAIL", (wo["siteid"], wo["wonum"]))
    assert by_key(read(url, "documents"))[str(first["doclinksid"])]["entityKeys"] == []


def test_inventories_value_each_storeroom_balance(shared):
    url, h = shared
    inv = by_key(read(url, "inventories"))
    src = h.sandbox.table("MXAPIINVENTORY").current(("NASHUA", "500003", "SPARES"))
    i = inv["NASHUA:500003:SPARES"]
    assert (i["code"], i["quantity"], i["unitCost"]) == (
        "500003",
        src["curbaltotal"],
        src["avgcost"],
    )
    assert i["locationKey"] == "NASHUA:SPARES"
    stocks = {s["key"] for s in read(url, "stocks")}
    assert set(inv) == stocks  # the same INVENTORY rows, valued


def test_return_orders_are_returns_only_with_their_po_line(shared):
    url, h = shared
    table = h.sandbox.table("MXAPIRECEIPT")
    returns = by_key(read(url, "return-orders"))
    src_all = [table.base(i) for i in range(table.os.count)]
    srcs = [r for r in src_all if r["issuetype"] == "RETURN"]
    assert len(returns) == len(srcs) < len(src_all)
    src = srcs[2]
    r = returns[str(src["matrectransid"])]
    assert r["poKey"] == f"{src['siteid']}:{src['ponum']}" and r["type"] == "RETURN"
    assert r["totalNetValue"] == abs(src["linecost"]) and r["orderDate"] == utc(src["transdate"])
    assert r["notes"] == src["remark"] and r["status"] == src["status"]
    (line,) = r["lineItems"]
    assert line["quantity"] == abs(src["quantity"]) and line["lineNo"] == str(src["polinenum"])
    assert line["materialKey"] == f"SET1:{src['itemnum']}"
    pos = {p["key"] for p in read(url, "purchase-orders")}
    assert {x["poKey"] for x in returns.values()} <= pos


@pytest.mark.parametrize(
    ("entity", "os_name", "owner", "owner_field"),
    [
        ("work-orders.materials", "MXAPIWPMATERIAL", "work-orders", "workOrderKey"),
        ("assets.materials", "MXAPIASSETSPARE", "assets", "assetKey"),
        ("materials.children", "MXAPIITEMSTRUCT", "materials", "assemblyKey"),
    ],
)
def test_material_items_join_owner_and_material(shared, entity, os_name, owner, owner_field):
    url, h = shared
    items = read(url, entity)
    table = h.sandbox.table(os_name)
    assert len(items) == table.os.count
    owners = {o["key"] for o in read(url, owner)}
    materials = {m["key"] for m in read(url, "materials")}
    assert {i[owner_field] for i in items} <= owners
    assert {i["materialKey"] for i in items} <= materials
    src = table.base(1)
    item = by_key(items)[make_key([str(src[a]) for a in table.os.key])]
    qty = src.get("itemqty", src.get("quantity"))
    assert item["quantity"] == qty and item["partNumber"] == src.get("itemid", src["itemnum"])


def test_kits_are_the_assemblies(shared):
    url, _ = shared
    kits = {m["key"] for m in read(url, "materials") if m["isAssembly"]}
    assert {c["assemblyKey"] for c in read(url, "materials.children")} == kits


def test_pm_materials_are_the_job_plan_materials_of_each_pm(sandbox, monkeypatch):
    url, h = sandbox(size=300)
    items = read(url, "pm.materials")
    monkeypatch.setattr(client, "JOBPLANS_PER_REQUEST", 3)  # PMs asked for 3 job plans at a time
    assert sorted(map(str, read(url, "pm.materials"))) == sorted(map(str, items))
    pms = h.sandbox.table("MXAPIPM")
    plans = {p["jpnum"]: p for p in (h.sandbox.table("MXAPIJOBPLAN").base(i) for i in range(8))}
    want = set()
    for i in range(pms.os.count):
        pm = pms.base(i)
        for m in plans[pm["jpnum"]]["jobmaterial"] if pm["jpnum"] else ():
            want.add((f"{pm['siteid']}:{pm['pmnum']}", f"SET1:{m['itemnum']}", m["itemqty"]))
    assert want and {(i["pmKey"], i["materialKey"], i["quantity"]) for i in items} == want
    # a PM moved to another job plan now lists that plan's materials
    pm = pms.base(0)
    other = next(jp for jp in plans if jp != pm["jpnum"])
    h.mutate("MXAPIPM", (pm["siteid"], pm["pmnum"]), jpnum=other)
    mine = {i["materialKey"] for i in read(url, "pm.materials")
            if i["pmKey"] == f"{pm['siteid']}:{pm['pmnum']}"}  # fmt: skip
    assert mine == {f"SET1:{m['itemnum']}" for m in plans[other]["jobmaterial"]}


NEW = (
    "accounts", "uom", "companies", "assets-downtime", "asset-templates",
    "asset-templates.materials", "documents", "inventories", "return-orders",
    "work-orders.materials", "pm.materials", "assets.materials", "materials.children",
)  # fmt: skip


@pytest.mark.parametrize("entity", NEW)
def test_key_listings_are_the_full_reads_keys(shared, entity):
    """Reconciliation lists keys only (the fixed filters kept); pm.materials has no listing: its
    rows are derived, so every run reads it in full and reconciles from that read."""
    url, _ = shared
    keys = {r["key"] for r in read(url, entity)}
    spec = ENTITIES[entity]
    if not spec.reconcile:
        assert entity == "pm.materials" and not spec.incremental
        return
    cm = CompiledMapping(spec.mapping, NY, None)
    with connector(url, page_size=50) as c:
        listed = {cm.key_of(r) for p in c.read_keys(entity) for r in p}
    assert listed == keys


def test_new_returns_and_documents_arrive_in_the_next_window(sandbox):
    url, h = sandbox(size=60)
    since = datetime.now(UTC) - timedelta(seconds=5)
    now = datetime.now(UTC).replace(microsecond=0)
    base = dict(h.sandbox.table("MXAPIRECEIPT").base(0), transdate=now, actualdate=now)
    base.pop("_rowstamp")
    h.add("MXAPIRECEIPT", {**base, "matrectransid": 9001, "issuetype": "RETURN",
                           "quantity": -2.0, "linecost": -30.0, "remark": "Wrong size"})  # fmt: skip
    h.add("MXAPIRECEIPT", {**base, "matrectransid": 9002, "issuetype": "RECEIPT"})
    (ret,) = read(url, "return-orders", Window(since, None))
    assert (ret["key"], ret["totalNetValue"], ret["notes"]) == ("9001", 30.0, "Wrong size")
    asset = h.sandbox.table("MXAPIASSET").base(7)
    h.add("MXAPIDOCLINKS", {
        "doclinksid": 9100, "document": "NEWDOC", "ownertable": "ASSET",
        "ownerid": asset["assetuid"], "doctype": "Attachments", "urltype": "FILE",
        "urlname": "/DOCLINKS/attachments/new.pdf", "description": "New manual",
        "createdate": now, "changedate": now,
    })  # fmt: skip
    (doc,) = read(url, "documents", Window(since, None))
    assert doc["entityKeys"] == [f"{asset['siteid']}:{asset['assetnum']}"]
    assert (doc["name"], doc["contentType"]) == ("NEWDOC", "application/pdf")


def test_return_order_statuses_from_the_receipt_status_domain(shared):
    url, _ = shared
    with connector(url) as c:
        rows = c.statuses("return-orders")
    assert {r["code"]: r["name"] for r in rows} == {
        "COMP": "Complete", "WINSP": "Waiting for Inspection",
        "WASSET": "Waiting for Asset Serialization",
    }  # fmt: skip
    assert all(r["scope"] == "RECEIPTSTATUS" for r in rows)


def test_vendors_are_the_companies_of_type_v_also_when_re_read_by_id(shared):
    url, h = shared
    table = h.sandbox.table("MXAPICOMPANY")
    src = [table.base(i) for i in range(table.os.count)]
    companies = by_key(read(url, "companies"))
    vendors = by_key(read(url, "vendors"))
    assert set(companies) == {f"EAGLENA:{c['company']}" for c in src}
    assert set(vendors) == {f"EAGLENA:{c['company']}" for c in src if c["type"] == "V"}
    assert len(vendors) < len(companies)
    ids = [str(c["companiesid"]) for c in src]
    with connector(url) as c:
        req = c.id_request("vendors", ids)
        assert req.params["oslc.where"] == f'type="V" and companiesid in [{",".join(ids)}]'
        got = [r for p in c.read_records("vendors", ids) for r in p]
        assert {f"EAGLENA:{r['company']}" for r in got} == set(vendors)
        # storerooms (type="STOREROOM") re-read by id the same way
        stores = [r for p in c.read("storerooms", Window()) for r in p]
        sid = [str(s["locationsid"]) for s in stores]
        again = [r for p in c.read_records("storerooms", sid) for r in p]
        assert sorted(r["location"] for r in again) == sorted(s["location"] for s in stores)
