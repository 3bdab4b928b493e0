"""Pure pieces of the Tryton connector: tagged values, errors, window domains, mapping."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from connectors.base import SourceSettings
from connectors.tryton import CONNECTOR
from connectors.tryton.client import TrytonRpc, decode, encode, error_text
from connectors.tryton.connector import _prefix, window_domain
from include.mapping import CompiledMapping
from include.model import list_adapter

UTC = ZoneInfo("UTC")


def test_encode_tags_datetimes_dates_and_decimals():
    out = encode([datetime(2026, 3, 1, 12, 30, 5, 7), date(2026, 3, 1), Decimal("1.50"), "x"])
    assert out[0] == {
        "__class__": "datetime", "year": 2026, "month": 3, "day": 1, "hour": 12, "minute": 30,
        "second": 5, "microsecond": 7,
    }  # fmt: skip
    assert out[1] == {"__class__": "date", "year": 2026, "month": 3, "day": 1}
    assert out[2] == {"__class__": "Decimal", "decimal": "1.50"}
    assert out[3] == "x"


def test_decode_tagged_values_and_related_keys():
    raw = {
        "write_date": None,
        "create_date": {"__class__": "datetime", "year": 2026, "month": 1, "day": 2, "hour": 3,
                        "minute": 4, "second": 5, "microsecond": 6},
        "planned": {"__class__": "date", "year": 2026, "month": 1, "day": 2},
        "price": {"__class__": "Decimal", "decimal": "12.30"},
        "delay": {"__class__": "timedelta", "seconds": 90.0},
        "party.": {"id": 3, "name.": {"x": 1}},
    }  # fmt: skip
    out = decode(raw)
    assert out["create_date"] == "2026-01-02T03:04:05.000006"
    assert out["planned"] == "2026-01-02"
    assert out["price"] == "12.30"
    assert out["delay"] == 90.0
    assert out["party_rel"] == {"id": 3, "name_rel": {"x": 1}}
    assert "party." not in out


def test_error_text_tryton_and_python_errors():
    user_error = ["UserError", ['A value is required for field "Name".', "", None]]
    assert error_text(user_error) == ("UserError", 'A value is required for field "Name".')
    assert error_text(["ConcurrencyException", "Records were modified"]) == (
        "ConcurrencyException",
        "Records were modified",
    )
    assert error_text(["'no.such.model'", ""]) == ("ServerError", "'no.such.model'")


def test_window_domain_or_on_write_date_and_create_date():
    s, e = datetime(2026, 1, 1), datetime(2026, 1, 2)
    assert window_domain(None, None) == []
    assert window_domain(s, e) == [
        "OR",
        [("write_date", ">=", s), ("write_date", "<", e)],
        [("write_date", "=", None), ("create_date", ">=", s), ("create_date", "<", e)],
    ]
    assert window_domain(None, e)[1] == [("write_date", "<", e)]
    assert _prefix(window_domain(s, e), "lines.")[2][1] == ("lines.create_date", ">=", s)


def test_naive_window_in_source_zone():
    settings = SourceSettings(
        "c", "http://127.0.0.1:9", {"user": "u", "password": "p"}, ZoneInfo("Europe/Berlin"),
        options={"database": "d"},
    )  # fmt: skip
    conn = CONNECTOR(settings)
    assert conn._naive(datetime(2026, 7, 1, 10, 0, tzinfo=UTC)) == datetime(2026, 7, 1, 12, 0)
    conn.close()


def test_missing_database_or_credentials_are_clear_errors():
    with pytest.raises(ValueError, match="database"):
        TrytonRpc("http://127.0.0.1:9", "", "admin", "pw")
    with pytest.raises(ValueError, match="password"):
        TrytonRpc("http://127.0.0.1:9", "db", "admin", "")


def test_unknown_entity_names_the_supported_ones():
    settings = SourceSettings(
        "c", "http://127.0.0.1:9", {"user": "u", "password": "p"}, UTC, options={"database": "d"}
    )
    with CONNECTOR(settings) as conn, pytest.raises(KeyError, match="meters.*supported"):
        list(conn.read("meters", __import__("connectors.base").base.Window()))


def test_mapping_of_a_recorded_purchase_with_lines():
    raw = {
        "id": 7, "number": "P7", "state": "confirmed", "party": 12, "company": 1, "warehouse": 4,
        "currency": 1, "currency_rel": {"id": 1, "code": "USD"}, "purchase_date": "2026-02-03",
        "untaxed_amount": "100.00", "total_amount": "110.00", "confirmed_by": 2,
        "create_date": "2026-02-03T08:00:00.5", "write_date": None,
        "last_modified_at": "2026-02-03T08:00:00.5",
        "lines": [{
            "id": 70, "purchase": 7, "product": 33, "product_rel": {"id": 33, "code": "SP-1"},
            "quantity": 2.0, "unit_price": "50.00", "amount": "100.00", "supplier": 12,
            "unit_rel": {"symbol": "u"}, "currency_rel": {"code": "USD"}, "sequence": None,
            "create_date": "2026-02-03T08:00:00.5", "write_date": None,
            "last_modified_at": "2026-02-03T08:00:00.5",
        }],
    }  # fmt: skip
    mapping = CONNECTOR.entities["purchase-orders"].mapping
    compiled = CompiledMapping(mapping, UTC)
    rec = compiled(raw)
    assert rec.key == "7" and rec.data["vendorKey"] == "12" and rec.data["siteKey"] == "4"
    assert rec.data["orderDate"] == "2026-02-03T00:00:00Z"
    assert rec.data["totalGrossValue"] == 110.0 and rec.data["currencyKey"] == "USD"
    assert rec.data["createdAt"] == "2026-02-03T08:00:00.500000Z"
    _, child = compiled.children["purchase-orders.line-items"]
    line = child(raw["lines"][0])
    assert line.data["purchaseOrderKey"] == rec.key and line.data["materialKey"] == "33"
    assert line.data["lineTotalValue"] == 100.0 and line.data["uomKey"] == "u"
    list_adapter("purchase-orders").validate_python([{**rec.data, "lineItems": [line.data]}])


def test_registry_and_connection_config_know_tryton():
    import json

    from connectors.registry import get_connector
    from include.config import ConnectionConfig, parse_connections

    assert get_connector("tryton") is CONNECTOR
    entry = {
        "id": "plant-erp", "customer": "acme", "system": "tryton", "airflow_conn_id": "tryton_acme",
        "entities": ["materials", "purchase-orders"], "options": {"database": "millwright"},
    }  # fmt: skip
    (cfg,) = parse_connections(json.dumps([entry]))
    assert isinstance(cfg, ConnectionConfig) and cfg.selected_entities() == entry["entities"]
    (bad,) = parse_connections(json.dumps([{**entry, "entities": ["meters"]}]))
    assert "meters not supported by tryton" in str(bad)
