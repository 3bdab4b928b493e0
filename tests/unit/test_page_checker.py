"""`page_checker(entity, mapping)` accepts and rejects exactly the records the full checker does."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.maximo.mapping import ENTITIES
from include.mapping import CompiledMapping, EntityMapping, MappingError
from include.model import CHILD_ENTITIES, checked_fields, page_checker
from include.model.timeutil import zone
from tests.unit.test_mapping_codegen import _paths, random_record


def accepts(checker: Any, record: dict) -> bool:
    try:
        checker.validate_python([record])
        return True
    except ValidationError:
        return False


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_reduced_checker_agrees_with_full_checker(entity: str) -> None:
    mapping = ENTITIES[entity].mapping
    cm = CompiledMapping(mapping, zone("America/New_York"), {"crew": "crewid"})
    assert checked_fields(entity, cm) is not None
    full, reduced = page_checker(entity), page_checker(entity, cm)
    rnd = random.Random(entity)
    paths = _paths(mapping) | {"crewid"}
    verdicts = set()
    for _ in range(2000):
        try:
            _, _, _, data = cm.row(random_record(rnd, paths))
        except (MappingError, ValueError, TypeError, AttributeError):
            continue
        for parent, list_field, _ in CHILD_ENTITIES.values():
            if parent == entity:  # as the pipeline does
                data[list_field] = [{"key": "k", "lineNo": rnd.choice(["1", 1])}]
        verdict = accepts(full, data)
        assert accepts(reduced, data) == verdict, data
        verdicts.add(verdict)
    assert True in verdicts


def test_values_a_mapping_does_not_guarantee_are_checked() -> None:
    m = EntityMapping(
        key=("id",),
        fields={
            "code": {"fn": lambda r, tz: r.get("code")}, "siteKey": {"ref": ["site"]},
            "scheduledAt": {"ts": "t"}, "dueAt": "due", "title": {"str": "title"},
        },
    )  # fmt: skip
    cm = CompiledMapping(m, zone("UTC"), {"c": "c"})
    assert checked_fields("work-orders", cm) == {"key", "code", "dueAt"}
    reduced = page_checker("work-orders", cm)
    ok = {"id": 1, "code": "A", "site": "S", "t": "2024-01-01T00:00:00-05:00", "title": 5}
    assert accepts(reduced, cm.row(ok)[3])
    for bad in ({"code": 5}, {"due": "2024-01-01"}, {"due": 7}, {"id": "x" * 600}):
        assert not accepts(reduced, cm.row({**ok, **bad})[3]), bad
        assert not accepts(page_checker("work-orders"), cm.row({**ok, **bad})[3]), bad


def test_unknown_field_makes_the_checker_check_everything() -> None:
    m = EntityMapping(key=("id",), fields={"siteKey": {"ref": ["site"]}, "bogus": "x"})
    cm = CompiledMapping(m, zone("UTC"))
    assert checked_fields("work-orders", cm) is None
    assert not accepts(page_checker("work-orders", cm), cm.row({"id": 1, "x": "y"})[3])
