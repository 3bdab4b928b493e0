"""Migration 0004 (PostgreSQL: `raw` jsonb -> json) keeps stored content both ways."""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from alembic import command

from include.store import QuarantineItem, Store
from include.store.engine import write_txn
from include.store.migrate import alembic_config, current_revision, upgrade

from .helpers import T1, T2, WO, row

RAW = {"WONUM": "1", "nested": {"b": [1, 2.5, None], "a": "é"}}


def _downgrade(engine: sa.Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.connect() as conn, write_txn(conn):
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def _raw_types(engine: sa.Engine) -> dict[str, str]:
    if engine.dialect.name != "postgresql":
        return {
            t: next(c["type"] for c in sa.inspect(engine).get_columns(t) if c["name"] == "raw")
            for t in ("records", "quarantine")
        }
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT table_name, data_type FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND column_name = 'raw'"
            )
        ).all()
    return dict(rows)


def _raws(store: Store) -> tuple[list, list]:
    recs = [(r["key"], r["raw"]) for r in (store.get_record("c1", WO, k) for k in ("a", "b"))]
    quar = [(q["remote_key"], q["raw"]) for q in store.quarantine_list("c1", WO)]
    return recs, quar


def test_0004_upgrade_and_downgrade_keep_raw(store_url: str) -> None:
    store = Store(store_url)
    try:
        upgrade(store.engine, "0003")
        store.load_batch("c1", WO, [row("a", T1), row("b", T1)._replace(raw=orjson.dumps(RAW))],
                         synced_at=T1)  # fmt: skip
        store.quarantine_add("c1", WO, "r1", [QuarantineItem("q1", orjson.dumps(RAW), "bad")])
        before = _raws(store)
        assert before[0][1] == ("b", RAW) and before[1] == [("q1", RAW)]

        upgrade(store.engine, "0004")
        assert current_revision(store.engine) == "0004"
        if store.dialect == "postgresql":
            assert _raw_types(store.engine) == {"records": "json", "quarantine": "json"}
        assert _raws(store) == before
        # loads after the upgrade: raw is stored as sent (json keeps the text verbatim)
        text = '{"ID": "C",  "z": 1, "a": [1,2]}'
        store.load_batch("c1", WO, [row("c", T2)._replace(raw=text)], synced_at=T2)
        with store.engine.connect() as conn:
            stored = conn.execute(
                sa.text("SELECT CAST(raw AS text) FROM records WHERE key = 'c'")
            ).scalar_one()
        assert stored == text

        _downgrade(store.engine, "0003")
        assert current_revision(store.engine) == "0003"
        if store.dialect == "postgresql":
            assert _raw_types(store.engine) == {"records": "jsonb", "quarantine": "jsonb"}
        assert _raws(store) == before
        assert store.get_record("c1", WO, "c")["raw"] == orjson.loads(text)

        store.migrate()  # and up again
        assert _raws(store) == before
    finally:
        store.close()
