"""Accounts, customers, documents, inventories and return orders read from a real Tryton 8.2
server (the session's seeded database) and checked value by value against what the server holds
(read here with plain JSON-RPC), plus their incremental windows."""

from __future__ import annotations

import time
from datetime import UTC, date, timedelta
from decimal import Decimal

from connectors.base import Window
from connectors.tryton import CONNECTOR
from connectors.tryton.mapping import STATUS_CATEGORIES
from connectors.tryton.seed import ACCOUNTS, _accepting_warnings
from include.config.coverage import matrix
from include.mapping import CompiledMapping
from include.model import list_adapter, record_defaults
from include.model.timeutil import format_utc, utcnow
from tests.connectors.tryton.conftest import settings_for


def read_mapped(tryton, entity: str, window: Window | None = None) -> dict[str, dict]:
    """``entity`` read through the connector and mapped as the pipeline maps it (with its
    statusCategory table and every field of the model), by key."""
    compiled = CompiledMapping(
        CONNECTOR.entities[entity].mapping, UTC, entity=entity,
        status_categories=STATUS_CATEGORIES.get(entity),
    )  # fmt: skip
    out = {}
    with CONNECTOR(settings_for(tryton)) as conn:
        for page in conn.read(entity, window or Window()):
            for raw in page:
                data = {**record_defaults(entity), **compiled(raw).data}
                out[data["key"]] = data
    list_adapter(entity).validate_python(list(out.values()))
    return out


def since_now() -> Window:
    return Window(start=utcnow() - timedelta(seconds=1), end=None)


def ts(day: str | None) -> str | None:
    return f"{day}T00:00:00Z" if day else None


def test_no_cell_left_not_yet_for_tryton():
    cells = {c["resource"]: c for c in matrix()["tryton"]}
    assert not [r for r, c in cells.items() if c["coverage"] == "not_yet"], cells
    assert cells["work-orders.materials"]["coverage"] == "no_concept"
    for resource in ("accounts", "customers", "documents", "inventories", "return-orders"):
        assert cells[resource]["coverage"] == "mapped", resource


# --- accounts ------------------------------------------------------------------------------------


def test_accounts_are_the_general_ledger(tryton, rpc):
    served = read_mapped(tryton, "accounts")
    raw = rpc.search_read(
        "account.account", [], ["code", "name", "note", "type.name", "start_date", "end_date"],
        limit=None,
    )  # fmt: skip
    assert set(served) == {str(a["id"]) for a in raw} and len(served) >= len(ACCOUNTS)
    for a in raw:
        rec = served[str(a["id"])]
        assert (rec["code"], rec["name"]) == (a["code"], a["name"])
        assert rec["description"] == (a["note"] or a["type_rel"]["name"])
        assert rec["activatedAt"] == ts(a["start_date"]) and rec["expiresAt"] == ts(a["end_date"])
    legacy = next(r for r in served.values() if r["code"] == "5900")
    assert legacy["expiresAt"] == "2020-12-31T00:00:00Z"
    assert legacy["description"] == "Replaced by 5100/5300"
    cash = next(r for r in served.values() if r["code"] == "1010")
    assert cash["description"] == "Assets" and cash["expiresAt"] is None


def test_account_rename_is_incremental(tryton, rpc):
    (acc,) = rpc.search_read("account.account", [("code", "=", "5200")], ["id"], limit=1)
    window = since_now()
    rpc.model("account.account", "write", [acc["id"]], {"name": "Maintenance labour (own)"})
    changed = read_mapped(tryton, "accounts", window)
    assert set(changed) == {str(acc["id"])}
    assert changed[str(acc["id"])]["name"] == "Maintenance labour (own)"


# --- customers -----------------------------------------------------------------------------------


