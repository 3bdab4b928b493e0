"""Webhooks, the Airflow 3 way (docs/WEBHOOKS.md).

- `InboxTrigger`: an event trigger watching the store's webhook inbox. Every connection's asset has
  its own trigger, but they all return the same `shared_stream_key`, so the triggerer runs ONE
  poll of the inbox for all connections (`open_shared_stream`: one grouped query per poll) and
  fans the result out; each trigger keeps the rows of its own connection
  (`filter_shared_stream`). The trigger has no side effect: it only signals that a connection
  has claimable events (new ones, or ones whose claim timed out); the DAG claims them. A trigger
  event lost in a triggerer crash is signalled again on the next poll, because the events are
  still pending in the inbox.
- `schedule(cfg, timetable)`: the connection's DAG runs on its cron OR on its webhook asset
  (`AssetOrTimeSchedule`); one DAG per connection.
- `task_group(cfg, ...)`: the ``webhooks`` task group: ``apply`` (claim, re-read, upsert,
  soft-delete, mark; alerts past the thresholds) and ``poll_due`` (a short circuit: a run started
  by the asset only applies events, the scheduled sync tasks are skipped without running).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Hashable
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, AssetOrTimeSchedule, AssetWatcher, TaskGroup, task
from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from include.airflow import glue
from include.config import ConnectionConfig

log = logging.getLogger(__name__)

POLL_INTERVAL = 1.0  # seconds between inbox polls in the triggerer
STREAM = "millwright-webhook-inbox"


def asset_uri(connection_id: str) -> str:
    return f"millwright://webhooks/{connection_id}"


class InboxTrigger(BaseEventTrigger):
    """Fires when the connection ``connection_id`` has claimable events in the inbox."""

    def __init__(
        self, connection_id: str, poll_interval: float = POLL_INTERVAL,
        claim_timeout: float = 600.0,
    ) -> None:  # fmt: skip
        super().__init__()
        self.connection_id = connection_id
        self.poll_interval = float(poll_interval)
        self.claim_timeout = float(claim_timeout)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "connection_id": self.connection_id,
                "poll_interval": self.poll_interval,
                "claim_timeout": self.claim_timeout,
            },  # fmt: skip
        )

    def shared_stream_key(self) -> Hashable | None:
        # connections with the same poll interval and claim timeout share one poll (by default:
        # all of them)
        return (STREAM, self.poll_interval, self.claim_timeout)

    @classmethod
    async def open_shared_stream(cls, kwargs: dict[str, Any]) -> AsyncIterator[Any]:
        """One poll for every connection: yields ``{"connection_id", "max_id", "pending"}`` when a
        connection has claimable events it has not been told about (or, while they stay
        unclaimed, again after the claim timeout)."""
        interval = float(kwargs.get("poll_interval", POLL_INTERVAL))
        async for item in _poll(interval, float(kwargs.get("claim_timeout", 600.0)), None):
            yield item

    async def filter_shared_stream(
        self, shared_stream: AsyncIterator[Any]
    ) -> AsyncIterator[TriggerEvent]:
        async for item in shared_stream:
            if item.get("connection_id") == self.connection_id:
                yield TriggerEvent(item)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Standalone (a triggerer without shared streams, ``dag.test``): this connection only."""
        async for item in _poll(self.poll_interval, self.claim_timeout, self.connection_id):
            yield TriggerEvent(item)


async def _poll(
    interval: float, claim_timeout: float, only: str | None
) -> AsyncIterator[dict[str, Any]]:
    from include.store.inbox import Inbox

    store = await asyncio.to_thread(glue.open_store)
    inbox = Inbox(store.engine)
    told: dict[str, tuple[int, float]] = {}  # connection -> (max id signalled, when)
    try:
        while True:
            try:
                # claimable = pending and unclaimed, or claimed longer ago than the timeout
                found = await asyncio.to_thread(inbox.claimable, claim_timeout)
            except Exception as exc:  # the store is briefly unreachable: keep polling
                log.warning("webhook inbox poll failed: %s", type(exc).__name__)
                found = {}
            now = time.monotonic()
            for cid, (count, max_id) in sorted(found.items()):
                if only is not None and cid != only:
                    continue
                last_id, at = told.get(cid, (0, 0.0))
                if max_id > last_id or now - at > 60.0:  # new events, or still waiting: remind
                    told[cid] = (max_id, now)
                    yield {"connection_id": cid, "max_id": max_id, "pending": count}
            await asyncio.sleep(interval)
    finally:
        store.close()


