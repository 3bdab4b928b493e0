"""The Tryton connector against a real trytond 8.2 server (seeded once per session)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from connectors.base import SourceError, Window
from connectors.tryton import CONNECTOR
from connectors.tryton.client import TrytonRpc
from include.mapping import CompiledMapping
from include.model import CHILD_ENTITIES, list_adapter
from tests.connectors.tryton.conftest import PARTS, settings_for

UTCZ = UTC


def map_all(entity: str, pages) -> list[dict]:
    compiled = CompiledMapping(CONNECTOR.entities[entity].mapping, UTCZ)
    out = []
    for page in pages:
        for raw in page:
            rec = compiled(raw)
            data = dict(rec.data)
            for child, (get, cm) in compiled.children.items():
                field = CHILD_ENTITIES[child][1]
                data[field] = [cm(c).data for c in get(raw) or []]
            out.append(data)
    list_adapter(entity).validate_python(out)
    return out


@pytest.fixture(scope="module")
def mapped(tryton) -> dict[str, list[dict]]:
    """Every entity read in full once and mapped (tests that only look share it)."""
    with CONNECTOR(settings_for(tryton)) as conn:
        return {e: map_all(e, conn.read(e, Window())) for e in CONNECTOR.entities}


def utc(naive_iso: str) -> datetime:
    return datetime.fromisoformat(naive_iso).replace(tzinfo=UTC)


# --- login -------------------------------------------------------------------------------------


def test_login_gives_a_session(tryton):
    rpc = TrytonRpc(tryton.url, tryton.db, tryton.user, tryton.password)
    rpc.login()
    assert isinstance(rpc.user_id, int)
    assert rpc.http.session.headers["Authorization"].startswith("Session ")
    rpc.close()


def test_bad_password_is_401_and_not_retried(tryton):
    rpc = TrytonRpc(tryton.url, tryton.db, tryton.user, "wrong-secret-pw")
    t0 = time.perf_counter()
    with pytest.raises(SourceError) as err:
        rpc.login()
    assert err.value.status == 401 and err.value.system == "tryton"
    assert "common.db.login" in str(err.value) and "bad user, password" in str(err.value)
    assert "wrong-secret-pw" not in str(err.value)
    assert rpc.http.retries == 0 and rpc._login_http.retries == 0
    assert time.perf_counter() - t0 < 5
    rpc.close()


def test_unknown_database_is_404(tryton):
    rpc = TrytonRpc(tryton.url, "no_such_db", tryton.user, tryton.password)
    with pytest.raises(SourceError) as err:
        rpc.login()
    assert err.value.status == 404 and "unknown database" in str(err.value)
    rpc.close()


# --- errors inside HTTP 200 --------------------------------------------------------------------


def test_unknown_model_is_an_error_inside_200(rpc):
    with pytest.raises(SourceError) as err:
        rpc.search_read("no.such.model", [], ["id"], limit=1)
    assert err.value.status == "ServerError"
    assert "model.no.such.model.search_read" in str(err.value) and "no.such.model" in str(err.value)


def test_bad_domain_field_is_an_error_inside_200(rpc):
    with pytest.raises(SourceError) as err:
        rpc.search_read("product.product", [("no_such_field", "=", 1)], ["id"], limit=1)
    assert err.value.status == "ServerError" and "no_such_field" in str(err.value)


def test_user_error_names_type_and_message(rpc):
    with pytest.raises(SourceError) as err:
        rpc.model("stock.location", "create", [{"type": "storage"}])
    assert err.value.status == "UserError"
    assert 'A value is required for field "Name"' in str(err.value)


def test_unknown_method_is_403(rpc):
    with pytest.raises(SourceError) as err:
        rpc.model("product.product", "no_such_method", [])
    assert err.value.status == 403


# --- every entity --------------------------------------------------------------------------------


def test_every_entity_reads_and_maps(mapped):
    counts = {entity: len(records) for entity, records in mapped.items()}
    for entity, records in mapped.items():
        keys = [r["key"] for r in records]
        assert len(keys) == len(set(keys)), f"{entity}: duplicate keys"
    assert set(counts) == set(CONNECTOR.entities)
    assert counts["materials"] >= PARTS and counts["products"] == counts["materials"]
    assert counts["sites"] == 2  # the default warehouse and North Plant
    assert counts["stocks"] >= 200 and counts["purchase-orders"] >= 5
    assert counts["assets"] == 5 and counts["production-orders"] >= 8
    assert counts["users"] >= 5 and counts["vendors"] >= 12 and counts["locations"] >= 6


def test_references_join_their_targets(mapped):
    keys = {e: {r["key"] for r in records} for e, records in mapped.items()}
    pos = mapped["purchase-orders"]
    assert all(p["vendorKey"] in keys["vendors"] for p in pos)
    assert all(p["siteKey"] in keys["sites"] for p in pos)
    lines = [li for p in pos for li in p["lineItems"]]
    assert lines and all(li["materialKey"] in keys["materials"] for li in lines)
    assert all(li["purchaseOrderKey"] in keys["purchase-orders"] for li in lines)
    assert all(li["vendorKey"] in keys["vendors"] for li in lines)
    stocks = mapped["stocks"]
    assert all(s["materialKey"] in keys["materials"] for s in stocks)
    assert all(
        s["locationKey"] in keys["locations"] and s["siteKey"] in keys["sites"] for s in stocks
    )
    prods = mapped["production-orders"]
    assert all(
        p["assetKey"] in keys["assets"] and p["productKey"] in keys["products"] for p in prods
    )
    assert all(p["siteKey"] in keys["sites"] for p in prods)
    assert all(a["siteKey"] in keys["sites"] for a in mapped["assets"])
    locs = mapped["locations"]
    assert all(loc["parentKey"] in keys["locations"] for loc in locs if loc.get("parentKey"))
    assert all(loc["siteKey"] in keys["sites"] for loc in locs if loc.get("siteKey"))
    bins = [loc for loc in locs if loc["name"].startswith("Aisle ")]
    assert len(bins) == 6 and all(loc["siteKey"] and loc["parentKey"] for loc in bins)
    transit = [loc for loc in locs if loc["name"] == "Transit"]  # outside every warehouse
    assert transit and "siteKey" not in transit[0]
    assert all(u["name"] and u["organizationKey"] for u in mapped["users"])


# --- field by field against raw RPC --------------------------------------------------------------


FIELDS = ["code", "name", "description", "list_price_used", "active", "create_date", "write_date",
          "default_uom.symbol", "type", "quantity"]  # fmt: skip


def test_product_field_by_field(connector, rpc):
    code = f"SP-{PARTS:05d}"  # the last part: never stocked
    raw = rpc.search_read("product.product", [("code", "=", code)], FIELDS, limit=1)[0]
    # A variant gets its code by a write right after its creation: write_date is set.
    window = Window(utc(raw["write_date"]), utc(raw["write_date"]) + timedelta(microseconds=1))
    (material,) = [m for m in map_all("materials", connector.read("materials", window))
                   if m["code"] == code]  # fmt: skip
    assert material["key"] == str(raw["id"])
    assert material["partNumber"] == code and material["name"] == raw["name"]
    assert material["description"] == raw["description"] and material["isActive"] is True
    assert material["uomKey"] == raw["default_uom_rel"]["symbol"] == "u"
    assert material["createdAt"].startswith(raw["create_date"][:19])
    assert material["updatedAt"].startswith(raw["write_date"][:19])
    (product,) = [p for p in map_all("products", connector.read("products", window))
                  if p["code"] == code]  # fmt: skip
    assert product["price"] == float(raw["list_price_used"]) and product["price"] > 0
    assert product["type"] == "goods" and product["status"] == "active"
    assert product["sku"] == code and product["quantity"] == raw["quantity"] == 0


def test_stocked_product_quantity(mapped, rpc):
    whs = rpc.search_read("stock.location", [("type", "=", "warehouse")], ["id"], limit=10)
    raw = rpc.search_read(
        "product.product", [("code", "=", "SP-00007")], FIELDS, limit=1,
        context={"locations": [w["id"] for w in whs]},
    )[0]  # fmt: skip
    (product,) = [p for p in mapped["products"] if p["key"] == str(raw["id"])]
    assert product["quantity"] == raw["quantity"] > 0


def test_purchase_order_field_by_field(mapped, rpc):
    raw = rpc.search_read(
        "purchase.purchase", [("state", "=", "processing")],
        ["number", "party", "warehouse", "total_amount", "untaxed_amount", "lines", "state",
         "purchase_date", "currency.code"], limit=1,
    )[0]  # fmt: skip
    (po,) = [p for p in mapped["purchase-orders"] if p["key"] == str(raw["id"])]
    assert po["orderNo"] == raw["number"] and po["status"] == "processing"
    assert po["vendorKey"] == str(raw["party"]) and po["siteKey"] == str(raw["warehouse"])
    assert po["totalGrossValue"] == float(raw["total_amount"]) > 0
    assert po["totalNetValue"] == float(raw["untaxed_amount"])
    assert po["currencyKey"] == raw["currency_rel"]["code"] == "USD"
    assert po["orderDate"] == raw["purchase_date"] + "T00:00:00Z"
    assert sorted(int(li["key"]) for li in po["lineItems"]) == sorted(raw["lines"])
    raw_lines = rpc.model("purchase.line", "read", raw["lines"], ["product", "quantity", "amount"])
    by_id = {str(r["id"]): r for r in raw_lines}
    for li in po["lineItems"]:
        assert li["materialKey"] == str(by_id[li["key"]]["product"])
        assert li["quantity"] == by_id[li["key"]]["quantity"]
        assert li["lineTotalValue"] == float(by_id[li["key"]]["amount"])
    total = sum(li["lineTotalValue"] for li in po["lineItems"])
    assert total == pytest.approx(po["totalNetValue"])


def test_stock_rows_equal_per_location_quantities(mapped, rpc):
    stocks = mapped["stocks"]
    row = stocks[0]
    raw = rpc.model(
        "product.product", "read", [int(row["materialKey"])], ["quantity"],
        context={"locations": [int(row["locationKey"])], "with_childs": False},
    )[0]  # fmt: skip
    assert row["quantity"] == raw["quantity"] > 0
    assert row["key"] == f"{row['materialKey']}:{row['locationKey']}"
    total = sum(s["quantity"] for s in stocks)
    storage = rpc.search_read("stock.location", [("type", "=", "storage")], ["id"], limit=1000)
    overall = rpc.search_read(
        "product.product", [("quantity", "!=", 0)], ["quantity"], limit=100_000,
        context={"locations": [s["id"] for s in storage], "with_childs": False},
    )  # fmt: skip
    assert total == pytest.approx(sum(r["quantity"] for r in overall))


# --- windows on write_date OR create_date --------------------------------------------------------


def location_keys(connector, start: datetime | None, end: datetime | None) -> set[str]:
    return {str(r["id"]) for page in connector.read("locations", Window(start, end)) for r in page}


def test_windows_find_new_by_create_date_and_edited_by_write_date(connector, rpc):
    new_id, old_id = rpc.model(
        "stock.location", "create",
        [{"name": "Window Test New", "type": "storage"},
         {"name": "Window Test Edited", "type": "storage"}],
    )  # fmt: skip
    time.sleep(0.01)
    rpc.model("stock.location", "write", [old_id], {"name": "Window Test Edited (renamed)"})
    new, old = rpc.model("stock.location", "read", [new_id, old_id], ["create_date", "write_date"])
    assert new["write_date"] is None and old["write_date"] is not None
    created, edited = utc(new["create_date"]), utc(old["write_date"])
    tick = timedelta(microseconds=1)
    # Never edited: found by create_date; the start is inclusive, the end exclusive.
    assert str(new_id) in location_keys(connector, created, created + tick)
    assert str(new_id) not in location_keys(connector, created - timedelta(hours=1), created)
    # Edited: found by write_date, no longer by its create_date alone.
    assert str(old_id) in location_keys(connector, edited, edited + tick)
    assert str(old_id) not in location_keys(connector, utc(old["create_date"]), edited)
    # Split at the boundary: each record in exactly one of the two halves, nothing lost.
    lo, mid, hi = created - timedelta(minutes=5), created, edited + timedelta(minutes=5)
    first, second = location_keys(connector, lo, mid), location_keys(connector, mid, hi)
    assert not first & second
    assert {str(new_id), str(old_id)} <= first | second
    assert location_keys(connector, lo, hi) == first | second


def test_purchase_found_when_only_a_line_changed(connector, rpc):
    po = rpc.search_read("purchase.purchase", [("state", "=", "draft")], ["lines"], limit=1)[0]
    line = po["lines"][0]
    rpc.model("purchase.line", "write", [line], {"note": "expedite please"})
    (raw,) = rpc.model("purchase.line", "read", [line], ["write_date"])
    edited = utc(raw["write_date"])
    pages = connector.read("purchase-orders", Window(edited, edited + timedelta(microseconds=1)))
    found = map_all("purchase-orders", pages)
    assert [p["key"] for p in found] == [str(po["id"])]
    (li,) = [li for li in found[0]["lineItems"] if li["key"] == str(line)]
    assert li["notes"] == "expedite please"


def test_keyset_paging_with_small_pages(tryton):
    with CONNECTOR(settings_for(tryton, page_size=7)) as small:
        pages = list(small.read("vendors", Window()))
        ids = [r["id"] for page in pages for r in page]
        assert len(pages) > 1 and all(len(p) <= 7 for p in pages)
        assert ids == sorted(ids) and len(ids) == len(set(ids))
        keys = [r["id"] for page in small.read_keys("vendors") for r in page]
        assert keys == ids


def test_vendor_domain_option_with_or(tryton):
    vendor_domain = ["OR", ("name", "=", "Fastenal"), ("name", "=", "ABB Service")]
    options = {"database": tryton.db, "vendor_domain": vendor_domain}
    with CONNECTOR(settings_for(tryton, options=options)) as conn:
        names = sorted(v["name"] for v in map_all("vendors", conn.read("vendors", Window())))
        assert names == ["ABB Service", "Fastenal"]
        assert len([r for page in conn.read_keys("vendors") for r in page]) == 2


def test_pages_are_plain_json(connector):
    """Pages are staged as JSON lines: no tagged or Python-only values may remain."""
    for entity in CONNECTOR.entities:
        page = next(iter(connector.read(entity, Window())))
        orjson.dumps(page)  # raises on anything that is not plain JSON

        def keys(value):
            if isinstance(value, dict):
                yield from value
                for v in value.values():
                    yield from keys(v)
            elif isinstance(value, list):
                for v in value:
                    yield from keys(v)

        found = set(keys(page))
        assert "__class__" not in found and not [k for k in found if k.endswith(".")], entity


def test_statuses(connector):
    codes = [s["code"] for s in connector.statuses("purchase-orders")]
    assert codes[:3] == ["draft", "quotation", "confirmed"]
    assert connector.statuses("materials") is None


# --- throughput ----------------------------------------------------------------------------------


def test_parts_read_throughput(tryton, capsys):
    """Best of two full reads of every part (the first also warms the server's caches)."""
    with CONNECTOR(settings_for(tryton, page_size=1000)) as conn:
        runs = []
        for _ in range(2):
            t0 = time.perf_counter()
            n = sum(len(page) for page in conn.read("materials", Window()))
            runs.append((time.perf_counter() - t0, n))
        t1 = time.perf_counter()
        mapped = len(map_all("materials", conn.read("materials", Window())))
        with_map = time.perf_counter() - t1
    seconds, n = min(runs)
    assert n >= PARTS and mapped == n
    with capsys.disabled():
        print(
            f"\ntryton materials: {n} parts read in {seconds:.2f}s = {n / seconds:,.0f} records/s "
            f"(cold run {runs[0][1] / runs[0][0]:,.0f}/s); read+map+validate "
            f"{n / with_map:,.0f} records/s"
        )


# --- protocol edges --------------------------------------------------------------------------


def test_expired_session_logs_in_again(tryton):
    rpc = TrytonRpc(tryton.url, tryton.db, tryton.user, tryton.password)
    rpc.login()
    first = rpc.user_id
    rpc.http.session.headers["Authorization"] = "Session YWRtaW46MTpub3BlCg=="  # admin:1:nope
    assert rpc.search_read("company.company", [], ["id"], limit=1)
    assert (
        rpc.user_id == first
        and "YWRtaW46MTpub3BlCg" not in rpc.http.session.headers["Authorization"]
    )
    rpc.close()


def test_missing_context_is_422(rpc):
    rpc.login()
    with pytest.raises(SourceError) as err:
        rpc._post("model.product.product.search", [[], 0, 1, None])
    assert err.value.status == 422 and "missing context" in str(err.value)


def test_repeated_bad_logins_get_429_and_are_never_retried(tryton):
    """Tryton counts failed logins per login name; a throwaway name keeps admin usable."""
    statuses = []
    for _ in range(4):
        rpc = TrytonRpc(tryton.url, tryton.db, "ghost-user", "bad")
        with pytest.raises(SourceError) as err:
            rpc.login()
        statuses.append(err.value.status)
        assert rpc.http.retries == 0 and rpc._login_http.retries == 0
        rpc.close()
    assert statuses[0] == 401 and statuses[-1] == 429
    assert "too many failed logins" in str(err.value)


def test_server_cli_setup_copies_the_cached_template(tryton):
    from connectors.tryton.server import main
    from tests.connectors.tryton.conftest import cache_dir

    db = f"cli_{tryton.db}"
    target = cache_dir() / f"{db}.sqlite"
    try:
        t0 = time.perf_counter()
        assert main(["setup", "--dir", str(cache_dir()), "--db", db]) == 0
        assert target.stat().st_size > 1_000_000 and time.perf_counter() - t0 < 10
    finally:
        target.unlink(missing_ok=True)
