"""Helpers shared by the store tests."""

from __future__ import annotations

import orjson
import sqlalchemy as sa

from include.store import LoadRow, Store

T0 = "2024-01-01T00:00:00Z"
T1 = "2024-01-02T00:00:00Z"
T2 = "2024-01-03T00:00:00Z"
T3 = "2024-01-04T00:00:00Z"
WO = "work-orders"


def row(key: str, version: str | None = T1, **data) -> LoadRow:
    body = {"key": key, "title": f"t-{key}", **data}
    return LoadRow(
        key=key,
        remote_id=key.upper(),
        version=version,
        data=orjson.dumps(body),
        raw=orjson.dumps({"ID": key.upper(), **data}),
        parent_key=data.get("parentKey"),
        updated_at=version,
        created_at=T0,
        deleted_at=data.get("deletedAt"),
    )


def snapshot(store: Store, *, with_synced_at: bool = False) -> dict:
    """Every row of records, cursors (value only) and entity_counts, in a stable order."""
    skip = set() if with_synced_at else {"synced_at"}
    with store.engine.connect() as conn:
        recs = conn.execute(
            sa.text("SELECT * FROM records ORDER BY connection_id, entity, key")
        ).mappings()
        records = []
        for r in recs:
            d = {k: v for k, v in r.items() if k not in skip}
            for k in ("data", "raw"):
                if isinstance(d[k], str):
                    d[k] = orjson.loads(d[k])
            records.append(d)
        cursors = conn.execute(
            sa.text("SELECT connection_id, entity, value FROM cursors ORDER BY 1, 2")
        ).all()
        counts = conn.execute(sa.text("SELECT * FROM entity_counts ORDER BY 1, 2")).all()
    return {"records": records, "cursors": [tuple(c) for c in cursors], "counts": counts}


def true_counts(store: Store, connection_id: str, entity: str) -> tuple[int, int]:
    """(live, all) by COUNT(*), to check the maintained counts against."""
    with store.engine.connect() as conn:
        live, total = conn.execute(
            sa.text(
                "SELECT SUM(CASE WHEN deleted_at IS NULL THEN 1 ELSE 0 END), COUNT(*) "
                "FROM records WHERE connection_id = :c AND entity = :e"
            ),
            {"c": connection_id, "e": entity},
        ).one()
    return int(live or 0), int(total)


def assert_counts_true(store: Store, connection_id: str, entity: str) -> None:
    live, total = true_counts(store, connection_id, entity)
    assert store.count(connection_id, entity) == live
    assert store.count(connection_id, entity, include_deleted=True) == total