def test_customers_are_the_parties_of_sales(tryton, rpc):
    served = read_mapped(tryton, "customers")
    sales = rpc.search_read("sale.sale", [], ["party", "create_date"], limit=None)
    parties = {s["party"] for s in sales}
    assert set(served) == {str(p) for p in parties} and len(parties) >= 4
    prospect = rpc.search_read("party.party", [("name", "=", "Prospect Ltd")], ["id"], limit=1)
    assert str(prospect[0]["id"]) not in served  # a party without a sale is no customer
    rows = rpc.search_read(
        "party.party", [("id", "in", list(parties))], ["name", "code", "addresses"], limit=None
    )
    for p in rows:
        rec = served[str(p["id"])]
        assert (rec["name"], rec["code"], rec["companyKey"]) == (p["name"], p["code"], str(p["id"]))
        assert len(rec["addresses"]) == len(p["addresses"])
        first = min(s["create_date"] for s in sales if s["party"] == p["id"])
        assert rec["updatedAt"] >= first[:19]
    acme = next(r for r in served.values() if r["name"] == "Acme Mining Co")
    assert acme["billingAddress"] == {
        "street": "1 Finance Plaza", "city": "Cleveland", "postalCode": "44114"
    }  # fmt: skip
    assert len(acme["addresses"]) == 2


def test_a_first_sale_makes_a_customer_in_the_window(tryton, rpc):
    """A party becomes a customer with its first sale, which leaves the party's write_date
    alone: the window finds it through the sales created in it (``first_sale_at``)."""
    (party,) = rpc.model("party.party", "create", [{"name": "Initech Plant 9"}])
    address = rpc.model("party.address", "create", [{"party": party, "city": "Austin"}])[0]
    (before,) = rpc.model("party.party", "read", [party], ["write_date", "create_date"])
    time.sleep(1.2)  # the party's own times fall before the window (which starts 1 s back)
    window = since_now()
    assert str(party) not in read_mapped(tryton, "customers")  # not a customer yet
    company = rpc.context["company"]
    currency = rpc.search_read("currency.currency", [("code", "=", "USD")], ["id"], limit=1)
    warehouse = rpc.search_read("stock.location", [("type", "=", "warehouse")], ["id"], limit=1)
    rpc.model("sale.sale", "create", [{
        "party": party, "company": company, "currency": currency[0]["id"],
        "warehouse": warehouse[0]["id"], "invoice_address": address,
        "shipment_address": address}])  # fmt: skip
    (after,) = rpc.model("party.party", "read", [party], ["write_date", "create_date"])
    assert after == before  # the sale leaves the party untouched
    changed = read_mapped(tryton, "customers", window)
    assert set(changed) == {str(party)}
    rec = changed[str(party)]
    assert rec["name"] == "Initech Plant 9" and rec["addresses"] == [{"city": "Austin"}]
    assert rec["updatedAt"] > format_utc(window.start)  # when it became a customer


# --- documents -----------------------------------------------------------------------------------


def test_documents_are_the_attachments(tryton, rpc):
    served = read_mapped(tryton, "documents")
    raw = rpc.search_read(
        "ir.attachment", [], ["name", "type", "link", "description", "resource"], limit=None
    )
    assert set(served) == {str(a["id"]) for a in raw} and len(raw) >= 8
    for a in raw:
        rec = served[str(a["id"])]
        model, rid = a["resource"].rsplit(",", 1)
        assert rec["entityKeys"] == [rid] and rec["notes"] == model
        assert (rec["name"], rec["type"], rec["description"]) == (
            a["name"], a["type"], a["description"])  # fmt: skip
        assert rec["url"] == a["link"]
    manuals = [r for r in served.values() if r["name"].endswith("operator manual.pdf")]
    assert manuals and all(r["contentType"] == "application/pdf" for r in manuals)
    # the work centers' documents point at the assets' keys
    assets = {str(c["id"]) for c in rpc.search_read("production.work.center", [], [], limit=None)}
    assert all(r["entityKeys"][0] in assets for r in manuals)
    (link,) = [r for r in served.values() if r["type"] == "link"]
    assert link["url"] == "https://service.example.com/cnc-mill-1" and link["contentType"] is None


