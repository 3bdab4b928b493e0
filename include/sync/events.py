"""Apply the webhook events of one connection's inbox to the store (the DAG's ``webhooks.apply``
task; docs/WEBHOOKS.md).

Events are notifications. Each is reduced to the records it names (`include.webhooks.targets`,
from the connector's `WebhookSpec`), the records of a claimed batch are deduplicated, and each
is RE-READ from the source (`Connector.read_records`), mapped with the connection's mapping and
upserted with the store's rule that an older version never replaces a newer one. So:

- order does not matter: an old event re-reads the current record; two apply runs racing on the
  same record both write the source's current state, the newer version wins;
- duplicates and replays are harmless (the same re-read);
- a record the source no longer has (404) is soft-deleted (with its child rows), as the source's
  delete events say;
- an event whose body names nothing usable fails at once with the reason; a source failure fails
  the events of that entity, which the next run retries (`Inbox.fail`, failed for good after
  `include.store.inbox.MAX_ATTEMPTS`); every other event of the batch is still applied and marked
  processed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from connectors.base import Connector
from include.config import ConnectionConfig
from include.model.timeutil import format_utc, utcnow
from include.store import Store
from include.store.inbox import Inbox, InboxEvent
from include.sync.mapper import compile_mapping, map_page
from include.sync.reconcile import child_entities
from include.sync.run_status import classify
from include.webhooks.spec import EventTarget, body_targets

log = logging.getLogger(__name__)


@dataclass
class ApplyResult:
    claimed: int = 0
    processed: int = 0
    failed: int = 0
    ignored: int = 0  # events naming no entity this connection syncs (processed, nothing to do)
    reread: int = 0  # records re-read from the source
    deleted: int = 0  # records the source no longer had: soft-deleted
    inserted: int = 0
    updated: int = 0
    quarantined: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: ApplyResult) -> None:
        for f in fields(self):
            if f.name == "errors":
                self.errors.extend(other.errors)
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["errors"] = self.errors[:20]
        return out


def apply_pending(
    store: Store, cfg: ConnectionConfig, connector: Connector, *, run_id: str,
    batch: int = 500, claim_timeout: float = 600.0, max_batches: int = 1000,
    secrets: Iterable[str] = (),
) -> ApplyResult:  # fmt: skip
    """Claim and apply the connection's pending events, ``batch`` at a time in id order, until
    none are left (events arriving meanwhile are applied too, up to ``max_batches``); what fails
    is retried by the next run."""
    inbox = Inbox(store.engine)
    total = ApplyResult()
    last = 0
    for _ in range(max_batches):
        claim = inbox.claim(cfg.id, limit=batch, claim_timeout=claim_timeout, after_id=last)
        if not claim.events:
            break
        last = claim.events[-1].id
        result, done, failed, bad = apply_events(store, cfg, connector, claim.events,
                                                 run_id=run_id, secrets=secrets)  # fmt: skip
        inbox.done(claim.token, done)
        inbox.fail(claim.token, failed)
        inbox.fail(claim.token, bad, max_attempts=1)  # a body naming nothing will not improve
        total.add(result)
    return total


def apply_events(
    store: Store, cfg: ConnectionConfig, connector: Connector, events: list[InboxEvent], *,
    run_id: str, secrets: Iterable[str] = (),
) -> tuple[ApplyResult, list[int], dict[int, str], dict[int, str]]:  # fmt: skip
    """Apply one claimed batch. Returns the counts, the ids processed, the ids that failed
    (retry) and those that can never succeed (a body naming nothing), each with its reason."""
    result = ApplyResult(claimed=len(events))
    spec = type(connector).webhooks
    selected = {e: True for e in cfg.selected_entities()}
    wanted: dict[int, list[EventTarget]] = {}
    bad: dict[int, str] = {}
    for ev in events:
        try:
            wanted[ev.id] = body_targets(spec, ev.body, selected)
        except ValueError as exc:
            bad[ev.id] = f"event {ev.event_id}: {exc}"
    by_entity: dict[str, set[str]] = defaultdict(set)
    by_key: dict[str, set[tuple[tuple[str, str], ...]]] = defaultdict(set)
    for found in wanted.values():
        for t in found:
            if t.key:
                by_key[t.entity].add(t.key)
            else:
                by_entity[t.entity].add(t.remote_id)
    entity_errors: dict[str, str] = {}
    for entity in sorted({*by_entity, *by_key}):
        ids, keys = sorted(by_entity.get(entity, ())), sorted(by_key.get(entity, ()))
        try:
            if ids:
                _apply_entity(store, cfg, connector, entity, ids, run_id, result)
            if keys:
                _apply_keys(store, cfg, connector, entity, keys, run_id, result)
        except Exception as exc:
            reason = classify(exc, secrets).reason
            log.warning("webhooks %s: re-reading %d %s failed: %s", cfg.id,
                        len(ids) + len(keys), entity, reason)  # fmt: skip
            entity_errors[entity] = f"{entity}: {reason}"
    failed: dict[int, str] = {}
    done: list[int] = []
    for ev_id, found in wanted.items():
        errs = [entity_errors[t.entity] for t in found if t.entity in entity_errors]
        if errs:
            failed[ev_id] = "; ".join(dict.fromkeys(errs))
        else:
            done.append(ev_id)
            result.ignored += not found
    result.processed, result.failed = len(done), len(failed) + len(bad)
    result.errors = [*dict.fromkeys([*failed.values(), *bad.values()])]
    return result, done, failed, bad


def _apply_entity(
    store: Store, cfg: ConnectionConfig, connector: Connector, entity: str, ids: list[str],
    run_id: str, result: ApplyResult,
) -> None:  # fmt: skip
    """Re-read ``ids`` of ``entity``, upsert what the source has, soft-delete what it has not."""
    cm = compile_mapping(type(connector), cfg, entity)
    now = format_utc(utcnow()) or ""
    seen_keys = _upsert(store, cfg, connector, entity, cm, connector.read_records(entity, ids),
                        now, run_id, result)  # fmt: skip
    if _is_flattened(connector, entity):
        return  # rows derived from another record (stocks of a part): reconciliation deletes them
    hooks = type(connector).webhooks
    id_field = (hooks.record_id_field if hooks else None) or cm.mapping.remote_id or "id"
    gone = [k for k in (cm.key_of({id_field: _id_value(rid)}) for rid in ids) if k]
    gone = [k for k in gone if k not in seen_keys]
    if gone:
        result.deleted += store.soft_delete_keys(
            cfg.id, entity, gone, deleted_at=now, children=child_entities(entity)
        )


def _apply_keys(
    store: Store, cfg: ConnectionConfig, connector: Connector, entity: str,
    keys: list[tuple[tuple[str, str], ...]], run_id: str, result: ApplyResult,
) -> None:  # fmt: skip
    """Re-read the records named by their natural key (`Connector.read_records_by_key`: a
    Maximo publish channel's message), upsert them, soft-delete the keys the source no longer
    has (the record was deleted: with its key known, even a composite one, it can be)."""
    cm = compile_mapping(type(connector), cfg, entity)
    now = format_utc(utcnow()) or ""
    wanted = [dict(k) for k in keys]
    pages = connector.read_records_by_key(entity, wanted)
    seen_keys = _upsert(store, cfg, connector, entity, cm, pages, now, run_id, result)
    if _is_flattened(connector, entity):
        return
    gone = [k for k in (cm.key_of(w) for w in wanted) if k and k not in seen_keys]
    if gone:
        result.deleted += store.soft_delete_keys(
            cfg.id, entity, gone, deleted_at=now, children=child_entities(entity)
        )


def _upsert(
    store: Store, cfg: ConnectionConfig, connector: Connector, entity: str, cm: Any,
    pages: Iterable[list[dict]], now: str, run_id: str, result: ApplyResult,
) -> set[str]:  # fmt: skip
    """Map and upsert re-read pages (an older version never replaces a newer one); the keys
    seen."""
    spec = type(connector).entities[entity]
    seen_keys: set[str] = set()
    for page in pages:
        result.reread += len(page)
        mapped = map_page(entity, cm, page)
        seen_keys.update(mapped.keys)
        for ent, rows in mapped.rows.items():
            stats = store.load_batch(cfg.id, ent, rows, synced_at=now,
                                     stamp_changes=bool(spec.changed_when.untracked))  # fmt: skip
            result.inserted += stats.inserted
            result.updated += stats.updated
        if mapped.quarantine:
            result.quarantined += store.quarantine_add(cfg.id, entity, run_id, mapped.quarantine)
    return seen_keys


def _id_value(rid: str) -> int | str:
    return int(rid) if rid.isdigit() else rid


def _is_flattened(connector: Connector, entity: str) -> bool:
    """Whether the connector derives ``entity``'s rows from another record (one source record,
    many rows: their keys are not the record's id)."""
    is_derived = getattr(connector, "derived_entity", None)
    return bool(is_derived(entity)) if callable(is_derived) else False
