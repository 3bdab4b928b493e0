"""Pure code: the sandbox's $filter/$orderby evaluation and the mapping's SAP time helpers."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from connectors.sap_s4hana.mapping import combine_date_time, local_ts, sap_wallclock
from connectors.sap_s4hana.sandbox.odata import (
    EntitySetInfo,
    ODataError,
    compile_filter,
    sort_key,
)

ES = EntitySetInfo(
    "SVC", "S", "ns.SType", ("K",),
    {"K": "Edm.String", "T": "Edm.DateTimeOffset", "D": "Edm.DateTime", "H": "Edm.Time",
     "N": "Edm.Decimal", "B": "Edm.Boolean"},
)  # fmt: skip
ROWS = [
    {"K": "a", "T": "/Date(1000+0000)/", "D": "/Date(0)/", "H": "PT10H00M00S", "N": "1.50", "B": True},
    {"K": "b", "T": "/Date(2000+0000)/", "D": "/Date(86400000)/", "H": "PT09H30M00S", "N": "10.00", "B": False},
    {"K": "c", "T": None, "D": None, "H": "PT00H00M00S", "N": "2", "B": False},
]  # fmt: skip


def keys(expr: str) -> list[str]:
    pred = compile_filter(expr, ES)
    return [r["K"] for r in ROWS if pred(r)]


def test_filter_operators_and_literals():
    assert keys(
        "T ge datetimeoffset'1970-01-01T00:00:01Z' and T lt datetimeoffset'1970-01-01T00:00:02Z'"
    ) == ["a"]
    assert keys("D eq datetime'1970-01-02T00:00:00'") == ["b"]
    assert keys("D eq null") == ["c"]
    assert keys("H gt time'PT09H30M00S'") == ["a"]
    assert keys("N gt 1.9M") == ["b", "c"]  # decimals compare as numbers, not strings
    assert keys("K eq 'a' or (K ne 'b' and not B eq true)") == ["a", "c"]
    assert keys("K le 'b'") == ["a", "b"]


@pytest.mark.parametrize(
    "expr, message",
    [
        ("Nope eq 'x'", "Property Nope not found"),
        ("T ge datetime'2024-01-01T00:00:00'", "T is Edm.DateTimeOffset"),
        ("K eq", "ends too early"),
        ("K like 'a'", "unsupported operator"),
        ("(K eq 'a'", "missing ')'"),
        ("T ge datetimeoffset'yesterday'", "bad literal"),
    ],
)
def test_filter_errors_name_the_problem(expr, message):
    with pytest.raises(ODataError) as info:
        compile_filter(expr, ES)
    assert info.value.status == 400 and message in info.value.message


def test_orderby_types_and_direction():
    [(fn, desc)] = sort_key("N desc", ES)
    assert desc and sorted(ROWS, key=fn, reverse=True)[0]["K"] == "b"
    with pytest.raises(ODataError, match="Property X not found"):
        sort_key("X", ES)


def test_sap_time_helpers():
    assert sap_wallclock("/Date(1714521600000)/") == datetime(2024, 5, 1)
    assert sap_wallclock("/Date(1714521600000+0000)/") == datetime(2024, 5, 1)
    assert combine_date_time("/Date(1714521600000)/", "PT10H20M30S") == datetime(
        2024, 5, 1, 10, 20, 30
    )
    conv = local_ts("D")["fn"]
    # 2024-05-01T00:00 in Berlin (CEST, +02:00) is 2024-04-30T22:00Z
    assert conv({"D": "/Date(1714521600000)/"}, ZoneInfo("Europe/Berlin")) == "2024-04-30T22:00:00Z"
    assert conv({"D": None}, ZoneInfo("UTC")) is None