def test_new_attachment_is_incremental(tryton, rpc):
    center = rpc.search_read("production.work.center", [], ["id"], limit=1)[0]["id"]
    window = since_now()
    (doc,) = rpc.model("ir.attachment", "create", [{
        "name": "Spindle inspection.jpg", "type": "data", "data": b"\xff\xd8jpeg",
        "resource": f"production.work.center,{center}"}])  # fmt: skip
    changed = read_mapped(tryton, "documents", window)
    assert set(changed) == {str(doc)}
    assert changed[str(doc)]["contentType"] == "image/jpeg"
    assert changed[str(doc)]["entityKeys"] == [str(center)]


# --- inventories ---------------------------------------------------------------------------------


def _lines(rpc, domain=()) -> list[dict]:
    return rpc.search_read(
        "stock.inventory.line", list(domain),
        ["quantity", "expected_quantity", "product", "inventory.location", "inventory.state",
         "product.code", "product.cost_price"],
        limit=None,
    )  # fmt: skip


def test_inventories_are_counted_lines_of_live_inventories(tryton, rpc):
    served = read_mapped(tryton, "inventories")
    lines = _lines(rpc)
    live = [ln for ln in lines if ln["inventory_rel"]["state"] != "cancelled"]
    cancelled = [ln for ln in lines if ln["inventory_rel"]["state"] == "cancelled"]
    assert live and cancelled  # the seed cancels one inventory
    assert set(served) == {str(ln["id"]) for ln in live}
    for ln in live:
        rec = served[str(ln["id"])]
        assert rec["code"] == ln["product_rel"]["code"]
        assert rec["locationKey"] == str(ln["inventory_rel"]["location"])
        assert rec["quantity"] == (
            ln["quantity"] if ln["quantity"] is not None else ln["expected_quantity"]
        )
        assert rec["unitCost"] == float(Decimal(ln["product_rel"]["cost_price"]))
    # the seed counts every fifth line one more than expected
    assert any(ln["quantity"] != ln["expected_quantity"] for ln in live)


def test_inventory_move_reaches_its_lines(tryton, rpc):
    """A line's location is its inventory's: moving a draft inventory to another bin rewrites
    its lines (Tryton does), so the window finds them with their new location."""
    (inv,) = rpc.search_read(
        "stock.inventory", [("state", "=", "draft")], ["location", "lines"], limit=1
    )
    other = rpc.search_read(
        "stock.location", [("type", "=", "storage"), ("id", "!=", inv["location"]),
                           ("parent.type", "=", "storage")], ["id"], limit=1)[0]["id"]  # fmt: skip
    window = since_now()
    rpc.model("stock.inventory", "write", [inv["id"]], {"location": other})
    changed = read_mapped(tryton, "inventories", window)
    assert set(changed) == {str(i) for i in inv["lines"]}
    assert {r["locationKey"] for r in changed.values()} == {str(other)}
    rpc.model("stock.inventory", "write", [inv["id"]], {"location": inv["location"]})


def test_cancelled_inventory_lines_leave_the_key_listing(tryton, rpc):
    """Lines of a cancelled inventory are not served: the key listing (reconciliation) drops
    them, so the store soft-deletes them."""
    (inv,) = rpc.search_read("stock.inventory", [("state", "=", "draft")], ["lines"], limit=1)
    with CONNECTOR(settings_for(tryton)) as conn:
        keys = {str(r["id"]) for page in conn.read_keys("inventories") for r in page}
        assert {str(i) for i in inv["lines"]} <= keys
        rpc.model("stock.inventory", "cancel", [inv["id"]])
        after = {str(r["id"]) for page in conn.read_keys("inventories") for r in page}
    assert after == keys - {str(i) for i in inv["lines"]}


# --- return orders -------------------------------------------------------------------------------


