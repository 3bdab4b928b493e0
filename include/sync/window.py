"""Window planning: which time window a run reads for one entity."""

from __future__ import annotations

import logging
from datetime import datetime

from connectors.base import Window
from include.config import ConnectionConfig
from include.model.source_fields import fingerprint
from include.model.timeutil import format_utc, parse_datetime, utcnow
from include.store import Store

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- windows


def plan_window(
    store: Store,
    cfg: ConnectionConfig,
    entity: str,
    *,
    incremental: bool,
    run_type: str,
    interval_start: datetime | None,
    interval_end: datetime | None,
    now: datetime | None = None,
) -> Window:
    """The window a run reads for one entity.

    - snapshot entities (no change time at the source): always a full read;
    - backfill: exactly its data interval (the cursor never moves backwards);
    - no cursor yet: a full, unbounded read (it also reconciles deletes);
    - scheduled: ``[min(cursor, interval_start) - overlap, interval_end)``: no gap after a pause/outage;
    - manual (or anything else): ``[cursor - overlap, now)``;
    - but any run of an entity whose custom fields changed since its last full read (the
      Variable, the admin API, the dashboard or the CLI changed them) reads in full, so every
      stored record gets the new fields (`custom_fields_changed`);
    - but a scheduled run of an entity that serves fields the source cannot date
      (``EntitySpec.changed_when.untracked``) reads in full when its last successful full read
      started ``full_read_every`` ago or more.
    """
    now = now or utcnow()
    if not incremental:
        return Window()
    if custom_fields_changed(store, cfg, entity):
        return Window()
    if run_type == "backfill" and interval_start is not None:
        return Window(interval_start, interval_end)
    cursor = parse_datetime(store.get_cursor(cfg.id, entity))
    if cursor is None:
        # Unbounded: a full read is followed by reconciliation, which must see every key.
        return Window()
    if run_type == "scheduled" and full_read_due(store, cfg, entity, now):
        return Window()
    if run_type == "scheduled" and interval_start is not None:
        return Window(min(cursor, interval_start) - cfg.overlap_delta, interval_end)
    return Window(cursor - cfg.overlap_delta, now)


def custom_fields_changed(store: Store, cfg: ConnectionConfig, entity: str) -> bool:
    """The entity has stored records (a cursor) mapped with other custom fields than ``cfg``'s:
    the digest its last full read recorded (`record_mapped_fields`) differs (no digest: none)."""
    if store.get_cursor(cfg.id, entity) is None:
        return False
    stored = store.mapped_fingerprint(cfg.id, entity) or fingerprint({})
    if stored == cfg.fields_fingerprint(entity):
        return False
    log.info("%s: custom fields changed: full re-read", entity)
    return True


def record_mapped_fields(store: Store, cfg: ConnectionConfig, entity: str) -> None:
    """After a successful full read: the entity's records carry ``cfg``'s custom fields."""
    store.set_mapped_fingerprint(cfg.id, entity, cfg.fields_fingerprint(entity))


def full_read_due(store: Store, cfg: ConnectionConfig, entity: str, now: datetime) -> bool:
    """The entity has untracked fields and no successful full read within ``full_read_every``."""
    from connectors.registry import get_connector

    spec = get_connector(cfg.system).entities.get(entity)
    if spec is None or not spec.changed_when.untracked:
        return False
    last = parse_datetime(store.last_full_read(cfg.id, entity))
    due = last is None or now - last >= cfg.full_read_delta
    if due:
        log.info(
            "%s: full read: %s cannot be dated at the source, last full read %s (every %s)",
            entity, ", ".join(spec.changed_when.untracked), format_utc(last) or "never",
            cfg.full_read_every,
        )  # fmt: skip
    return due


def stamps_changes(cfg: ConnectionConfig, entity: str) -> bool:
    """The entity serves fields its source cannot date (``ChangedWhen.untracked``): its loads
    let the store date a change of served values (`Store.load_batch(stamp_changes=...)`)."""
    from connectors.registry import get_connector

    spec = get_connector(cfg.system).entities.get(entity)
    return spec is not None and bool(spec.changed_when.untracked)


def window_to_dict(window: Window) -> dict[str, str | None]:
    return {"start": format_utc(window.start), "end": format_utc(window.end)}


def window_from_dict(d: dict[str, str | None]) -> Window:
    return Window(parse_datetime(d.get("start")), parse_datetime(d.get("end")))
