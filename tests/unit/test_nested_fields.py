"""Nested objects filled field by field (include/model/nested.py) and by the mapping."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from include.mapping import EntityMapping
from include.mapping.compiled import CompiledMapping
from include.model.nested import ADDRESS, SHAPES, filled, missing_sub_fields


def test_an_object_gets_every_declared_sub_field_in_makinis_order_then_its_own():
    out = filled({"city": "Oslo", "extra": 1}, SHAPES["Address"])
    assert list(out) == [*ADDRESS, "extra"]
    assert out["city"] == "Oslo" and out["extra"] == 1
    assert all(out[f] is None for f in ADDRESS if f != "city")
    assert missing_sub_fields(out, SHAPES["Address"]) == []


def test_each_item_of_a_list_and_nested_lists_of_objects_are_filled():
    drawings = [{"drawingNo": "D1", "documents": [{"url": "u"}]}, {"drawingNo": "D2"}]
    out = filled(drawings, SHAPES["Drawing"])
    assert out[0]["documents"][0]["url"] == "u" and out[0]["documents"][0]["entityKeys"] == []
    assert out[0]["documents"][0]["name"] is None
    assert out[1]["documents"] == []  # declared an array: empty list, not null
    assert missing_sub_fields(out, SHAPES["Drawing"]) == []
    assert missing_sub_fields(drawings, SHAPES["Drawing"])  # the input was not complete


def test_absent_objects_and_non_objects_stay_as_they_are():
    shape = SHAPES["Task"]
    assert filled(None, shape) is None
    assert filled([], shape) == []
    assert filled(["a", None], shape) == ["a", None]
    assert filled("text", shape) == "text"


def test_the_mapping_fills_nested_objects_of_the_records_it_writes():
    m = EntityMapping(
        key=("id",),
        fields={
            "address": {"fn": lambda r, tz: {"city": r["city"]} if r.get("city") else None},
            "name": "name",
        },
    )
    cm = CompiledMapping(m, ZoneInfo("UTC"), entity="locations")
    with_city = cm({"id": 1, "city": "Oslo", "name": "L1"}).data
    assert list(with_city["address"]) == list(ADDRESS)
    assert with_city["address"]["city"] == "Oslo" and with_city["address"]["state"] is None
    assert cm({"id": 2, "name": "L2"}).data["address"] is None  # no object: null, as before
    # without an entity (no model) nothing is filled
    bare = CompiledMapping(m, ZoneInfo("UTC"))
    assert bare({"id": 1, "city": "Oslo"}).data["address"] == {"city": "Oslo"}
