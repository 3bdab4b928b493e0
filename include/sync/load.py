"""Loading: `BatchLoader` upserts typed rows in batches on a writer thread; `load` is the staged
``load`` step; `finish_load` reconciles, stores statuses and records the run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from include.config import ConnectionConfig
from include.model.keys import make_key
from include.model.timeutil import format_utc, utcnow
from include.store import LoadStats, Store, SyncRun
from include.sync import staging
from include.sync.common import LOAD_BATCH, QuarantineThresholdExceeded, StagingPath, bulk_gc
from include.sync.mapper import Rows, iter_mapped
from include.sync.reconcile import child_entities, reconcile_from_pages
from include.sync.window import record_mapped_fields, stamps_changes

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- load


class BatchLoader:
    """Upserts mapped rows in batches of ``batch_size`` on one writer thread (one batch in flight,
    one being filled: bounded memory) while the caller produces the next; the database releases
    the GIL while it works. `finish` writes the last batch together with the cursor."""

    def __init__(
        self, store: Store, cfg: ConnectionConfig, entity: str, *, synced_at: str,
        guard: Callable[[Any], None] | None = None, batch_size: int = LOAD_BATCH,
        assume_new: bool = False,
    ) -> None:  # fmt: skip
        self.store, self.cfg, self.entity = store, cfg, entity
        # the entity's first full load: insert batches straight away until a key turns out to
        # exist (`Store.load_batch(assume_new=...)`)
        self.assume_new = self.started_empty = assume_new
        self.synced_at, self.guard, self.batch_size = synced_at, guard, batch_size
        self.stamp_changes = stamps_changes(cfg, entity)
        self.total = LoadStats(0, 0, 0)
        self.children: dict[str, LoadStats] = {}
        self._pending: Rows = {}
        self._count = 0
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="mw-load")
        self._in_flight: Future | None = None

    def add(self, rows: Rows) -> None:
        """Queue rows by entity (a page of `map_page` / `iter_mapped`); a full batch goes to the
        writer."""
        pending = self._pending
        for entity, entity_rows in rows.items():
            pending.setdefault(entity, []).extend(entity_rows)
            self._count += len(entity_rows)
        if self._count >= self.batch_size:
            self._submit(final=False, cursor=None)

    def _submit(self, *, final: bool, cursor: str | None) -> None:
        if self._in_flight is not None:
            self._in_flight.result()  # re-raises the writer's error here
            self._in_flight = None
        batch, self._pending, self._count = self._pending, {}, 0
        self._in_flight = self._writer.submit(self._flush, batch, final, cursor)

    def finish(self, cursor: str | None) -> None:
        """Write what is left, with the cursor (when given), and wait for the writer."""
        try:
            self._submit(final=True, cursor=cursor)
            assert self._in_flight is not None
            self._in_flight.result()
        finally:
            self._in_flight = None
            self._writer.shutdown(wait=True)

    def close(self) -> None:
        """Stop after an error elsewhere: wait for the batch in flight, drop the rest."""
        try:
            if self._in_flight is not None:
                self._in_flight.exception()
        finally:
            self._writer.shutdown(wait=True, cancel_futures=True)

    def absorb(self, loaded: tuple[LoadStats, dict[str, LoadStats]]) -> None:
        """Count a batch another process loaded (`worker_stream`)."""
        stats, children = loaded
        self.total = _add(self.total, stats)
        for child, c in children.items():
            self.children[child] = _add(self.children.get(child), c)

    def load_now(self, batch: Rows) -> None:
        """Load one batch (rows by entity) in this thread, without the cursor."""
        self._flush(batch, False, None)

    def _flush(self, batch: Rows, final: bool, cursor: str | None) -> None:
        store, cid, entity = self.store, self.cfg.id, self.entity
        parent_rows = batch.pop(entity, [])
        if parent_rows or final:
            stats = store.load_batch(
                cid, entity, parent_rows, synced_at=self.synced_at,
                cursor=cursor if final else None, guard=self.guard,
                assume_new=self.assume_new and bool(parent_rows),
                stamp_changes=self.stamp_changes,
            )  # fmt: skip
            if stats.inserted < len(parent_rows):
                self.assume_new = False
            self.total = _add(self.total, stats)
        parent_keys = [r.key for r in parent_rows]
        kids = child_entities(entity)
        gone = [r.key for r in parent_rows if r.deleted_at is not None]  # deleted at the source
        for child_entity in dict.fromkeys((*kids, *batch)):
            rows = batch.get(child_entity, [])
            if not rows and not parent_keys:
                continue
            if rows:
                stats = store.load_batch(
                    cid, child_entity, rows, synced_at=self.synced_at,
                    guard=self.guard,
                )  # fmt: skip
                self.children[child_entity] = _add(self.children.get(child_entity), stats)
            # a parent read now that lists no children at all has lost them all
            store.reconcile(
                cid, child_entity, [[r.key for r in rows]],
                deleted_at=self.synced_at, parent_keys=parent_keys,
            )  # fmt: skip
        if gone and kids:  # their children follow (those the batch listed were stored live)
            store.soft_delete_children(
                cid, entity, kids, deleted_at=self.synced_at, parent_keys=gone
            )  # fmt: skip


@bulk_gc()
def load(
    store: Store,
    cfg: ConnectionConfig,
    entity: str,
    mapped: dict,
    *,
    run_id: str,
    incremental: bool,
    path_factory: Callable[[str], StagingPath],
    guard: Callable[[Any], None] | None = None,
    batch_size: int = LOAD_BATCH,
) -> dict:
    """Upsert ``mapped.jsonl`` in batches; advance the cursor with the last batch; record the run.

    Raises `QuarantineThresholdExceeded` after loading when too many records were quarantined.
    """
    mapped_path = path_factory(mapped["mapped_path"])
    with staging.lease(mapped_path.parent):  # type: ignore[attr-defined]
        started_at = synced_at = format_utc(utcnow())
        loader = BatchLoader(
            store, cfg, entity, synced_at=synced_at, guard=guard, batch_size=batch_size,
            assume_new=first_load(store, cfg, entity, mapped),
        )  # fmt: skip
        try:
            for page_rows in iter_mapped(mapped_path):
                loader.add(page_rows)
            loader.finish(mapped.get("max_updated") if incremental else None)
        except BaseException:
            loader.close()
            raise
        return finish_load(
            store, cfg, entity, mapped, loader, run_id=run_id, started_at=started_at,
            path_factory=path_factory,
        )  # fmt: skip


def first_load(store: Store, cfg: ConnectionConfig, entity: str, extracted: dict) -> bool:
    """A full read into an entity that has no records yet: its keys are all expected to be new."""
    return bool(extracted.get("full")) and store.count(cfg.id, entity, include_deleted=True) == 0


def finish_load(
    store: Store,
    cfg: ConnectionConfig,
    entity: str,
    mapped: dict,
    loader: BatchLoader,
    *,
    run_id: str,
    started_at: str,
    path_factory: Callable[[str], StagingPath],
) -> dict:
    """After the last batch: reconcile a full read, store the statuses seen, record the run, log
    the numbers, and raise `QuarantineThresholdExceeded` when too much was quarantined."""
    synced_at, total = loader.synced_at, loader.total
    deleted = 0
    if mapped.get("full") and mapped.get("path"):
        if _all_from_this_read(store, cfg, entity, loader):
            log.info("reconcile %s: nothing to do, every stored record came from this read", entity)
        else:
            deleted = reconcile_from_pages(store, cfg, entity, mapped, path_factory, synced_at)
    statuses = sorted(set(mapped.get("statuses") or ()))
    if statuses:
        rows = [{"key": make_key([s]), "name": s, "code": s, "isActive": True} for s in statuses]
        store.upsert_statuses(cfg.id, entity, rows)

    summary = {
        "read": mapped.get("read", 0),
        "mapped": mapped.get("mapped", 0),
        "quarantined": mapped.get("quarantined", 0),
        "inserted": total.inserted,
        "updated": total.updated,
        "unchanged": total.unchanged,
        "deleted": deleted,
        "children": {k: v._asdict() for k, v in loader.children.items()},
    }
    window = mapped.get("window") or {}
    quarantine_share = summary["quarantined"] / summary["read"] if summary["read"] else 0.0
    failed = quarantine_share > cfg.quarantine_threshold
    store.record_run(
        SyncRun(
            connection_id=cfg.id, entity=entity, run_id=run_id, started_at=started_at,
            finished_at=format_utc(utcnow()), status="failed" if failed else "success",
            window_start=window.get("start"), window_end=window.get("end"),
            pages=mapped.get("pages", 0), read=summary["read"], mapped=summary["mapped"],
            quarantined=summary["quarantined"], inserted=total.inserted, updated=total.updated,
            deleted=deleted,
            error=f"{quarantine_share:.1%} of records quarantined" if failed else None,
            failure="error" if failed else None,
        )
    )  # fmt: skip
    log.info(
        "load %s: %d inserted, %d updated, %d unchanged, %d soft-deleted; cursor %s",
        entity, total.inserted, total.updated, total.unchanged, deleted,
        store.get_cursor(cfg.id, entity),
    )  # fmt: skip
    if mapped.get("full") and not failed:
        record_mapped_fields(store, cfg, entity)  # the stored records carry these custom fields
    if summary["quarantined"]:  # a green run that quarantined records says so, visibly
        summary["quarantine_open"] = store.quarantine_counts(cfg.id).get(entity, 0)
        log.warning(
            "%s: %d of %d records quarantined in this run (%d open for %s in all): "
            "millwright quarantine list --connection %s --entity %s",
            entity, summary["quarantined"], summary["read"], summary["quarantine_open"], entity,
            cfg.id, entity,
        )  # fmt: skip
    if failed:
        raise QuarantineThresholdExceeded(
            f"{entity}: {summary['quarantined']} of {summary['read']} records "
            f"({quarantine_share:.1%}) quarantined, above the threshold "
            f"{cfg.quarantine_threshold:.1%}; the good records were loaded"
        )
    return summary


def _all_from_this_read(
    store: Store, cfg: ConnectionConfig, entity: str, loader: BatchLoader
) -> bool:
    """The entity held no records when this full read began, and holds only those it inserted:
    none can have vanished from the source, so reconciling (a pass over every key) is skipped.
    A record another run stored meanwhile makes the counts differ, and reconciliation runs."""
    return loader.started_empty and (
        store.count(cfg.id, entity, include_deleted=True) == loader.total.inserted
    )


def _add(a: LoadStats | None, b: LoadStats) -> LoadStats:
    if a is None:
        return b
    return LoadStats(a.inserted + b.inserted, a.updated + b.updated, a.unchanged + b.unchanged)
