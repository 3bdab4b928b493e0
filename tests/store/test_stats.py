"""PostgreSQL planner statistics follow each entity's bulk load, not only the table's size."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from include.store import Store
from tests.store.helpers import row

pytestmark = pytest.mark.postgres


def _expected_rows(store: Store, entity: str) -> float:
    with store.engine.connect() as conn:
        plan = conn.execute(
            sa.text(
                "EXPLAIN (FORMAT JSON) SELECT 1 FROM records "
                "WHERE connection_id = 'c1' AND entity = '" + entity + "'"
            )
        ).scalar()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return float(plan[0]["Plan"]["Plan Rows"])


def test_a_second_entity_as_large_as_the_first_gets_statistics(pg_url):
    """The first entity's load leaves statistics that know nothing of the second; before the
    per-entity test the planner expected ~1 row of it and merges into it ran at ~600 rows/s."""
    store = Store(pg_url)
    store.migrate()
    try:
        for entity in ("work-orders", "assets"):
            for b in range(3):
                rows = [row(f"{entity}-{b}-{i}") for i in range(2000)]
                store.load_batch("c1", entity, rows, synced_at="2024-02-01T00:00:00Z",
                                 assume_new=True)  # fmt: skip
        assert _expected_rows(store, "work-orders") >= 3000
        assert _expected_rows(store, "assets") >= 3000
    finally:
        store.close()
