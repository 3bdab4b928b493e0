"""One entity's sync, the body of the DAG's ``sync`` task, callable outside Airflow too.

`sync_entity_once` plans the window (`pipeline.plan_window`, or a full read), opens the connector
from the connection's Airflow Connection, streams extract -> map -> load
(`streaming.sync_entity`), after checking the entity's custom fields against the source's
metadata (`include.sync.fields.ensure_known`: an unknown path fails before any data is read), and removes the staging files after a successful load. A failed run
keeps its staging: a retry with the same ``run_id`` does not read a completely read source again.
``millwright sync`` (include/cli/main.py) and the DAG's task share it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectors.base import Connector, Window
from connectors.registry import get_connector
from include.airflow import glue
from include.config import ConnectionConfig
from include.model import CHILD_ENTITIES
from include.sync import fields, pipeline, streaming

if TYPE_CHECKING:
    from include.store import Store


@dataclass(frozen=True)
class RunSpec:
    """What the window depends on: the run's id and type, its data interval, a forced full read."""

    run_id: str
    run_type: str = "manual"  # scheduled | manual | backfill | asset_triggered
    interval_start: datetime | None = None
    interval_end: datetime | None = None
    full: bool = False


def sync_entities(cfg: ConnectionConfig) -> list[str]:
    """The entities a sync runs for, in the DAG's order (children load with their parent)."""
    return [e for e in cfg.selected_entities() if e not in CHILD_ENTITIES]


def plan(store: Store, cfg: ConnectionConfig, entity: str, run: RunSpec) -> Window:
    """The entity's window for this run: everything when ``run.full``, else the incremental
    contract's window (`pipeline.plan_window`)."""
    if run.full:
        return Window()
    return pipeline.plan_window(
        store, cfg, entity, incremental=get_connector(cfg.system).entities[entity].incremental,
        run_type=run.run_type, interval_start=run.interval_start, interval_end=run.interval_end,
    )  # fmt: skip


def window_columns(window: Window) -> dict[str, str | None]:
    """The window as `sync_runs` columns."""
    d = pipeline.window_to_dict(window)
    return {"window_start": d["start"], "window_end": d["end"]}


def sync_entity_once(
    cfg: ConnectionConfig,
    entity: str,
    *,
    run: RunSpec,
    store: Store,
    attempt: int = 1,
    source: Callable[[ConnectionConfig], AbstractContextManager[Connector]] = glue.make_connector,
) -> dict[str, Any]:
    """Sync one entity of one connection once; the load summary (counts, window, full).

    The entity's `sync_runs` row becomes ``running`` (attempt ``attempt``) once the window is
    planned; the load marks it ``success``. ``source`` opens the connector (the DAG passes one that
    turns a connector it cannot build into `run_status.ConnectionSetupError`). Raises
    `pipeline.QuarantineThresholdExceeded` (after loading the good records) when too many records
    were quarantined, and whatever the source or the store raised otherwise: recording a failure is
    the caller's (the DAG's task callbacks, the CLI)."""
    from include.admin.guard import write_guard

    connector_cls = get_connector(cfg.system)
    if entity not in sync_entities(cfg):
        raise ValueError(
            f"connection {cfg.id} does not sync {entity!r} "
            f"(it syncs: {', '.join(sync_entities(cfg))})"
        )
    out = glue.staging_dir(cfg.id, entity, run.run_id)
    window = plan(store, cfg, entity, run)
    store.run_started(
        cfg.id, entity, run.run_id, task="sync", attempt=attempt, **window_columns(window)
    )
    with source(cfg) as connector:
        fields.ensure_known(connector, store, cfg, entity)  # before any data is read
        summary = streaming.sync_entity(
            connector, cfg, entity, window, out, store, run.run_id,
            incremental=connector_cls.entities[entity].incremental,
            path_factory=glue.to_staging_path,
            guard=write_guard(cfg.id),  # a disconnect mid-run: nothing more is written
        )  # fmt: skip
    glue.clean_staging(cfg.id, entity, run.run_id)
    return summary
