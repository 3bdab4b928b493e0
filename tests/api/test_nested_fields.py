"""The nested shapes of include/model/nested.py against Makini's documents: for every resource we
serve, each field whose object (or list item) Makini declares field by field has its shape, with
the same sub-fields in the same order and ``[]`` exactly for the array ones. Skips when the
reference files are absent (tests/api/oas_coverage.py says where they are looked for)."""

from __future__ import annotations

from typing import Any

import pytest

from include.model import EAM_ENTITIES, ENTITIES, ERP_ENTITIES
from include.model.nested import NESTED_FIELDS, Shape
from tests.api.oas_coverage import load_makini, reference_dir

# records of their own entity (POLineItem), complete by record_defaults, not a nested shape
RECORD_LISTS = {"lineItems"}


def _resolve(doc: dict, s: Any) -> dict:
    schemas = doc["components"]["schemas"]
    while isinstance(s, dict) and "$ref" in s:
        s = schemas[s["$ref"].rsplit("/", 1)[-1]]
    return s if isinstance(s, dict) else {}


def _object_props(doc: dict, s: Any) -> dict | None:
    """The properties of an object schema, or of the items of an array of objects; else None."""
    s = _resolve(doc, s)
    if s.get("properties"):
        return s["properties"]
    if s.get("type") == "array":
        items = _resolve(doc, s.get("items"))
        return items.get("properties") or None
    return None


def _record_props(doc: dict, path: str) -> dict:
    op = doc["paths"].get(path, {}).get("get")
    if op is None:
        return {}
    schema = _resolve(doc, op["responses"]["200"]["content"]["application/json"]["schema"])
    data = (schema.get("properties") or {}).get("data")
    if data is None:
        return {}
    data = _resolve(doc, data)
    return _resolve(doc, data.get("items", data)).get("properties") or {}


def _check(doc: dict, shape: Shape, props: dict, where: str) -> None:
    assert list(shape.empty) == list(props), f"{where}: sub-fields differ from Makini's"
    for name, p in props.items():
        is_array = _resolve(doc, p).get("type") == "array"
        assert (shape.empty[name] == []) == is_array, f"{where}.{name}: array or not"
        sub = _object_props(doc, p)
        if sub is not None:
            assert name in shape.nested, f"{where}.{name}: a nested object without its shape"
            _check(doc, shape.nested[name], sub, f"{where}.{name}")


@pytest.mark.parametrize("ns", ["eam", "erp"])
def test_nested_shapes_are_makinis(ns):
    doc = load_makini(ns)
    if doc is None:
        pytest.skip(f"Makini reference OpenAPI files not found under {reference_dir()}")
    seen = 0
    for entity in EAM_ENTITIES if ns == "eam" else ERP_ENTITIES:
        model_fields = ENTITIES[entity].model_fields
        ours = NESTED_FIELDS.get(entity, {})
        for field, p in _record_props(doc, f"/api/{ns}/{entity}").items():
            props = _object_props(doc, p)
            if props is None or field not in model_fields or field in RECORD_LISTS:
                continue
            assert field in ours, f"{ns} {entity}.{field}: Makini declares its sub-fields"
            _check(doc, ours[field], props, f"{ns} {entity}.{field}")
            seen += 1
    assert seen > (10 if ns == "eam" else 0)


def test_every_nested_field_is_a_field_of_its_model():
    for entity, fields in NESTED_FIELDS.items():
        assert set(fields) <= set(ENTITIES[entity].model_fields), entity
