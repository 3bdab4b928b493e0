"""Fixtures for custom fields: a migrated store, a sync run as the DAG's ``sync`` task runs it
(`include.airflow.runner.sync_entity_once`, the first-task check included) against a sandbox."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from connectors.base import Connector, SourceSettings
from connectors.registry import get_connector
from include.airflow import runner
from include.config import ConnectionConfig
from include.model.timeutil import utcnow, zone
from include.store import Store, schema

_RUNS = itertools.count(1)
Factory = Callable[[ConnectionConfig], Connector]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("MILLWRIGHT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MILLWRIGHT_STAGING_URL", raising=False)
    s = Store(f"sqlite:///{tmp_path / 'store.db'}")
    s.migrate()
    yield s
    s.close()


def factory(url: str, credentials: dict[str, str], **options: Any) -> Factory:
    """Opens a connection's source the way the DAG does: settings from its config (custom
    fields' paths included), host and credentials from here."""

    def make(cfg: ConnectionConfig) -> Connector:
        opts = {"retry_base_delay": 0.01, "retry_max_sleep": 0.5, **options, **cfg.options}
        settings = SourceSettings(
            connection_id=cfg.id, host=url, credentials=credentials,
            timezone=zone(cfg.source_timezone), page_size=cfg.page_size, options=opts,
            custom_paths=cfg.custom_paths(),
        )  # fmt: skip
        return get_connector(cfg.system)(settings)

    return make


def sync(
    store: Store, cfg: ConnectionConfig, entity: str, source: Factory, run_type: str = "scheduled"
) -> dict:
    now = utcnow()
    run = runner.RunSpec(
        run_id=f"run{next(_RUNS)}", run_type=run_type,
        interval_start=now - timedelta(hours=1), interval_end=now,
    )  # fmt: skip
    return runner.sync_entity_once(cfg, entity, run=run, store=store, source=source)


def stored(store: Store, cid: str, entity: str) -> dict[str, dict]:
    """Every live stored record of an entity: key -> data."""
    import orjson

    r = schema.records
    stmt = sa.select(r.c.key, r.c.data).where(
        r.c.connection_id == cid, r.c.entity == entity, r.c.deleted_at.is_(None)
    )
    with store.engine.connect() as conn:
        return {
            k: orjson.loads(d) if isinstance(d, str | bytes) else d
            for k, d in conn.execute(stmt).all()
        }
