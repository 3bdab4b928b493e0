"""Changes that arrive through related records, end to end on a real Tryton 8.2 server: each
change is made with Tryton's own JSON-RPC methods, then one scheduled (incremental) run syncs the
entity into a store, and the API must show it, also to a client paging with ``modified_after``.

One server per module (a copy of the cached seeded database); every test changes its own records.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from connectors.tryton import CONNECTOR
from connectors.tryton.client import TrytonRpc
from connectors.tryton.seed import _accepting_warnings
from connectors.tryton.server import TrytonHandle, start_tryton
from include.api import create_app, issue_token
from include.config import ConnectionConfig
from include.model.timeutil import format_utc, utcnow
from include.store import Store
from include.sync import pipeline, streaming

from .conftest import PARTS, cache_dir, settings_for

CID = "plant-erp"
ENTITIES = ["materials", "products", "purchase-orders", "customers", "return-orders"]


@dataclass
class Env:
    tryton: TrytonHandle
    rpc: TrytonRpc
    store: Store
    cfg: ConnectionConfig
    api: TestClient
    token: str
    staging: Path

    def sync(self, entity: str) -> dict:
        """One scheduled run of ``entity`` (its window planned as the DAG plans it)."""
        spec = CONNECTOR.entities[entity]
        now = utcnow()
        window = pipeline.plan_window(
            self.store, self.cfg, entity, incremental=spec.incremental, run_type="scheduled",
            interval_start=now - timedelta(hours=1), interval_end=now + timedelta(seconds=5),
        )  # fmt: skip
        run_id = f"scheduled__{now.isoformat()}"
        with CONNECTOR(settings_for(self.tryton)) as connector:
            return streaming.sync_entity(
                connector, self.cfg, entity, window, self.staging / entity / run_id,
                self.store, run_id, incremental=spec.incremental, path_factory=Path,
            )  # fmt: skip

    def changed(self, ns: str, entity: str, since: str, **params: str) -> dict[str, dict]:
        """The records the API lists with ``modified_after=since``, by key."""
        r = self.api.get(
            f"/api/{ns}/{entity}",
            params={"modified_after": since, "per_page": "100", **params},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert r.status_code == 200, r.text
        return {item["key"]: item for item in r.json()["data"]}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("related")
    handle = start_tryton(cache_dir(), f"related_{os.getpid()}", parts=PARTS, fresh=True)
    store = Store(f"sqlite:///{tmp / 'store.db'}")
    store.migrate()
    rpc = TrytonRpc(handle.url, handle.db, handle.user, handle.password)
    company = rpc.search_read("company.company", [], ["id"], limit=1)[0]["id"]
    rpc.context.update({"company": company, "active_test": False})
    cfg = ConnectionConfig(
        id=CID, customer="acme", system="tryton", airflow_conn_id="tryton_test",
        entities=ENTITIES, options={"database": handle.db},
    )  # fmt: skip
    env = Env(
        handle, rpc, store, cfg, TestClient(create_app(store, config_provider=lambda c: None)),
        issue_token(store.engine, CID), tmp / "staging",
    )  # fmt: skip
    try:
        for entity in ENTITIES:  # the first run: a full read
            assert env.sync(entity)["full"] is True
        yield env
    finally:
        rpc.close()
        store.close()
        handle.stop(drop=True)


def _stocked_goods(env: Env, nth: int) -> dict:
    """The ``nth`` variant (by id) that the seed received into stock (goods, quantity > 0)."""
    moves = env.rpc.search_read("stock.move", [("state", "=", "done")], ["product"], limit=500)
    product = sorted({m["product"] for m in moves})[nth]
    (row,) = env.rpc.model(
        "product.product", "read", [product], ["template", "default_uom", "write_date"]
    )
    return row


def _since() -> str:
    return format_utc(utcnow())


def _incremental(summary: dict) -> dict:
    assert summary["full"] is False, "the run must be incremental for the test to mean anything"
    return summary


def test_template_rename_reaches_materials_and_products(env: Env) -> None:
    product = _stocked_goods(env, 0)
    key = str(product["id"])
    before = env.store.get_record(CID, "products", key)["data"]
    since = _since()
    env.rpc.model("product.template", "write", [product["template"]], {"name": "Renamed Pump"})
    (raw,) = env.rpc.model("product.product", "read", [product["id"]], ["write_date"])
    assert raw["write_date"] == product["write_date"]  # Tryton leaves the variant untouched
    _incremental(env.sync("materials"))
    _incremental(env.sync("products"))
    material = env.changed("eam", "materials", since)[key]
    assert material["name"] == "Renamed Pump"
    erp = env.changed("erp", "products", since)
    assert erp[key]["name"] == "Renamed Pump"
    assert erp[key]["updatedAt"] > before["updatedAt"]
    assert env.store.get_record(CID, "products", key)["version"] > before["updatedAt"]


def test_template_price_change_reaches_products(env: Env) -> None:
    product = _stocked_goods(env, 1)
    key = str(product["id"])
    since = _since()
    env.rpc.model(
        "product.template", "write", [product["template"]], {"list_price": Decimal("987.65")}
    )
    _incremental(env.sync("products"))
    assert env.changed("erp", "products", since)[key]["price"] == 987.65


def test_template_deactivation_makes_the_part_inactive(env: Env) -> None:
    product = _stocked_goods(env, 2)
    key = str(product["id"])
    assert env.store.get_record(CID, "materials", key)["data"]["isActive"] is True
    since = _since()
    # Tryton warns that the part still has stock; a user accepts the warning
    _accepting_warnings(
        env.rpc, "product.template", "write", [product["template"]], {"active": False}
    )
    (variant,) = env.rpc.model("product.product", "read", [product["id"]], ["active"])
    assert variant["active"]  # Tryton keeps the variant's own flag
    _incremental(env.sync("materials"))
    _incremental(env.sync("products"))
    # inactive parts are served, marked inactive
    assert env.changed("eam", "materials", since)[key]["isActive"] is False
    assert env.changed("erp", "products", since)[key]["status"] == "inactive"


def test_stock_adjustment_reaches_products_quantity(env: Env) -> None:
    product = _stocked_goods(env, 3)
    key = str(product["id"])
    held = env.store.get_record(CID, "products", key)["data"]["quantity"]
    supplier = env.rpc.search_read("stock.location", [("type", "=", "supplier")], ["id"], limit=1)
    bins = env.rpc.search_read("stock.location", [("type", "=", "storage")], ["id"], limit=1)
    company = env.rpc.context["company"]
    currency = env.rpc.search_read("currency.currency", [], ["id"], limit=1)[0]["id"]
    since = _since()
    (move,) = env.rpc.model("stock.move", "create", [{
        "product": product["id"], "unit": product["default_uom"], "quantity": 5.0,
        "from_location": supplier[0]["id"], "to_location": bins[0]["id"], "company": company,
        "currency": currency, "unit_price": Decimal("10.00"), "effective_date": date.today(),
    }])  # fmt: skip
    _accepting_warnings(env.rpc, "stock.move", "do", [move])
    (raw,) = env.rpc.model("product.product", "read", [product["id"]], ["write_date"])
    assert raw["write_date"] == product["write_date"]  # the move leaves the product untouched
    summary = _incremental(env.sync("products"))
    assert summary["updated"] >= 1
    served = env.changed("erp", "products", since)[key]
    assert served["quantity"] == held + 5


def test_line_change_reaches_the_purchase_order(env: Env) -> None:
    po = env.rpc.search_read(
        "purchase.purchase", [("state", "=", "draft")], ["lines"], limit=1, order=[("id", "ASC")]
    )[0]
    line = po["lines"][0]
    before = env.store.get_record(CID, "purchase-orders", str(po["id"]))["data"]
    since = _since()
    env.rpc.model("purchase.line", "write", [line], {"quantity": 77.0})
    _incremental(env.sync("purchase-orders"))
    order = env.changed("erp", "purchase-orders", since)[str(po["id"])]
    assert order["updatedAt"] > before["updatedAt"]
    assert order["totalNetValue"] != before["totalNetValue"]
    (item,) = [li for li in order["lineItems"] if li["key"] == str(line)]
    assert item["quantity"] == 77.0
    assert env.changed("erp", "purchase-orders.line-items", since)[str(line)]["quantity"] == 77.0


def test_deleted_purchase_order_takes_its_lines(env: Env) -> None:
    po = env.rpc.search_read(
        "purchase.purchase", [("state", "=", "draft")], ["lines"], limit=1, order=[("id", "DESC")]
    )[0]
    lines = [str(li) for li in po["lines"]]
    assert lines
    since = _since()
    env.rpc.model("purchase.purchase", "delete", [po["id"]])
    with CONNECTOR(settings_for(env.tryton)) as connector:
        assert pipeline.reconcile_from_source(env.store, env.cfg, connector, "purchase-orders") == 1
    for key in lines:
        rec = env.store.get_record(CID, "purchase-orders.line-items", key)
        assert rec["deleted_at"] is not None and rec["deleted_by"] == "parent"
    # not served as live; a client paging modified_after with include_deleted sees the deletion
    live = env.changed("erp", "purchase-orders.line-items", "2000-01-01T00:00:00Z")
    assert not set(lines) & set(live)
    gone = env.changed("erp", "purchase-orders.line-items", since, include_deleted="true")
    assert set(lines) <= set(gone) and all(gone[k]["deletedAt"] for k in lines)
    assert str(po["id"]) in env.changed("erp", "purchase-orders", since, include_deleted="true")


def test_first_sale_reaches_customers(env: Env) -> None:
    """A party becomes a customer with its first sale (the party itself is not written): the
    next scheduled run serves it, dated by that sale, to a client paging ``modified_after``."""
    (party,) = env.rpc.model("party.party", "create", [{"name": "Globex Works"}])
    (address,) = env.rpc.model("party.address", "create", [{"party": party, "city": "Dayton"}])
    _incremental(env.sync("customers"))
    assert env.store.get_record(CID, "customers", str(party)) is None  # no sale: no customer
    since = _since()
    currency = env.rpc.search_read("currency.currency", [("code", "=", "USD")], ["id"], limit=1)
    env.rpc.model("sale.sale", "create", [{
        "party": party, "company": env.rpc.context["company"], "currency": currency[0]["id"],
        "invoice_address": address, "shipment_address": address}])  # fmt: skip
    _incremental(env.sync("customers"))
    served = env.changed("eam", "customers", since)[str(party)]
    assert served["name"] == "Globex Works" and served["companyKey"] == str(party)
    assert served["billingAddress"] == {"city": "Dayton"}
    assert served["updatedAt"] > since


def test_return_move_change_reaches_the_return_order(env: Env) -> None:
    ship = env.rpc.search_read(
        "stock.shipment.in.return", [("state", "=", "draft")], ["moves"], limit=1
    )[0]
    key = str(ship["id"])
    before = env.store.get_record(CID, "return-orders", key)["data"]
    since = _since()
    env.rpc.model("stock.move", "write", ship["moves"][:1], {"quantity": 4.0})
    _incremental(env.sync("return-orders"))
    served = env.changed("eam", "return-orders", since)[key]
    assert served["lineItems"][0]["quantity"] == 4.0
    assert served["totalNetValue"] == round(4 * before["lineItems"][0]["price"], 2)
    assert served["status"] == "draft" and served["statusCategory"] == "draft"


def test_return_orders_filter_by_status_category(env: Env) -> None:
    """``filter[statusCategory]=approved``: the waiting and assigned returns, as Tryton has them."""
    raw = env.rpc.search_read("stock.shipment.in.return", [], ["state"], limit=None)
    expected = {str(s["id"]) for s in raw if s["state"] in ("waiting", "assigned")}
    assert expected
    r = env.api.get(
        "/api/eam/return-orders",
        params={"filter[statusCategory]": "approved", "per_page": "100"},
        headers={"Authorization": f"Bearer {env.token}"},
    )
    assert r.status_code == 200, r.text
    assert {item["key"] for item in r.json()["data"]} == expected
