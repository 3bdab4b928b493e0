"""`Store`: the unified store's public API (SQLite or PostgreSQL, SQLAlchemy Core).

Longer than 500 lines on purpose: `Store` is the one facade the sync, admin and API layers call
(load, reconcile, cursors, quarantine, run history, statuses), so one file shows every write the
product makes and its transaction; each method is short and the heavy SQL lives beside it
(`loader`, `read`, `registry`, `history`, `tokens`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from include.model import source_fields
from include.model.source_fields import SourceField
from include.model.timeutil import format_utc, utcnow
from include.store import loader, registry, schema
from include.store.engine import make_engine, url_from_env, write_txn
from include.store.types import KILLED, LoadRow, LoadStats, QuarantineItem, StoreError, SyncRun

_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
Guard = Callable[[sa.Connection], None]


def comparable(value: str | None) -> str | None:
    """Normalise an ISO UTC time to microseconds (``...:00Z`` -> ``...:00.000000Z``) so text order
    is time order; any other value (numbers, ETags) is returned unchanged."""
    if value is None or len(value) == 27 or value[-1:] != "Z":
        return value
    return _comparable(value)


@lru_cache(maxsize=1 << 16)
def _comparable(value: str) -> str:  # memoised: a batch repeats change times a lot
    if not _UTC.match(value):
        return value
    if len(value) == 20:
        return value[:19] + ".000000Z"
    return value[:-1].ljust(26, "0") + "Z"


def _text(value: bytes | str | None, what: str, key: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode()
    raise StoreError(f"{what} of record {key!r} must be JSON bytes or str, not {type(value)}")


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _check_time(name: str, value: str) -> str:
    if not isinstance(value, str) or not _UTC.match(value):
        raise StoreError(
            f"{name} must be an ISO-8601 UTC time like 2024-01-31T12:00:00Z: {value!r}"
        )
    return value


_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")


_TEXT_ARRAY = postgresql.ARRAY(sa.Text)
_JSONB = postgresql.JSONB()


class Store:
    """The unified store. Call `migrate()` once per process (idempotent) before using it."""

    def __init__(self, url: str, *, busy_timeout: float = 60.0, cache_mib: int = 64) -> None:
        """``cache_mib``: SQLite's page cache per connection (map workers that load use less)."""
        self.url = url
        self.engine: sa.Engine = make_engine(url, busy_timeout=busy_timeout, cache_mib=cache_mib)

    @classmethod
    def from_env(cls) -> Store:
        """``MILLWRIGHT_STORE_URL``, else ``sqlite:///$MILLWRIGHT_HOME/store.db``."""
        return cls(url_from_env())

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A connection for reads (each statement its own transaction unless one is begun)."""
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[sa.Connection]:
        """A connection in a write transaction (`write_txn`), committed when the block ends
        normally, rolled back when it raises."""
        with self.engine.connect() as conn, write_txn(conn):
            yield conn

    def before_commit(self, check: Callable[[], None]) -> None:
        """Call ``check`` right before each commit of this store's connections: whatever it
        raises (or a process exit in it) leaves the transaction uncommitted."""
        sa.event.listen(self.engine, "commit", lambda _conn: check())

    def migrate(self) -> None:
        """Bring the schema to the latest revision (serialized across processes)."""
        from include.store import migrate  # Alembic: imported only by the processes that migrate

        migrate.upgrade(self.engine)

    # -- records ------------------------------------------------------------------------------

    def load_batch(
        self,
        connection_id: str,
        entity: str,
        records: Sequence[LoadRow],
        *,
        synced_at: str,
        cursor: str | None = None,
        guard: Guard | None = None,
        assume_new: bool = False,
        stamp_changes: bool = False,
    ) -> LoadStats:
        """Upsert one batch in one transaction (with the cursor, when given). See docs/STORE.md.

        ``assume_new``: the keys are expected to be new (an entity's first full load), so the
        batch is first inserted straight into `records`; if any key exists, the normal merge runs
        instead, with the same result (fewer inserts than rows tell that it did).

        ``stamp_changes``: the entity serves values the source cannot date
        (``ChangedWhen.untracked``). Data is compared without ``updatedAt``, and a stored record
        whose served values change gets ``updatedAt`` = the time of this write (never earlier
        than the source's or the stored time), so ``modified_after`` and cursor paging see it;
        the sync cursor is not affected (it is the caller's ``cursor``)."""
        _check_time("synced_at", synced_at)
        rows = _stage_tuples(records, entity)
        with self.engine.connect() as conn:
            try:
                if not assume_new:
                    with conn.begin():  # staging touches only the session's temp table
                        loader.stage_rows(conn, rows)
                with write_txn(conn):
                    if guard is not None:
                        guard(conn)
                    # new keys only need no entity lock (the primary key refuses a duplicate,
                    # and the fallback below takes it), so parallel loaders overlap their COPYs
                    if assume_new and loader.insert_new(
                        conn, connection_id, entity, rows, synced_at
                    ):
                        ins, upd = len(rows), 0
                        deleted = sum(1 for t in rows if t[8] is not None)
                    else:
                        loader.lock_entity(conn, connection_id, entity)
                        if assume_new:
                            loader.stage_rows(conn, rows)
                        # taken under the entity's lock: a later write gets a later stamp
                        stamp = _now() if stamp_changes else None
                        try:
                            ins, upd, deleted = loader.merge_staged(
                                conn, connection_id, entity, synced_at, stamp
                            )
                        except sa.exc.DataError as exc:  # PostgreSQL parses staged JSON here
                            raise _json_error(exc, rows, f"{connection_id}/{entity}") from exc
                        except sa.exc.OperationalError as exc:  # SQLite's json_remove (stamp)
                            raise _sqlite_json_error(exc, rows, connection_id, entity) from exc
                    loader.add_counts(conn, connection_id, entity, ins, deleted)
                    loader.resolve_quarantined(
                        conn, connection_id, entity, [t[0] for t in rows], _now()
                    )
                    if cursor is not None:
                        loader.advance_cursor(
                            conn, connection_id, entity, comparable(cursor), _now()
                        )
                if ins and self.dialect == "postgresql":
                    with conn.begin():
                        loader.refresh_stats(
                            conn, connection_id, entity, _total(conn, connection_id, entity)
                        )
            finally:
                if conn.in_transaction():
                    conn.rollback()
        return LoadStats(ins, upd, len(rows) - ins - upd)

    def get_record(self, connection_id: str, entity: str, key: str) -> dict | None:
        r = schema.records
        stmt = sa.select(r).where(
            r.c.connection_id == connection_id, r.c.entity == entity, r.c.key == key
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).mappings().first()
        if row is None:
            return None
        out = dict(row)
        out["data"], out["raw"] = _json(out["data"]), _json(out["raw"])
        return out

    def count(self, connection_id: str, entity: str, *, include_deleted: bool = False) -> int:
        """Maintained count (no COUNT(*)): live records, or all when ``include_deleted``."""
        t = schema.entity_counts
        stmt = sa.select(t.c.total, t.c.deleted).where(
            t.c.connection_id == connection_id, t.c.entity == entity
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return 0
        return int(row.total) if include_deleted else int(row.total - row.deleted)

    # -- cursors ------------------------------------------------------------------------------

    def get_cursor(self, connection_id: str, entity: str) -> str | None:
        t = schema.cursors
        stmt = sa.select(t.c.value).where(t.c.connection_id == connection_id, t.c.entity == entity)
        with self.engine.connect() as conn:
            return conn.execute(stmt).scalar()

    def advance_cursor(self, connection_id: str, entity: str, value: str) -> str:
        """Move the cursor forward (never backwards); returns the stored value."""
        if not isinstance(value, str) or not value:
            raise StoreError(f"cursor for {connection_id}/{entity} must be a non-empty string")
        with self.engine.connect() as conn, write_txn(conn):
            return loader.advance_cursor(conn, connection_id, entity, comparable(value), _now())

    # -- reconciliation -----------------------------------------------------------------------

    def reconcile(
        self,
        connection_id: str,
        entity: str,
        key_batches: Iterable[Sequence[str]],
        *,
        deleted_at: str,
        parent_keys: Sequence[str] | None = None,
        allow_empty: bool = False,
        children: Sequence[str] = (),
    ) -> int:
        """Soft-delete live records whose key is absent from ``key_batches`` (every key that
        exists in the source now), optionally only among children of ``parent_keys``. Returns
        how many were soft-deleted. An empty listing with no ``parent_keys`` is refused unless
        ``allow_empty`` (a source outage must not delete everything). ``children``: the child
        entities of ``entity`` (`include.model.CHILD_ENTITIES`); the live child rows of every
        soft-deleted parent are soft-deleted in the same transaction (not counted here)."""
        _check_time("deleted_at", deleted_at)
        with self.engine.connect() as conn:
            spill = parent_keys is None and self.dialect == "sqlite"
            if spill:  # a whole entity's listing grows with the source: keep it on disk, not RAM
                _pragma(conn, "temp_store=FILE")  # (drops this session's temp tables)
            try:
                seen = 0
                with conn.begin():  # temp tables only: the source is read outside the write lock
                    loader.create_key_table(conn, "mw_keys")
                    for batch in key_batches:
                        loader.fill_keys(conn, "mw_keys", batch)
                        seen += len(batch)
                    if parent_keys is not None:
                        loader.create_key_table(conn, "mw_parents")
                        loader.fill_keys(conn, "mw_parents", parent_keys)
                with write_txn(conn):
                    loader.lock_entity(conn, connection_id, entity)
                    if not seen and parent_keys is None and not allow_empty:
                        live = _live(conn, connection_id, entity)
                        if live:
                            raise StoreError(
                                f"reconcile {connection_id}/{entity}: the source listed no keys; "
                                f"refusing to soft-delete all {live} records "
                                "(pass allow_empty=True if the source really is empty)"
                            )
                    n = loader.soft_delete_missing(
                        conn, connection_id, entity, deleted_at, parent_keys is not None
                    )
                    loader.add_counts(conn, connection_id, entity, 0, n)
                    _cascade(conn, connection_id, entity, children, deleted_at)
            finally:
                if conn.in_transaction():
                    conn.rollback()
                if spill:  # back to in-memory temp tables (staging); drops the listing
                    _pragma(conn, "temp_store=MEMORY")
                else:
                    with conn.begin():  # free the listing now; the next call clears it anyway
                        loader.create_key_table(conn, "mw_keys")
        return n

    def soft_delete_children(
        self, connection_id: str, entity: str, children: Sequence[str], *, deleted_at: str,
        parent_keys: Sequence[str] | None = None,
    ) -> dict[str, int]:  # fmt: skip
        """Soft-delete the live child rows (entities ``children``) of soft-deleted records of
        ``entity`` — only of ``parent_keys`` when given (a batch's source-deleted parents).
        Returns how many were soft-deleted per child entity."""
        _check_time("deleted_at", deleted_at)
        if not children or parent_keys == []:
            return {}
        with self.engine.connect() as conn:
            try:
                if parent_keys is not None:
                    with conn.begin():
                        loader.create_key_table(conn, "mw_parents")
                        loader.fill_keys(conn, "mw_parents", parent_keys)
                with write_txn(conn):
                    return _cascade(
                        conn, connection_id, entity, children, deleted_at, parent_keys is not None
                    )
            finally:
                if conn.in_transaction():
                    conn.rollback()

    def soft_delete_keys(
        self, connection_id: str, entity: str, keys: Sequence[str], *, deleted_at: str,
        children: Sequence[str] = (), by: str = "webhook",
    ) -> int:  # fmt: skip
        """Soft-delete the live records of ``entity`` with these keys (the source reported them
        deleted, e.g. a webhook whose record the source no longer has) and their live child
        rows, in one transaction. Returns how many records were soft-deleted."""
        _check_time("deleted_at", deleted_at)
        keys = sorted(set(keys))
        if not keys:
            return 0
        with self.engine.connect() as conn:
            try:
                with conn.begin():
                    loader.create_key_table(conn, "mw_parents")
                    loader.fill_keys(conn, "mw_parents", keys)
                with write_txn(conn):
                    loader.lock_entity(conn, connection_id, entity)
                    n = loader.soft_delete_keys(conn, connection_id, entity, keys, deleted_at, by)
                    loader.add_counts(conn, connection_id, entity, 0, n)
                    _cascade(conn, connection_id, entity, children, deleted_at, True)
            finally:
                if conn.in_transaction():
                    conn.rollback()
        return n

    # -- quarantine ---------------------------------------------------------------------------

    def quarantine_add(
        self, connection_id: str, entity: str, run_id: str, items: Sequence[QuarantineItem]
    ) -> int:
        """Add items; a retried run adds no duplicates. Returns how many were new. A record
        quarantined again by a later run keeps one open entry, this run's (the older ones are
        resolved: superseded)."""
        now = _now()
        values = []
        for i, item in enumerate(items):
            if not item.reason:
                raise StoreError(f"quarantine item {i} of {connection_id}/{entity}: empty reason")
            raw = _text(item.raw, "raw", str(item.remote_key))
            item_key = item.remote_key
            if item_key is None:
                item_key = "sha256:" + hashlib.sha256((raw or "").encode()).hexdigest()
            values.append(
                {
                    "connection_id": connection_id,
                    "entity": entity,
                    "run_id": run_id,
                    "remote_key": item.remote_key,
                    "item_key": item_key,
                    "reason": item.reason,
                    "raw": raw,
                    "created_at": now,
                }
            )
        if not values:
            return 0
        sql = sa.text(
            "INSERT INTO quarantine (connection_id, entity, run_id, remote_key, item_key, "
            "reason, raw, created_at) VALUES (:connection_id, :entity, :run_id, :remote_key, "
            f":item_key, :reason, {'CAST(:raw AS json)' if self.dialect == 'postgresql' else ':raw'}"
            ", :created_at) ON CONFLICT (connection_id, entity, run_id, item_key) DO NOTHING"
        )
        q = schema.quarantine
        n_stmt = sa.select(sa.func.count()).where(
            q.c.connection_id == connection_id, q.c.entity == entity, q.c.run_id == run_id
        )
        keys = [v["item_key"] for v in values]
        with self.engine.connect() as conn, write_txn(conn):
            loader.lock_entity(conn, connection_id, entity)
            before = conn.execute(n_stmt).scalar_one()
            for i in range(0, len(keys), 500):  # one open entry per record: the latest run's
                conn.execute(
                    sa.update(q)
                    .where(
                        q.c.connection_id == connection_id, q.c.entity == entity,
                        q.c.resolved_at.is_(None), q.c.run_id != run_id,
                        q.c.item_key.in_(keys[i : i + 500]),
                    )
                    .values(resolved_at=now)
                )  # fmt: skip
            conn.execute(sql, values)
            return conn.execute(n_stmt).scalar_one() - before

    def quarantine_list(
        self,
        connection_id: str,
        entity: str | None = None,
        *,
        include_resolved: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> list[dict]:
        if limit < 0 or offset < 0:
            raise StoreError(f"limit and offset must be >= 0 (got {limit}, {offset})")
        q = schema.quarantine
        stmt = sa.select(q).where(q.c.connection_id == connection_id)
        if entity is not None:
            stmt = stmt.where(q.c.entity == entity)
        if not include_resolved:
            stmt = stmt.where(q.c.resolved_at.is_(None))
        stmt = stmt.order_by(q.c.id).limit(limit).offset(offset)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(stmt).mappings()]
        for r in rows:
            r["raw"] = _json(r["raw"])
            del r["item_key"]
        return rows

    def quarantine_counts(self, connection_id: str) -> dict[str, int]:
        """entity -> open (unresolved) quarantine entries of ``connection_id``."""
        with self.engine.connect() as conn:
            return registry.quarantine_counts(conn, connection_id)

    def quarantine_resolve(self, ids: Sequence[int], resolved_at: str) -> int:
        _check_time("resolved_at", resolved_at)
        q = schema.quarantine
        stmt = (
            sa.update(q)
            .where(q.c.id.in_(list(ids)), q.c.resolved_at.is_(None))
            .values(resolved_at=resolved_at)
        )
        with self.engine.connect() as conn, write_txn(conn):
            return conn.execute(stmt).rowcount if ids else 0

    # -- sync history and statuses ------------------------------------------------------------

    def record_run(self, run: SyncRun) -> None:
        """Insert or update (by connection, entity, run_id) one run's history row. An update keeps
        the row's ``started_at`` (when the run's first task began) and, when ``run`` leaves them
        None, its ``task`` and ``attempt``."""
        _check_time("started_at", run.started_at)
        values = {c.name: getattr(run, c.name) for c in schema.sync_runs.columns}
        update = [c for c in values if c not in (*_RUN_KEY, "started_at")]
        with self.engine.connect() as conn, write_txn(conn):
            conn.execute(
                self._upsert(schema.sync_runs, _RUN_KEY, update, coalesce=("task", "attempt")),
                [values],
            )

    def run_started(
        self, connection_id: str, entity: str, run_id: str, *, task: str, attempt: int,
        window_start: str | None = None, window_end: str | None = None,
    ) -> int:  # fmt: skip
        """A task of ``run_id`` starts working on ``entity``: its row becomes ``running`` (a
        failure of an earlier attempt stays on it until the run succeeds). Rows of the entity that
        another run left ``running`` are closed as failed (its task died without reporting; a
        DAG has one active run), and so is this task's own earlier attempt if it is still
        ``running``. Returns how many rows were closed."""
        t = schema.sync_runs
        now = _now()
        mine = _run_where(connection_id, entity, run_id)
        values: dict[str, Any] = {"status": "running", "task": task, "attempt": attempt,
                                  "finished_at": None}  # fmt: skip
        if window_start is not None or window_end is not None:
            values.update(window_start=window_start, window_end=window_end)
        with self.engine.connect() as conn, write_txn(conn):
            closed = conn.execute(
                sa.update(t)
                .where(t.c.connection_id == connection_id, t.c.entity == entity)
                .where(t.c.run_id != run_id, t.c.status == "running")
                .values(status="failed", failure="error", error=KILLED, finished_at=now)
            ).rowcount
            held = conn.execute(sa.select(t.c.status, t.c.task, t.c.attempt).where(*mine)).first()
            if held is None:
                row = SyncRun(connection_id, entity, run_id, started_at=now, task=task,
                              attempt=attempt, window_start=window_start, window_end=window_end)  # fmt: skip
                conn.execute(sa.insert(t), [{c.name: getattr(row, c.name) for c in t.columns}])
                return closed
            if held.status == "running" and held.task == task and (held.attempt or 0) < attempt:
                values.update(failure="error", error=f"attempt {held.attempt}: {KILLED}")
                closed += 1
            conn.execute(sa.update(t).where(*mine).values(**values))
        return closed

    def run_failed(
        self, connection_id: str, entity: str, run_id: str, *, task: str, attempt: int | None,
        failure: str, reason: str, retrying: bool,
    ) -> None:  # fmt: skip
        """An attempt failed: the row becomes ``retrying`` (Airflow will run the task again) or
        ``failed``, with ``failure`` (``auth`` | ``error``) and the plain ``reason``; the counts
        a load recorded stay."""
        if failure not in ("auth", "error"):
            raise StoreError(f"failure must be 'auth' or 'error', not {failure!r}")
        now = _now()
        row = SyncRun(
            connection_id, entity, run_id, started_at=now, finished_at=now,
            status="retrying" if retrying else "failed", error=reason, failure=failure,
            task=task, attempt=attempt,
        )  # fmt: skip
        self._write_run(row, ("finished_at", "status", "error", "failure", "task", "attempt"))

    def run_succeeded(
        self, connection_id: str, entity: str, run_id: str, *, task: str, attempt: int | None,
        deleted: int = 0,
    ) -> None:  # fmt: skip
        """A run's last task for ``entity`` succeeded (``reconcile``, ``statuses``): ``success``,
        the failure cleared, ``deleted`` added to the row's count."""
        now = _now()
        t = schema.sync_runs
        mine = _run_where(connection_id, entity, run_id)
        with self.engine.connect() as conn, write_txn(conn):
            n = conn.execute(
                sa.update(t)
                .where(*mine)
                .values(
                    status="success",
                    failure=None,
                    error=None,
                    finished_at=now,
                    task=task,
                    attempt=attempt,
                    deleted=t.c.deleted + deleted,
                )  # fmt: skip
            ).rowcount
            if not n:
                row = SyncRun(connection_id, entity, run_id, started_at=now, finished_at=now,
                              status="success", deleted=deleted, task=task, attempt=attempt)  # fmt: skip
                conn.execute(sa.insert(t), [{c.name: getattr(row, c.name) for c in t.columns}])

    def _write_run(self, run: SyncRun, update: Sequence[str]) -> None:
        values = {c.name: getattr(run, c.name) for c in schema.sync_runs.columns}
        with self.engine.connect() as conn, write_txn(conn):
            conn.execute(self._upsert(schema.sync_runs, _RUN_KEY, update), [values])

    def last_runs(
        self, connection_id: str, *, per_entity: int = 1, finished: bool = False
    ) -> list[dict]:
        """The latest ``per_entity`` runs of each entity of a connection, newest first per
        entity, entities in name order; with ``finished``, only rows that are not ``running``."""
        t = schema.sync_runs
        rn = (
            sa.func.row_number()
            .over(partition_by=t.c.entity, order_by=(t.c.started_at.desc(), t.c.run_id.desc()))
            .label("rn")
        )
        inner = sa.select(t, rn).where(t.c.connection_id == connection_id)
        if finished:
            inner = inner.where(t.c.status != "running")
        sub = inner.subquery()
        cols = [sub.c[c.name] for c in t.columns]
        stmt = sa.select(*cols).where(sub.c.rn <= per_entity).order_by(sub.c.entity, sub.c.rn)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt).mappings()]

    def last_full_read(self, connection_id: str, entity: str) -> str | None:
        """When the latest successful full read (a run with no window start) of an entity
        started, or None."""
        t = schema.sync_runs
        stmt = sa.select(sa.func.max(t.c.started_at)).where(
            t.c.connection_id == connection_id, t.c.entity == entity,
            t.c.window_start.is_(None), t.c.status == "success",
        )  # fmt: skip
        with self.engine.connect() as conn:
            return conn.execute(stmt).scalar()

    def fill_missing_fields(self, entity: str, defaults: dict[str, Any]) -> int:
        """Add each field of ``defaults`` (name -> empty value: None, [] or {}) that a stored
        record of ``entity`` lacks, in place, for every connection; values a record has are kept,
        and ``updated_at``/``version`` stay (no served value changes, a field appears with its
        empty value). For stores written before every record carried every field of its model.
        Returns how many records changed."""
        names = [n for n in defaults if _FIELD_NAME.fullmatch(n)]
        if len(names) != len(defaults):
            raise ValueError(f"not field names: {sorted(set(defaults) - set(names))}")
        if not names:
            return 0
        t = schema.records
        with self.write() as conn:
            if self.dialect == "postgresql":
                missing = sa.not_(t.c.data.op("?&")(sa.cast(sa.literal(names), _TEXT_ARRAY)))
                value = sa.cast(sa.literal(orjson.dumps(defaults).decode()), _JSONB).op("||")(
                    t.c.data
                )
                stmt = sa.update(t).where(t.c.entity == entity, missing).values(data=value)
                return conn.execute(stmt).rowcount
            total = 0
            for i in range(0, len(names), 60):  # SQLite: at most 127 function arguments
                chunk = names[i : i + 60]
                args: list[Any] = [t.c.data]
                absent = []
                for n in chunk:
                    path = sa.literal_column(f"'$.\"{n}\"'")
                    args += [path, sa.func.json(orjson.dumps(defaults[n]).decode())]
                    absent.append(sa.func.json_type(t.c.data, path).is_(None))
                stmt = (
                    sa.update(t)
                    .where(t.c.entity == entity, sa.or_(*absent))
                    .values(data=sa.func.json_insert(*args))
                )
                total += conn.execute(stmt).rowcount
            return total

    def rewrite_records(
        self, entity: str, rewrite: Callable[[dict], dict | None], batch: int = 2_000
    ) -> int:
        """Each stored record of ``entity`` (every connection) through ``rewrite``: a dict it
        returns replaces the record's data in place (``updated_at`` and ``version`` stay, so no
        served time changes); ``None`` leaves the record as it is. Batches of ``batch`` records in
        (connection_id, key) order, one transaction each. Returns how many records changed."""
        t = schema.records
        changed, last = 0, None
        data = sa.cast(t.c.data, sa.Text) if self.dialect == "postgresql" else t.c.data
        while True:
            stmt = sa.select(t.c.connection_id, t.c.key, data.label("data")).where(
                t.c.entity == entity
            )
            if last is not None:
                stmt = stmt.where(sa.tuple_(t.c.connection_id, t.c.key) > sa.tuple_(*last))
            stmt = stmt.order_by(t.c.connection_id, t.c.key).limit(batch)
            with self.write() as conn:
                rows = conn.execute(stmt).all()
                updates = []
                for cid, key, doc in rows:
                    new = rewrite(orjson.loads(doc))
                    if new is not None:
                        updates.append({"c": cid, "k": key, "d": orjson.dumps(new).decode()})
                if updates:
                    value: Any = sa.bindparam("d")
                    if self.dialect == "postgresql":
                        value = sa.cast(value, _JSONB)
                    conn.execute(
                        sa.update(t)
                        .where(
                            t.c.connection_id == sa.bindparam("c"),
                            t.c.entity == entity,
                            t.c.key == sa.bindparam("k"),
                        )
                        .values(data=value),
                        updates,
                    )
                    changed += len(updates)
            if len(rows) < batch:
                return changed
            last = (rows[-1][0], rows[-1][1])

    def upsert_statuses(self, connection_id: str, entity: str, rows: Sequence[dict]) -> None:
        values = []
        for i, row in enumerate(rows):
            key = row.get("key") if isinstance(row, dict) else None
            if not isinstance(key, str) or not key:
                raise StoreError(f"status row {i} of {connection_id}/{entity} has no 'key'")
            values.append(
                {"connection_id": connection_id, "entity": entity, "key": key, "data": row}
            )
        if not values:
            return
        if self.dialect == "sqlite":
            for v in values:
                v["data"] = orjson.dumps(v["data"]).decode()
        keys = ("connection_id", "entity", "key")
        with self.engine.connect() as conn, write_txn(conn):
            conn.execute(self._upsert(schema.statuses, keys), values)

    def list_statuses(self, connection_id: str, entity: str) -> list[dict]:
        t = schema.statuses
        stmt = (
            sa.select(t.c.data)
            .where(t.c.connection_id == connection_id, t.c.entity == entity)
            .order_by(t.c.key)
        )
        with self.engine.connect() as conn:
            return [_json(d) for d in conn.execute(stmt).scalars()]

    # --- custom fields: the sources' metadata, cached; what the records were mapped with ---
    def save_source_fields(
        self, connection_id: str, system: str, fields: dict[str, list[SourceField]]
    ) -> str:
        """Cache what the source offers, per entity (replacing what was cached); the time."""
        now = _now()
        rows = [
            {"connection_id": connection_id, "entity": e, "system": system,
             "fields": source_fields.dumps(f), "fetched_at": now}
            for e, f in fields.items()
        ]  # fmt: skip
        if rows:
            with self.engine.connect() as conn, write_txn(conn):
                conn.execute(self._upsert(schema.source_fields, ("connection_id", "entity")), rows)
        return now

    def source_fields(
        self, connection_id: str, entities: Sequence[str] | None = None
    ) -> dict[str, tuple[list[SourceField], str]]:
        """The cached metadata of a connection's entities: ``{entity: (fields, fetched_at)}``."""
        t = schema.source_fields
        stmt = sa.select(t.c.entity, t.c.fields, t.c.fetched_at).where(
            t.c.connection_id == connection_id
        )
        if entities is not None:
            stmt = stmt.where(t.c.entity.in_(list(entities)))
        with self.engine.connect() as conn:
            return {
                r.entity: (source_fields.loads(r.fields), r.fetched_at) for r in conn.execute(stmt)
            }

    def mapped_fingerprint(self, connection_id: str, entity: str) -> str | None:
        """The digest of the custom fields the entity's last full read mapped with, or None."""
        t = schema.mapped_fields
        stmt = sa.select(t.c.fingerprint).where(
            t.c.connection_id == connection_id, t.c.entity == entity
        )
        with self.engine.connect() as conn:
            return conn.execute(stmt).scalar()

    def set_mapped_fingerprint(self, connection_id: str, entity: str, fingerprint: str) -> None:
        row = {"connection_id": connection_id, "entity": entity, "fingerprint": fingerprint,
               "mapped_at": _now()}  # fmt: skip
        with self.engine.connect() as conn, write_txn(conn):
            conn.execute(self._upsert(schema.mapped_fields, ("connection_id", "entity")), [row])

    def _upsert(
        self, table: sa.Table, keys: Sequence[str], update: Sequence[str] | None = None,
        coalesce: Sequence[str] = (),
    ) -> Any:  # fmt: skip
        """INSERT .. ON CONFLICT (keys) DO UPDATE of ``update`` (default: every other column);
        a ``coalesce`` column keeps its stored value when the new one is NULL."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(table)
        names = (
            update if update is not None else [c.name for c in table.columns if c.name not in keys]
        )
        rest = {
            n: sa.func.coalesce(stmt.excluded[n], table.c[n]) if n in coalesce else stmt.excluded[n]
            for n in names
        }
        return stmt.on_conflict_do_update(index_elements=list(keys), set_=rest)


def _cascade(
    conn: sa.Connection, connection_id: str, entity: str, children: Sequence[str],
    deleted_at: str, only_listed: bool = False,
) -> dict[str, int]:  # fmt: skip
    """Inside a write transaction: soft-delete the live children of deleted ``entity`` rows."""
    out: dict[str, int] = {}
    for child in children:
        loader.lock_entity(conn, connection_id, child)
        n = loader.soft_delete_children(conn, connection_id, entity, child, deleted_at, only_listed)
        loader.add_counts(conn, connection_id, child, 0, n)
        out[child] = n
    return out


def _now() -> str:
    return format_utc(utcnow()) or ""


_RUN_KEY = ("connection_id", "entity", "run_id")


def _run_where(connection_id: str, entity: str, run_id: str) -> tuple[Any, ...]:
    t = schema.sync_runs
    return (t.c.connection_id == connection_id, t.c.entity == entity, t.c.run_id == run_id)


def _total(conn: sa.Connection, connection_id: str, entity: str) -> int:
    t = schema.entity_counts
    stmt = sa.select(t.c.total).where(t.c.connection_id == connection_id, t.c.entity == entity)
    return int(conn.execute(stmt).scalar() or 0)


def _live(conn: sa.Connection, connection_id: str, entity: str) -> int:
    t = schema.entity_counts
    row = conn.execute(
        sa.select(t.c.total - t.c.deleted).where(
            t.c.connection_id == connection_id, t.c.entity == entity
        )
    ).first()
    return int(row[0]) if row else 0


def _pragma(conn: sa.Connection, pragma: str) -> None:
    """A SQLite PRAGMA outside any transaction (some, like temp_store, refuse to run in one)."""
    if conn.in_transaction():
        conn.rollback()
    conn.connection.driver_connection.execute(f"PRAGMA {pragma}")  # type: ignore[union-attr]


def _stage_tuples(records: Sequence[LoadRow], entity: str) -> list[tuple]:
    """Rows as staging tuples; checks keys and, when a key repeats, keeps its newest row."""
    cmp = comparable
    # the common case in one pass (keys, data and raw already text); anything else, or any
    # doubt, takes the checking path below
    out = [(r[0], r[1], r[5], cmp(r[2]), r[3], r[4], r[7], r[6], r[8]) for r in records]
    str_ = str
    if not all(
        t[0].__class__ is str_ and t[0] and t[4].__class__ is str_
        and (t[5] is None or t[5].__class__ is str_)
        for t in out
    ):  # fmt: skip
        out = _checked_stage_tuples(records, entity)
    if len({t[0] for t in out}) != len(out):
        out = _dedupe(out)
    return out


def _checked_stage_tuples(records: Sequence[LoadRow], entity: str) -> list[tuple]:
    out: list[tuple] = []
    for i, r in enumerate(records):
        key = r[0]
        if not isinstance(key, str) or not key:
            raise StoreError(f"{entity} record {i} has no key (got {key!r})")
        data = r[3]
        if data is None:
            raise StoreError(f"{entity} record {key!r} has no data")
        out.append(
            (
                key,
                r[1],
                r[5],
                comparable(r[2]),
                data if isinstance(data, str) else _text(data, "data", key),
                r[4] if r[4] is None or isinstance(r[4], str) else _text(r[4], "raw", key),
                r[7],
                r[6],
                r[8],
            )
        )
    return out


def _json_error(exc: sa.exc.DataError, rows: Sequence[tuple], what: str) -> Exception:
    """A StoreError naming the first row whose data or raw is not JSON, for PostgreSQL's
    "invalid input syntax for type json" or a ``\\u0000`` jsonb refuses (other data errors
    pass through unchanged)."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) not in ("22P02", "22P05"):  # only JSON casts raise them
        return exc
    pg = "; ".join(line.strip() for line in str(orig).splitlines()[:2])
    reason = _bad_json(rows) or f"a record's data or raw is JSON PostgreSQL refuses ({pg})"
    return StoreError(f"load of {what}: {reason}; nothing was written")


def _sqlite_json_error(
    exc: sa.exc.OperationalError, rows: Sequence[tuple], connection_id: str, entity: str
) -> Exception:
    """A StoreError naming the record whose data SQLite's JSON functions refused."""
    if "malformed JSON" not in str(exc.orig):
        return exc
    reason = _bad_json(rows) or "a record's data is not JSON"
    return StoreError(f"load of {connection_id}/{entity}: {reason}; nothing was written")


def _bad_json(rows: Sequence[tuple]) -> str | None:
    for t in rows:
        for col, value in (("data", t[4]), ("raw", t[5])):
            try:
                if value is not None:
                    orjson.loads(value)
            except orjson.JSONDecodeError as bad:
                return f"{col} of record {t[0]!r} is not valid JSON ({bad})"
    return None  # orjson and PostgreSQL disagree (e.g. \u0000, which jsonb refuses)


def _dedupe(rows: list[tuple]) -> list[tuple]:
    best: dict[str, tuple] = {}
    for t in rows:
        held = best.get(t[0])
        if held is None or not (t[3] is not None and held[3] is not None and t[3] < held[3]):
            best[t[0]] = t  # later rows win unless strictly older
    return list(best.values())