def webhook_asset(cfg: ConnectionConfig) -> Asset:
    claim = cfg.webhooks.seconds("claim_timeout") if cfg.webhooks else 600.0
    return Asset(
        name=f"millwright_webhooks__{cfg.id}",
        uri=asset_uri(cfg.id),
        group="millwright",
        watchers=[
            AssetWatcher(
                name=f"millwright_inbox__{cfg.id}",
                trigger=InboxTrigger(connection_id=cfg.id, claim_timeout=claim),
            )
        ],
    )


def schedule(cfg: ConnectionConfig, timetable: Any) -> Any:
    """The DAG's schedule: ``timetable`` alone, or with webhooks on, the timetable OR the
    connection's webhook asset."""
    if not cfg.webhooks_on:
        return timetable
    return AssetOrTimeSchedule(timetable=timetable, assets=webhook_asset(cfg))


def task_group(
    cfg: ConnectionConfig, source: Callable[[ConnectionConfig], Any], run_type: Callable[[], str],
    run_id: Callable[[], str],
) -> Any:  # fmt: skip
    """The ``webhooks`` task group; returns its ``poll_due`` task, which the sync tasks follow."""
    wh = cfg.webhooks
    assert wh is not None

    with TaskGroup(group_id="webhooks"):

        @task(task_id="apply", retries=1, retry_delay=timedelta(seconds=10))
        def apply() -> dict:
            from include.sync.events import apply_pending

            store = glue.open_store()
            try:
                with source(cfg) as connector:
                    result = apply_pending(
                        store, cfg, connector, run_id=run_id(),
                        claim_timeout=wh.seconds("claim_timeout"),
                        secrets=glue.secret_values(cfg),
                    )  # fmt: skip
                from include.store.inbox import Inbox

                inbox = Inbox(store.engine)
                inbox.prune(cfg.id, timedelta(seconds=wh.seconds("retention")))
                stats = inbox.stats(cfg.id, datetime.now(UTC) - timedelta(hours=1))
            finally:
                store.close()
            log.info("webhooks %s: %s", cfg.id, result.as_dict())
            alert = alert_reason(cfg, stats, result.failed)
            if alert:
                from include.airflow.alerts import send_alert

                send_alert(cfg.id, alert, stats)
            return {**result.as_dict(), "stats": stats, "alert": alert}

        @task.short_circuit(task_id="poll_due", ignore_downstream_trigger_rules=True)
        def poll_due() -> bool:
            """False for a run the webhook asset started: it applies events only."""
            kind = run_type()
            if kind == "asset_triggered":
                log.info("a webhook run: the sync tasks are skipped (polling runs on schedule)")
                return False
            return True

        apply()
        gate = poll_due()
    return gate


def alert_reason(cfg: ConnectionConfig, stats: dict[str, Any], failed_now: int) -> str | None:
    """Why this connection's webhooks need attention, or None: failures in the last hour at or
    above ``alert_failed`` (only when this run failed some), or the oldest pending event older
    than ``alert_lag``."""
    wh = cfg.webhooks
    if wh is None:
        return None
    reasons = []
    if failed_now and stats["failed"] + stats["retrying"] >= wh.alert_failed:
        reasons.append(f"{stats['failed'] + stats['retrying']} events failed in the last hour")
    age = stats.get("oldest_pending_age_s")
    if age is not None and age > wh.seconds("alert_lag"):
        reasons.append(f"the oldest pending event is {int(age)} s old (limit {wh.alert_lag})")
    return "; ".join(reasons) or None
