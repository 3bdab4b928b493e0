"""A connection's sync state in Makini's terms (served by `/api/integrations/current` and the
admin API's connection views; the API only calls `integration_status` / `sync_summary`).

Every task of a sync DAG writes its entity's row in ``sync_runs`` (include/airflow/dag_factory.py):
``running`` when it starts, ``retrying``/``failed`` with the typed failure (``auth`` | ``error``)
and a plain reason when an attempt fails, ``success`` when the entity's run is complete. From the
latest row of each entity, and its latest row that is not ``running`` (include/sync/run_status.py):

- ``fail``: an entity's latest outcome is an authentication failure (401/403 from the source,
  missing or wrong credentials, a missing Airflow Connection);
- ``error``: an entity's latest outcome is any other failure;
- (a failure stays visible while a retry or the next run runs, until one succeeds)
- ``inprogress``: a run is running, or no run has finished yet;
- ``fulldone``: every latest run succeeded and every entity has completed a full read;
- ``done``: every latest run succeeded, some entity has only incremental reads so far.

``sync_waiting`` says, in plain words, why nothing runs while the status is ``inprogress``: the
first full sync (or a re-sync) is queued and what it waits for (Airflow to parse the DAG...), or
no run has started yet. None once a run has started and nothing is queued.
"""

from __future__ import annotations

from typing import Any

from include.store import Store
from include.store import registry as db
from include.store.engine import Conn
from include.store.history import entity_history, latest_runs
from include.sync.run_status import (
    STATUSES_ROW,
    EntityState,
    entity_state,
    sync_reason,
    sync_status,
)


def entity_states(conn: Conn, connection_id: str, cfg: Any | None) -> list[EntityState]:
    """Each entity's state, in name order; with a config, only its entities (and the
    ``statuses`` task's row): an entity dropped from the config no longer counts."""
    latest = latest_runs(conn, connection_id, finished=False)
    finished = latest_runs(conn, connection_id, finished=True)
    history = entity_history(conn, connection_id)
    selected = getattr(cfg, "selected_entities", None)
    keep = {*selected(), STATUSES_ROW} if callable(selected) else None
    return [
        entity_state(row, finished.get(entity), *history.get(entity, (None, False)))
        for entity, row in sorted(latest.items())
        if keep is None or entity in keep
    ]


def sync_waiting(conn: Conn, connection_id: str, states: list[EntityState]) -> str | None:
    """Why no run of the connection runs yet, or None (see the module's doc)."""
    row = db.get(conn, connection_id)
    for op in row["pending"] if row else []:
        if op.get("op") in ("unpause", "trigger"):
            what = "the first full sync" if not states else "a re-sync"
            why = op.get("waiting") or "Airflow has not been asked yet"
            return f"{what} is queued: {why} (the lifecycle DAG retries every interval)"
    if not states:
        return "no run has started yet"
    return None


def sync_summary(conn: Conn, connection_id: str, cfg: Any | None) -> dict[str, Any]:
    """``sync_status``, ``sync_error`` (the first failing entity's reason) and ``sync_waiting``
    for the admin API."""
    states = entity_states(conn, connection_id, cfg)
    return {
        "sync_status": sync_status(states),
        "sync_error": sync_reason(states),
        "sync_waiting": sync_waiting(conn, connection_id, states),
    }


def integration_status(store: Store, connection_id: str, cfg: Any | None) -> dict[str, Any]:
    from include.admin.webhooks import webhook_status

    with store.read() as conn:
        states = entity_states(conn, connection_id, cfg)
        waiting = sync_waiting(conn, connection_id, states)
    hooks = webhook_status(store, connection_id)["stats"]
    webhooks_on = bool(getattr(cfg, "webhooks_on", False)) or hooks["received"] or hooks["pending"]
    times = [s.last_run_at for s in states if s.last_run_at]
    return {
        "id": connection_id,
        "company_name": getattr(cfg, "customer", None),
        "email": None,
        "provider": getattr(cfg, "system", None),
        "updated_at": max(times) if times else None,
        "sync_status": sync_status(states),
        "sync_error": sync_reason(states),
        "sync_waiting": waiting,
        "sync_updated_at": max(times) if times else None,
        "entities": [
            {
                "entity": s.entity,
                "status": s.status,
                "last_run_at": s.last_run_at,
                "last_success_at": s.last_success_at,
                "failure": s.failure,
                "error": s.error,
            }
            for s in states
        ],
        # inbound webhooks of the last 24 hours (docs/WEBHOOKS.md); null when not used
        "webhooks": hooks if webhooks_on else None,
    }
