"""The coverage matrix: for every system and every resource of Makini's EAM document, whether
Millwright maps it (`mapped`), the system has no such concept (`no_concept`, with the reason the
connector gives) or it is not mapped yet (`not_yet`; with a reason when the connector's `not_yet`
dict, a mapping module's ``NOT_YET``, says why: e.g. the system has the concept but no released
read API for it was found).

Served by ``GET /api/system/platforms`` (each platform's ``coverage``) and printed as the table in
docs/API.md by ``python -m include.config.coverage`` (tests/unit/test_coverage_matrix.py checks
that the document shows the current table).
"""

from __future__ import annotations

from typing import Literal, TypedDict

from connectors.registry import get_connector, systems
from include.model import EAM_ENTITIES, MATERIAL_ITEM_ENTITIES

Coverage = Literal["mapped", "no_concept", "not_yet"]
SYMBOL = {"mapped": "mapped", "no_concept": "no concept", "not_yet": "not yet"}


class Cell(TypedDict):
    resource: str
    path: str
    coverage: Coverage
    reason: str | None


def _path(resource: str) -> str:
    owner = MATERIAL_ITEM_ENTITIES.get(resource)
    if owner is None:
        return f"/api/eam/{resource}"
    sub = "children" if owner[0] == "materials" else "materials"
    return f"/api/eam/{owner[0]}/{{key}}/{sub}"


RESOURCES: tuple[str, ...] = (*EAM_ENTITIES, *MATERIAL_ITEM_ENTITIES)


def system_coverage(system: str) -> list[Cell]:
    """One cell per Makini EAM resource for ``system``."""
    connector = get_connector(system)
    reasons = dict(getattr(connector, "no_concept", {}) or {})
    pending = dict(getattr(connector, "not_yet", {}) or {})
    for name, given in (("no_concept", reasons), ("not_yet", pending)):
        unknown = set(given) - set(RESOURCES)
        if unknown:
            raise ValueError(f"{system}: {name} names unknown resources {sorted(unknown)}")
    both = set(reasons) & set(pending)
    if both:
        raise ValueError(f"{system}: {sorted(both)} both in no_concept and not_yet")
    # child entities (a purchase order's lines) come with their parent's mapping
    mapped = set(connector.entities)
    for spec in connector.entities.values():
        mapped.update(spec.mapping.children)
    stale = mapped & set(pending)
    if stale:
        raise ValueError(f"{system}: {sorted(stale)} are mapped but still named in not_yet")
    cells: list[Cell] = []
    for resource in RESOURCES:
        if resource in mapped:
            state: Coverage = "mapped"
            reason = None
        elif resource in reasons:
            state, reason = "no_concept", reasons[resource]
        else:
            state, reason = "not_yet", pending.get(resource)
        cells.append(Cell(resource=resource, path=_path(resource), coverage=state, reason=reason))
    return cells


def matrix() -> dict[str, list[Cell]]:
    return {s: system_coverage(s) for s in systems()}


def markdown() -> str:
    """The matrix as a Markdown table (resources down, systems across) and the reasons."""
    m = matrix()
    names = list(m)
    lines = [
        "| resource | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    notes: list[str] = []
    for i, resource in enumerate(RESOURCES):
        row = []
        for s in names:
            cell = m[s][i]
            mark = SYMBOL[cell["coverage"]]
            if cell["reason"]:
                notes.append(f"- {s}, `{resource}`: {cell['reason']}")
                mark += f" ({len(notes)})"
            row.append(mark)
        lines.append(f"| `{m[names[0]][i]['path']}` | " + " | ".join(row) + " |")
    counts = {s: sum(1 for c in cells if c["coverage"] == "mapped") for s, cells in m.items()}
    summary = ", ".join(f"{s} {n}/{len(RESOURCES)}" for s, n in counts.items())
    reasons = [f"{n}. {text[2:]}" for n, text in enumerate(notes, 1)]
    return "\n".join([*lines, "", f"Mapped: {summary}.", "", *reasons])


if __name__ == "__main__":
    print(markdown())