def test_return_orders_are_supplier_returns(tryton, rpc):
    served = read_mapped(tryton, "return-orders")
    raw = rpc.search_read(
        "stock.shipment.in.return", [],
        ["number", "reference", "state", "supplier", "company", "warehouse", "planned_date",
         "effective_date", "moves"],
        limit=None,
    )  # fmt: skip
    assert set(served) == {str(s["id"]) for s in raw}
    states = {s["state"] for s in raw}
    assert {"draft", "waiting", "assigned", "done", "cancelled"} <= states
    for s in raw:
        rec = served[str(s["id"])]
        assert (rec["status"], rec["statusKey"]) == (s["state"], s["state"])
        assert rec["statusCategory"] == STATUS_CATEGORIES["return-orders"][s["state"]]
        assert (rec["vendorKey"], rec["organizationKey"], rec["siteKey"]) == (
            str(s["supplier"]), str(s["company"]), str(s["warehouse"]))  # fmt: skip
        assert (rec["orderNo"], rec["description"]) == (s["number"], s["reference"])
        assert rec["dueAt"] == ts(s["planned_date"]) and rec["completedAt"] == ts(
            s["effective_date"]
        )
        moves = rpc.search_read(
            "stock.move", [("id", "in", s["moves"])],
            ["product", "quantity", "unit_price", "state", "origin", "purchase"], limit=None,
        )  # fmt: skip
        items = {li["key"]: li for li in rec["lineItems"]}
        assert set(items) == {str(m["id"]) for m in moves}
        for m in moves:
            li = items[str(m["id"])]
            assert li["materialKey"] == str(m["product"]) and li["quantity"] == m["quantity"]
            assert li["price"] == float(Decimal(m["unit_price"])) and li["statusKey"] == m["state"]
            assert m["origin"].startswith("purchase.line,")
            assert li["purchaseOrderKey"] == str(m["purchase"]) == rec["poKey"]
        if s["state"] != "cancelled":
            net = sum(m["quantity"] * float(Decimal(m["unit_price"])) for m in moves)
            assert rec["totalNetValue"] == round(net, 2)
    done = [r for r in served.values() if r["status"] == "done"]
    assert done and all(r["completedAt"] and r["statusCategory"] == "completed" for r in done)
    assert len({r["vendorKey"] for r in served.values()}) > 1


def test_return_move_change_is_incremental(tryton, rpc):
    """Editing a draft return's move leaves the shipment's write_date alone; the window finds it
    through ``moves.write_date`` and the return's total follows."""
    (ship,) = rpc.search_read(
        "stock.shipment.in.return", [("state", "=", "draft")], ["moves", "write_date"], limit=1
    )
    before = read_mapped(tryton, "return-orders")[str(ship["id"])]
    window = since_now()
    rpc.model("stock.move", "write", ship["moves"][:1], {"quantity": 3.0})
    (after,) = rpc.model("stock.shipment.in.return", "read", [ship["id"]], ["write_date"])
    assert after["write_date"] == ship["write_date"]
    changed = read_mapped(tryton, "return-orders", window)
    assert set(changed) == {str(ship["id"])}
    rec = changed[str(ship["id"])]
    assert rec["lineItems"][0]["quantity"] == 3.0
    assert rec["totalNetValue"] == round(3 * before["lineItems"][0]["price"], 2)
    assert rec["updatedAt"] > before["updatedAt"]


def test_return_done_is_completed(tryton, rpc):
    (ship,) = rpc.search_read(
        "stock.shipment.in.return", [("state", "=", "assigned")], ["id"], limit=1
    )
    window = since_now()
    _accepting_warnings(rpc, "stock.shipment.in.return", "do", [ship["id"]])
    rec = read_mapped(tryton, "return-orders", window)[str(ship["id"])]
    assert rec["status"] == "done" and rec["statusCategory"] == "completed"
    assert rec["completedAt"] == ts(date.today().isoformat())


def test_return_statuses_are_listed(connector):
    rows = connector.statuses("return-orders")
    assert [r["code"] for r in rows] == ["draft", "waiting", "assigned", "done", "cancelled"]
    assert set(STATUS_CATEGORIES["return-orders"]) == {r["code"] for r in rows}
