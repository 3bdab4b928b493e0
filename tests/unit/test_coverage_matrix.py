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
        assert (c["reason"] is not None) == (c["coverage"] == "no_concept")
        assert not (mapped and c["resource"] in connector.no_concept), "mapped and no concept"


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
