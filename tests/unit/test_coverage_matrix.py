"""The coverage matrix (include/config/coverage.py): every connector's cells, their rules, and
docs/API.md showing the current table."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.registry import get_connector, systems
from include.config import coverage
from include.model import STATUS_CATEGORIES

DOC = Path(__file__).resolve().parents[2] / "docs" / "API.md"


def test_the_document_shows_the_current_matrix() -> None:
    text = DOC.read_text()
    start, end = "<!-- coverage-matrix:start -->\n", "\n<!-- coverage-matrix:end -->"
    shown = text[text.index(start) + len(start) : text.index(end)]
    assert shown == coverage.markdown(), "run python -m include.config.coverage into docs/API.md"


@pytest.mark.parametrize("system", systems())
def test_cells(system: str) -> None:
    cells = coverage.system_coverage(system)
    assert [c["resource"] for c in cells] == list(coverage.RESOURCES)
    connector = get_connector(system)
    for c in cells:
        mapped = c["resource"] in connector.entities or any(
            c["resource"] in s.mapping.children for s in connector.entities.values()
        )
        assert (c["coverage"] == "mapped") == mapped
        if c["coverage"] == "no_concept":
            assert c["reason"] == connector.no_concept[c["resource"]]
        elif c["coverage"] == "not_yet":
            assert c["reason"] == connector.not_yet.get(c["resource"])
        else:
            assert c["reason"] is None
        assert not (mapped and c["resource"] in connector.no_concept), "mapped and no concept"
        assert not (mapped and c["resource"] in connector.not_yet), "mapped and not yet"


@pytest.mark.parametrize("system", systems())
def test_status_tables_use_known_entities_and_categories(system: str) -> None:
    for entity, table in get_connector(system).status_categories.items():
        assert entity in STATUS_CATEGORIES
        assert set(table.values()) <= set(STATUS_CATEGORIES[entity]), (system, entity)


def test_an_unknown_resource_in_no_concept_is_refused(monkeypatch) -> None:
    cls = get_connector("tryton")
    monkeypatch.setattr(cls, "no_concept", {"gadgets": "none"})
    with pytest.raises(ValueError, match="gadgets"):
        coverage.system_coverage("tryton")


def test_a_not_yet_reason_is_served_and_listed(monkeypatch) -> None:
    cls = get_connector("tryton")
    resource = "teams"
    assert resource in cls.no_concept
    monkeypatch.setattr(
        cls, "no_concept", {k: v for k, v in cls.no_concept.items() if k != resource}
    )
    monkeypatch.setattr(cls, "not_yet", {resource: "no released read API found"})
    cell = next(c for c in coverage.system_coverage("tryton") if c["resource"] == resource)
    assert (cell["coverage"], cell["reason"]) == ("not_yet", "no released read API found")
    table = coverage.markdown()
    notes = [line.split(". ", 1)[1] for line in table.splitlines() if line[:1].isdigit()]
    number = notes.index(f"tryton, `{resource}`: no released read API found") + 1
    row = next(line for line in table.splitlines() if line.startswith("| `/api/eam/teams`"))
    assert f"not yet ({number})" in row


def test_not_yet_is_checked_like_no_concept(monkeypatch) -> None:
    cls = get_connector("tryton")
    monkeypatch.setattr(cls, "not_yet", {"gadgets": "later"})
    with pytest.raises(ValueError, match="not_yet names unknown resources.*gadgets"):
        coverage.system_coverage("tryton")
    mapped = next(iter(cls.entities))
    monkeypatch.setattr(cls, "not_yet", {mapped: "later"})
    with pytest.raises(ValueError, match=f"{mapped}.*mapped but still named in not_yet"):
        coverage.system_coverage("tryton")
    concept = next(iter(cls.no_concept))
    monkeypatch.setattr(cls, "not_yet", {concept: "later"})
    with pytest.raises(ValueError, match="both in no_concept and not_yet"):
        coverage.system_coverage("tryton")
