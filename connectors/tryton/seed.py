"""Seed a Tryton database with realistic plant data, through JSON-RPC only.

A company (USD, the admin user and an employee bound to it), technicians, vendors with
addresses, spare parts (template + variant, goods, cost and list prices), a second warehouse,
storage bins, quantities on hand (supplier -> bin moves, done), purchase orders with lines (some
confirmed), work centers and a few productions with their works (the work orders: requested,
draft, running and finished ones), general-ledger accounts, customers with sales, attachments
(documents) on work centers, parts and purchases, physical inventories of the main warehouse's
bins (draft, done and cancelled) and supplier return shipments in every state. Creates go in batches of at most 50 records (larger
calls can fail on SQLite). Deterministic: the same ``parts`` gives the same data. Seeding again
with a larger ``parts`` tops up: more parts, their stock and another round of purchase orders.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from connectors.base import SourceError
from connectors.tryton.client import TrytonRpc

SEED_VERSION = 5  # bump when the seeded data changes: cached seeded templates are keyed by it
BATCH = 50
STOCKED = 200  # parts that get quantities on hand (stock moves are the slowest part to seed)

PART_KINDS = [
    ("Bearing", "6204-2RS deep groove"), ("V-belt", "SPA 1250"), ("Hydraulic filter", "10 micron"),
    ("Mechanical seal", "35 mm"), ("Proximity sensor", "M18 PNP"), ("Contactor", "3-pole 24 V"),
    ("Gear motor", "0.75 kW"), ("Coupling insert", "L-100"), ("O-ring kit", "NBR 70"),
    ("Pressure gauge", "0-10 bar"), ("Solenoid valve", "1/2 in 24 VDC"), ("Fuse", "10 A gG"),
    ("Air filter", "F7 592x592"), ("Chain", "ANSI 60"), ("Idler pulley", "80 mm"),
]  # fmt: skip
VENDORS = [
    "SKF Distribution", "Parker Hannifin", "Grainger Industrial", "Motion Industries",
    "Festo Supply", "Schaeffler Parts", "Bosch Rexroth", "ABB Service", "Siemens Spares",
    "Fastenal", "RS Components", "McMaster Supply",
]  # fmt: skip
# No email addresses: trytond checks their domain's DNS, which a sandbox cannot resolve.
CITIES = [("Cleveland", "44101"), ("Chicago", "60601"), ("Houston", "77001"), ("Denver", "80201")]


def _chunks(items: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _create(rpc: TrytonRpc, model: str, values: Sequence[dict]) -> list[int]:
    ids: list[int] = []
    for chunk in _chunks(values):
        ids += rpc.model(model, "create", list(chunk))
    return ids


def _accepting_warnings(rpc: TrytonRpc, model: str, method: str, *args: Any) -> Any:
    """Call; on a UserWarning accept it (a res.user.warning record, as the client does), retry."""
    for _ in range(5):
        try:
            return rpc.model(model, method, *args)
        except SourceError as exc:
            if exc.status != "UserWarning":
                raise
            name = exc.tryton_error[1][0]  # type: ignore[attr-defined]
            rpc.model("res.user.warning", "create", [{"user": rpc.user_id, "name": name}])
    raise RuntimeError(f"tryton: {model}.{method} kept raising warnings")


def _one(rpc: TrytonRpc, model: str, domain: list) -> int | None:
    rows = rpc.search_read(model, domain, ["id"], limit=1)
    return rows[0]["id"] if rows else None


def _party(name: str, i: int) -> dict[str, Any]:
    city, postal = CITIES[i % len(CITIES)]
    return {
        "name": name,
        "addresses": [["create", [{"street": f"{100 + i} Industrial Way", "city": city,
                                   "postal_code": postal}]]],
    }  # fmt: skip


def seed_company(rpc: TrytonRpc) -> tuple[int, int]:
    """(company id, currency id); reuses an existing company."""
    currency = _one(rpc, "currency.currency", [("code", "=", "USD")])
    if currency is None:
        currency = _create(rpc, "currency.currency", [{
            "name": "US Dollar", "code": "USD", "symbol": "$", "digits": 2,
            "rounding": Decimal("0.01")}])[0]  # fmt: skip
    company = _one(rpc, "company.company", [])
    if company is None:
        party = _create(rpc, "party.party", [_party("Millwright Demo Plant", 0)])[0]
        company = _create(rpc, "company.company", [{"party": party, "currency": currency}])[0]
        admin = rpc.user_id
        rpc.model(
            "res.user", "write", [admin], {"companies": [["add", [company]]], "company": company}
        )
        rpc.context["company"] = company
        boss = _create(rpc, "party.party", [_party("Alex Admin", 1)])[0]
        emp = _create(rpc, "company.employee", [{"party": boss, "company": company}])[0]
        rpc.model("res.user", "write", [admin], {"employees": [["add", [emp]]], "employee": emp})
        techs = ["Jordan Reyes", "Sam Patel", "Taylor Kim", "Morgan Diaz"]
        parties = _create(rpc, "party.party", [_party(n, i) for i, n in enumerate(techs, 2)])
        _create(rpc, "company.employee", [{"party": p, "company": company} for p in parties])
    rpc.context["company"] = company
    return company, currency


def seed_locations(rpc: TrytonRpc) -> dict[str, Any]:
    """Warehouses (the default WH plus "North Plant") and three bins under each storage zone."""
    if _one(rpc, "stock.location", [("code", "=", "NP")]) is None:
        zones = _create(rpc, "stock.location", [
            {"name": "NP Input", "type": "storage"}, {"name": "NP Output", "type": "storage"},
            {"name": "NP Storage", "type": "storage"},
            {"name": "NP Production", "type": "production"}])  # fmt: skip
        _create(rpc, "stock.location", [{
            "name": "North Plant", "code": "NP", "type": "warehouse", "input_location": zones[0],
            "output_location": zones[1], "storage_location": zones[2],
            "production_location": zones[3]}])  # fmt: skip
    warehouses = rpc.search_read(
        "stock.location", [("type", "=", "warehouse")], ["storage_location", "production_location"],
        limit=10)  # fmt: skip
    bins: list[int] = []
    for wh in warehouses:
        storage = wh["storage_location"]
        existing = rpc.search_read("stock.location", [("parent", "=", storage)], ["id"], limit=10)
        if not existing:
            existing = [{"id": i} for i in _create(rpc, "stock.location", [
                {"name": f"Aisle {a}", "code": f"{wh['id']}-{a}", "type": "storage",
                 "parent": storage} for a in "ABC"])]  # fmt: skip
        bins += [r["id"] for r in existing]
    supplier = _one(rpc, "stock.location", [("type", "=", "supplier")])
    return {"warehouses": warehouses, "bins": bins, "supplier": supplier}


def seed_parts(rpc: TrytonRpc, parts: int, unit: int, start: int = 0) -> list[int]:
    """``parts`` spare parts; returns the product.product ids."""
    rnd = random.Random(start + parts)
    templates = []
    for n in range(start, start + parts):
        kind, spec = PART_KINDS[n % len(PART_KINDS)]
        cost = Decimal(rnd.randint(150, 250_000)) / 100
        templates.append({
            "name": f"{kind} {spec} #{n + 1:05d}", "code": f"SP-{n + 1:05d}", "type": "goods",
            "default_uom": unit, "purchase_uom": unit, "purchasable": True,
            "cost_price_method": "fixed", "list_price": (cost * Decimal("1.35")).quantize(Decimal("0.01")),
            "products": [["create", [{"cost_price": cost,
                                      "description": f"{kind}, {spec}. Critical spare."}]]],
        })  # fmt: skip
    template_ids = _create(rpc, "product.template", templates)
    products: list[int] = []
    for chunk in _chunks(template_ids, 500):
        rows = rpc.search_read(
            "product.product", [("template", "in", list(chunk))], ["id"], limit=1000
        )
        products += [r["id"] for r in rows]
    return products


def seed_stock(rpc: TrytonRpc, company: int, currency: int, unit: int, products: list[int],
               locations: dict[str, Any]) -> int:  # fmt: skip
    """Receive quantities from the supplier location into the bins (moves done)."""
    rnd = random.Random(len(products))
    bins, today = locations["bins"], date.today()
    moves = [{
        "product": p, "unit": unit, "quantity": float(rnd.randint(1, 40)),
        "from_location": locations["supplier"], "to_location": bins[i % len(bins)],
        "company": company, "currency": currency, "unit_price": Decimal("10.00"),
        "effective_date": today - timedelta(days=rnd.randint(1, 90)),
    } for i, p in enumerate(products)]  # fmt: skip
    ids = _create(rpc, "stock.move", moves)
    for chunk in _chunks(ids, 200):
        _accepting_warnings(rpc, "stock.move", "do", list(chunk))
    return len(ids)


def seed_purchases(rpc: TrytonRpc, company: int, currency: int, unit: int, vendors: list[int],
                   products: list[int], count: int, warehouse: int) -> list[int]:  # fmt: skip
    rnd = random.Random(count)
    today = date.today()
    addresses = {
        a["party"]: a["id"]
        for a in rpc.search_read("party.address", [("party", "in", vendors)], ["party"], limit=1000)
    }
    orders = []
    for n in range(count):
        lines = [{
            "type": "line", "product": rnd.choice(products), "quantity": float(rnd.randint(1, 24)),
            "unit": unit, "unit_price": Decimal(rnd.randint(500, 90_000)) / 100,
            "description": "Replenishment",
        } for _ in range(rnd.randint(1, 5))]  # fmt: skip
        orders.append({
            "party": vendors[n % len(vendors)],
            "invoice_address": addresses.get(vendors[n % len(vendors)]), "company": company, "currency": currency,
            "warehouse": warehouse, "invoice_method": "manual",
            "purchase_date": today - timedelta(days=n), "reference": f"REQ-{1000 + n}",
            "description": f"Spares replenishment {n + 1}",
            "delivery_date": today + timedelta(days=7 + n % 14),
            "lines": [["create", lines]],
        })  # fmt: skip
    ids = _create(rpc, "purchase.purchase", orders)
    quoted = ids[: (2 * len(ids)) // 3]
    if quoted:
        _accepting_warnings(rpc, "purchase.purchase", "quote", quoted)
        _accepting_warnings(rpc, "purchase.purchase", "confirm", quoted[: len(quoted) // 2 or 1])
    return ids


def seed_production(rpc: TrytonRpc, company: int, unit: int, warehouses: list[dict],
                    count: int) -> tuple[list[int], list[int]]:  # fmt: skip
    """Work centers, three producible assemblies and ``count`` productions (once only)."""
    if _one(rpc, "production.work.center", []) is not None:
        return [], []
    names = ["CNC Mill 1", "CNC Lathe 2", "Assembly Cell A", "Paint Line", "Packaging Line"]
    centers = _create(rpc, "production.work.center", [{
        "name": n, "warehouse": warehouses[i % len(warehouses)]["id"], "company": company,
        "cost_method": "hour", "cost_price": Decimal("85.00")} for i, n in enumerate(names)])  # fmt: skip
    assemblies = _create(rpc, "product.template", [{
        "name": f"Gearbox assembly GB-{n}", "code": f"GB-{n}", "type": "goods",
        "default_uom": unit, "producible": True, "cost_price_method": "fixed",
        "list_price": Decimal("1450.00"), "products": [["create", [{"cost_price": Decimal("900")}]]],
    } for n in range(1, 4)])  # fmt: skip
    products = [
        r["id"]
        for r in rpc.search_read("product.product", [("template", "in", assemblies)], [], limit=10)
    ]
    seed_boms(rpc, unit, products)
    today = date.today()
    prods = []
    for n in range(count):
        wh = warehouses[n % len(warehouses)]
        prods.append({
            "company": company, "warehouse": wh["id"], "location": wh["production_location"],
            "product": products[n % len(products)], "quantity": float(5 + n), "unit": unit,
            "work_center": [c for i, c in enumerate(centers)
                            if warehouses[i % len(warehouses)]["id"] == wh["id"]][n % 2], "reference": f"WO-{2000 + n}",
            "planned_start_date": today + timedelta(days=n), "planned_date": today + timedelta(days=n + 2),
        })  # fmt: skip
    ids = _create(rpc, "production", prods)
    waiting = ids[: len(ids) // 2]
    if waiting:
        _accepting_warnings(rpc, "production", "wait", waiting)
    seed_works(rpc, company, ids, waiting)
    return centers, ids


def seed_boms(rpc: TrytonRpc, unit: int, assemblies: list[int]) -> list[int]:
    """A bill of materials per assembly: three spare parts in, the assembly out (the
    assemblies' children, `materials.children`)."""
    parts = [r["id"] for r in rpc.search_read(
        "product.product", [("code", "like", "SP-%")], ["id"], limit=3 * len(assemblies))]  # fmt: skip
    if not parts:
        return []
    boms = _create(rpc, "production.bom", [{
        "name": f"Gearbox assembly {n + 1} BOM",
        "inputs": [["create", [
            {"product": parts[(3 * n + k) % len(parts)], "quantity": float(k + 1), "unit": unit}
            for k in range(3)]]],
        "outputs": [["create", [{"product": product, "quantity": 1.0, "unit": unit}]]],
    } for n, product in enumerate(assemblies)])  # fmt: skip
    for product, bom in zip(assemblies, boms, strict=True):
        rpc.model("product.product", "write", [product], {"boms": [["create", [{"bom": bom}]]]})
    return boms


OPERATIONS = ("Machining", "Assembly", "Inspection")


def seed_works(
    rpc: TrytonRpc, company: int, productions: list[int], waiting: list[int]
) -> list[int]:
    """The productions' works (Tryton's work orders), one per operation: those of a waiting
    production are requested, the others draft; of the draft ones, some run (a running cycle)
    and some are finished (their cycle done)."""
    ops = _create(rpc, "production.routing.operation", [{"name": n} for n in OPERATIONS])
    rows = rpc.search_read("production", [("id", "in", productions)], ["work_center"], limit=None)
    works = _create(rpc, "production.work", [
        {"production": p["id"], "operation": op, "work_center": p["work_center"],
         "company": company, "sequence": i}
        for p in rows for i, op in enumerate(ops)
    ])  # fmt: skip
    states = {w["id"]: w for w in rpc.search_read(
        "production.work", [("id", "in", works)], ["production"], limit=None)}  # fmt: skip
    drafts = [w for w in works if states[w]["production"] not in waiting]
    started = drafts[::2]
    if started:
        rpc.model("production.work", "start", started)
        rpc.model("production.work", "stop", started[::2])  # those finish
    return works


ACCOUNTS = [
    # (code, name, type, note, start, end, closed)
    ("1010", "Cash at bank", "Assets", None, date(2020, 1, 1), None, False),
    ("1400", "Spare parts inventory", "Stock", "Valuation of the maintenance storerooms",
     date(2020, 1, 1), None, False),
    ("4000", "Sales of assemblies", "Revenue", None, date(2020, 1, 1), None, False),
    ("5100", "Maintenance materials", "Expense", "Spare parts issued to work orders",
     date(2021, 1, 1), None, False),
    ("5200", "Maintenance labour", "Expense", None, date(2021, 1, 1), None, False),
    ("5300", "Contracted repair services", "Expense", None, date(2022, 7, 1), None, False),
    ("5900", "Repairs (legacy)", "Expense", "Replaced by 5100/5300", date(2015, 1, 1),
     date(2020, 12, 31), True),
]  # fmt: skip
ACCOUNT_TYPES = [
    # (name, statement, flag)
    ("Assets", "balance", "assets"), ("Stock", "balance", "stock"),
    ("Revenue", "income", "revenue"), ("Expense", "income", "expense"),
]  # fmt: skip


def seed_accounts(rpc: TrytonRpc, company: int) -> list[int]:
    """A small chart: account types and general-ledger accounts (one closed, with an end date)."""
    if _one(rpc, "account.account", [("code", "=", "5100")]) is not None:
        return []
    types = dict(zip(
        [t[0] for t in ACCOUNT_TYPES],
        _create(rpc, "account.account.type", [
            {"name": n, "company": company, "statement": st, flag: True}
            for n, st, flag in ACCOUNT_TYPES]), strict=True))  # fmt: skip
    return _create(rpc, "account.account", [{
        "code": code, "name": name, "type": types[kind], "company": company, "note": note,
        "start_date": start, "end_date": end, "closed": closed,
    } for code, name, kind, note, start, end, closed in ACCOUNTS])  # fmt: skip


CUSTOMERS = ["Acme Mining Co", "Northwind Foods", "Contoso Paper Mill", "Fabrikam Steel Works"]


def seed_sales(rpc: TrytonRpc, company: int, currency: int, unit: int, warehouse: int) -> list[int]:
    """Customers: parties with sales of the gearbox assemblies (draft sales; the first
    customer also has an invoice address of its own); "Prospect Ltd" has no sale (not a
    customer)."""
    if _one(rpc, "party.party", [("name", "=", CUSTOMERS[0])]) is not None:
        return []
    parties = _create(rpc, "party.party", [_party(n, i) for i, n in enumerate(CUSTOMERS, 30)])
    _create(rpc, "party.party", [_party("Prospect Ltd", 40)])
    _create(rpc, "party.address", [{
        "party": parties[0], "street": "1 Finance Plaza", "city": "Cleveland",
        "postal_code": "44114", "invoice": True}])  # fmt: skip
    templates = [r["id"] for r in rpc.search_read(
        "product.template", [("code", "like", "GB-%")], ["id"], limit=10)]  # fmt: skip
    rpc.model("product.template", "write", templates, {"salable": True, "sale_uom": unit})
    products = [r["id"] for r in rpc.search_read(
        "product.product", [("template", "in", templates)], ["id"], limit=10)]  # fmt: skip
    addresses = {}
    for a in rpc.search_read("party.address", [("party", "in", parties)], ["party"], limit=100):
        addresses.setdefault(a["party"], a["id"])
    today = date.today()
    sales = [{
        "party": parties[n % len(parties)], "company": company, "currency": currency,
        "warehouse": warehouse, "invoice_address": addresses[parties[n % len(parties)]],
        "shipment_address": addresses[parties[n % len(parties)]],
        "sale_date": today - timedelta(days=3 * n), "reference": f"CUST-PO-{500 + n}",
        "description": "Gearbox assemblies",
        "lines": [["create", [{
            "type": "line", "product": products[n % len(products)], "quantity": float(1 + n % 3),
            "unit": unit, "unit_price": Decimal("1450.00")}]]],
    } for n in range(6)]  # fmt: skip
    return _create(rpc, "sale.sale", sales)


def seed_documents(rpc: TrytonRpc) -> list[int]:
    """Attachments on work centers (a manual, a link to the maker's page), parts (a data
    sheet) and purchases (a quote)."""
    if _one(rpc, "ir.attachment", []) is not None:
        return []
    centers = rpc.search_read("production.work.center", [], ["name"], limit=10)
    parts = rpc.search_read("product.product", [("code", "like", "SP-%")], ["code"], limit=3)
    purchases = rpc.search_read("purchase.purchase", [], ["reference"], limit=2)
    docs = []
    for c in centers:
        docs.append({"name": f"{c['name']} operator manual.pdf", "type": "data",
                     "data": b"%PDF-1.4 manual", "resource": f"production.work.center,{c['id']}",
                     "description": f"Operating and lubrication instructions for {c['name']}"})  # fmt: skip
    docs.append({"name": "Maker service portal", "type": "link",
                 "link": "https://service.example.com/cnc-mill-1",
                 "resource": f"production.work.center,{centers[0]['id']}"})  # fmt: skip
    for p in parts:
        docs.append({"name": f"{p['code']} data sheet.png", "type": "data", "data": b"\x89PNG",
                     "resource": f"product.product,{p['id']}"})  # fmt: skip
    for p in purchases:
        docs.append({"name": f"Quote {p['reference']}.txt", "type": "data", "data": b"quote",
                     "resource": f"purchase.purchase,{p['id']}", "description": "Vendor quote"})  # fmt: skip
    return _create(rpc, "ir.attachment", docs)


def seed_inventories(rpc: TrytonRpc, company: int) -> list[int]:
    """A physical inventory per bin of the warehouse that has a lost-and-found location (the
    counts' differences go there): lines completed by Tryton (expected quantities), counted
    quantities written (every fifth one off by one); the first done, the last cancelled."""
    if _one(rpc, "stock.inventory", []) is not None:
        return []
    wh = rpc.search_read(
        "stock.location", [("type", "=", "warehouse"), ("lost_found_location", "!=", None)],
        ["storage_location"], limit=1)  # fmt: skip
    if not wh:
        return []
    bins = [r["id"] for r in rpc.search_read(
        "stock.location", [("parent", "=", wh[0]["storage_location"])], ["id"], limit=10)]  # fmt: skip
    ids = _create(rpc, "stock.inventory", [
        {"location": b, "company": company, "date": date.today()} for b in bins])  # fmt: skip
    rpc.model("stock.inventory", "complete_lines", ids)
    lines = rpc.search_read(
        "stock.inventory.line", [("inventory", "in", ids)], ["expected_quantity"], limit=None
    )
    for i, line in enumerate(lines):
        counted = line["expected_quantity"] + (1 if i % 5 == 0 else 0)
        rpc.model("stock.inventory.line", "write", [line["id"]], {"quantity": counted})
    if ids:
        _accepting_warnings(rpc, "stock.inventory", "confirm", ids[:1])
    if len(ids) > 2:
        rpc.model("stock.inventory", "cancel", ids[-1:])
    return ids


def seed_returns(rpc: TrytonRpc, company: int, currency: int) -> list[int]:
    """Supplier returns (``stock.shipment.in.return``) of received parts, their moves' origin a
    line of a purchase from that supplier: one per state (draft, waiting, assigned, done,
    cancelled) and a second done one."""
    if _one(rpc, "stock.shipment.in.return", []) is not None:
        return []
    supplier_loc = _one(rpc, "stock.location", [("type", "=", "supplier")])
    received = {m["product"]: m["to_location"] for m in rpc.search_read(
        "stock.move", [("from_location", "=", supplier_loc), ("state", "=", "done"),
                       ("shipment", "=", None)],
        ["product", "to_location"], limit=None)}  # fmt: skip
    lines = [ln for ln in rpc.search_read(
        "purchase.line", [("product", "in", list(received))],
        ["product", "unit", "unit_price", "purchase", "purchase.party"], limit=None)]  # fmt: skip
    shipments, seen = [], set()
    for ln in lines:  # one line per purchase and per product: returns to several suppliers
        if {ln["product"], ("po", ln["purchase"])} & seen or len(shipments) == 6:
            continue
        seen |= {ln["product"], ("po", ln["purchase"])}
        n = len(shipments)
        shipments.append({
            "company": company, "supplier": ln["purchase_rel"]["party"],
            "from_location": received[ln["product"]], "to_location": supplier_loc,
            "reference": f"RMA-{700 + n}", "planned_date": date.today() + timedelta(days=n),
            "moves": [["create", [{
                "product": ln["product"], "unit": ln["unit"], "quantity": 1.0,
                "from_location": received[ln["product"]], "to_location": supplier_loc,
                "company": company, "currency": currency, "unit_price": Decimal(ln["unit_price"]),
                "origin": f"purchase.line,{ln['id']}",
                "planned_date": date.today() + timedelta(days=n)}]]],
        })  # fmt: skip
    ids = _create(rpc, "stock.shipment.in.return", shipments)
    model = "stock.shipment.in.return"
    # ids[0] stays draft; ids[1] waiting; ids[2] assigned; ids[3:5] done; ids[5] cancelled
    if len(ids) > 1:
        _accepting_warnings(rpc, model, "wait", ids[1:])
    if len(ids) > 2:
        _accepting_warnings(rpc, model, "assign_try", ids[2:5])
    if len(ids) > 3:
        _accepting_warnings(rpc, model, "do", ids[3:5])
    if len(ids) > 5:
        rpc.model(model, "cancel", ids[5:])
    return ids


def seed(url: str, db: str, password: str, parts: int = 200, user: str = "admin") -> dict[str, int]:
    """Seed (or top up) the database; returns how many records of each kind were created."""
    if parts < 1:
        raise ValueError(f"parts must be at least 1, got {parts}")
    rpc = TrytonRpc(url, db, user, password, context={"active_test": False})
    try:
        rpc.login()
        company, currency = seed_company(rpc)
        unit = _one(rpc, "product.uom", [("symbol", "=", "u")])
        if unit is None:
            raise RuntimeError("tryton: no 'u' (unit) product.uom; is the product module active?")
        locations = seed_locations(rpc)
        existing = rpc.model("product.product", "search_count", [("code", "like", "SP-%")])
        products = seed_parts(rpc, max(0, parts - existing), unit, start=existing)
        if not products:
            return {"parts": 0}
        vendor_names = [v for v in VENDORS if _one(rpc, "party.party", [("name", "=", v)]) is None]
        _create(rpc, "party.party", [_party(n, i) for i, n in enumerate(vendor_names, 10)])
        vendors = [_one(rpc, "party.party", [("name", "=", v)]) for v in VENDORS]
        moves = seed_stock(rpc, company, currency, unit, products[:STOCKED], locations)
        pos = seed_purchases(rpc, company, currency, unit, [v for v in vendors if v], products,
                             max(5, min(60, parts // 20)), locations["warehouses"][0]["id"])  # fmt: skip
        centers, prods = seed_production(rpc, company, unit, locations["warehouses"], 8)
        main_wh = locations["warehouses"][0]["id"]
        accounts = seed_accounts(rpc, company)
        sales = seed_sales(rpc, company, currency, unit, main_wh)
        docs = seed_documents(rpc)
        inventories = seed_inventories(rpc, company)
        returns = seed_returns(rpc, company, currency)
        return {
            "parts": len(products), "stock_moves": moves, "purchases": len(pos),
            "work_centers": len(centers), "productions": len(prods), "accounts": len(accounts),
            "sales": len(sales), "documents": len(docs), "inventories": len(inventories),
            "returns": len(returns),
        }  # fmt: skip
    finally:
        rpc.close()
