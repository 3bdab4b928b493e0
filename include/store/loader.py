"""The bulk paths: stage rows in a session TEMP table, then one set-based statement.

PostgreSQL fills temp tables with COPY (psycopg 3) on the SQLAlchemy connection's own DBAPI
connection; SQLite uses executemany. Avoids SQLAlchemy's insertmanyvalues path for ON CONFLICT.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from include.store.schema import quarantine as quarantine_table
from include.store.schema import records as records_table
from include.store.types import StoreError

STAGE_COLS = (
    "key",
    "remote_id",
    "parent_key",
    "version",
    "data",
    "raw",
    "created_at",
    "updated_at",
    "deleted_at",
)
StageRow = tuple[str | None, ...]


def _is_pg(conn: sa.Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _distinct(conn: sa.Connection, a: str, b: str) -> str:
    return f"{a} IS DISTINCT FROM {b}" if _is_pg(conn) else f"{a} IS NOT {b}"


def _served(conn: sa.Connection, data: str) -> str:
    """SQL: ``data`` without its ``updatedAt`` (what a change of served values is judged on)."""
    return f"({data} - 'updatedAt')" if _is_pg(conn) else f"json_remove({data}, '$.updatedAt')"


def newer(
    conn: sa.Connection, s: str, r: str, s_data: str | None = None, served: bool = False
) -> str:
    """SQL: incoming row ``s`` replaces stored row ``r``. Never when s.version < r.version; else
    when s.version > r.version, the data or delete mark differ, or r was soft-deleted by
    reconciliation or with its parent (it reappeared). NULL versions fall through to the data
    comparison. ``s_data``: the SQL of s's data as r.data's type (default ``s.data``).
    ``served``: compare data without ``updatedAt`` (entities whose changes the store dates)."""
    a, b = s_data or f"{s}.data", f"{r}.data"
    if served:
        a, b = _served(conn, a), _served(conn, b)
    return (
        f"(NOT COALESCE({s}.version < {r}.version, FALSE) AND ("
        f"COALESCE({s}.version > {r}.version, FALSE)"
        f" OR {_distinct(conn, a, b)}"
        f" OR {_distinct(conn, f'{s}.deleted_at', f'{r}.deleted_at')}"
        f" OR COALESCE({r}.deleted_by IN ('reconcile', 'parent'), FALSE)))"
    )


def lock_entity(conn: sa.Connection, connection_id: str, entity: str) -> None:
    """Serialize writers of one connection+entity (PostgreSQL; SQLite's BEGIN IMMEDIATE does)."""
    if _is_pg(conn):
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
            {"k": f"millwright.store:{connection_id}/{entity}"},
        )


def stage_rows(conn: sa.Connection, rows: Sequence[StageRow]) -> None:
    """(Re)fill the session temp table ``mw_stage`` with ``rows`` (tuples in STAGE_COLS order).

    Every column is text, ``data`` and ``raw`` too: on PostgreSQL COPY then only copies bytes
    and `merge_staged` parses the JSON of just the rows it compares or writes."""
    cols = ", ".join(f"{c} text" for c in STAGE_COLS)
    conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS mw_stage ({cols})")
    clear(conn, "mw_stage")
    _fill(conn, "mw_stage", STAGE_COLS, rows)


def _fill(conn: sa.Connection, table: str, cols: Sequence[str], rows: Iterable[tuple]) -> None:
    if _is_pg(conn):
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
    else:
        params = list(rows)
        if params:
            marks = ", ".join("?" for _ in cols)
            sql = f"INSERT OR IGNORE INTO {table} ({', '.join(cols)}) VALUES ({marks})"
            conn.exec_driver_sql(sql, params)


RECORD_COLS = (
    "connection_id", "entity", "key", "remote_id", "parent_key", "version", "data", "raw",
    "created_at", "updated_at", "deleted_at", "deleted_by", "synced_at",
)  # fmt: skip


def insert_new(
    conn: sa.Connection, connection_id: str, entity: str, rows: Sequence[StageRow], synced_at: str
) -> bool:
    """Insert ``rows`` (STAGE_COLS tuples, keys unique) straight into `records`, without staging
    and merging: COPY on PostgreSQL. For a batch whose keys are all expected to be new (the first
    full load of an entity). Runs under a savepoint: when any key exists already, or a value is
    refused, nothing is written and it returns False, so the caller merges the batch instead."""
    full = [
        (connection_id, entity, k, rid, parent, ver, data, raw, created, updated, deleted,
         None if deleted is None else "source", synced_at)
        for k, rid, parent, ver, data, raw, created, updated, deleted in rows
    ]  # fmt: skip
    savepoint = conn.begin_nested()
    try:
        if _is_pg(conn):
            _fill(conn, "records", RECORD_COLS, full)
        else:
            marks = ", ".join("?" for _ in RECORD_COLS)
            sql = f"INSERT INTO records ({', '.join(RECORD_COLS)}) VALUES ({marks})"
            conn.exec_driver_sql(sql, full)
    except (sa.exc.IntegrityError, sa.exc.DataError, *_PG_REFUSALS):
        savepoint.rollback()
        return False
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return True


def _pg_refusals() -> tuple[type[BaseException], ...]:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a requirement
        return ()
    return (psycopg.IntegrityError, psycopg.DataError)


_PG_REFUSALS = _pg_refusals()


_INSERT = """
    INSERT INTO records (connection_id, entity, key, remote_id, parent_key, version, data,
                         raw, created_at, updated_at, deleted_at, deleted_by, synced_at)
    SELECT :c, :e, s.key, s.remote_id, s.parent_key, s.version, {data}, {raw}, s.created_at,
           s.updated_at, s.deleted_at,
           CASE WHEN s.deleted_at IS NULL THEN NULL ELSE 'source' END, :synced
    FROM {source} s WHERE TRUE
    ON CONFLICT (connection_id, entity, key) DO UPDATE SET
      remote_id = excluded.remote_id,
      parent_key = excluded.parent_key,
      version = excluded.version,
      data = {data_set},
      raw = excluded.raw,
      created_at = COALESCE(excluded.created_at, records.created_at),
      updated_at = {updated_set},
      deleted_at = excluded.deleted_at,
      deleted_by = excluded.deleted_by,
      synced_at = excluded.synced_at
    WHERE {newer}
"""
# PostgreSQL: staged text as the types of records.data / records.raw
STAGED_DATA = "CAST(s.data AS jsonb)"
STAGED_RAW = "CAST(s.raw AS json)"  # json keeps the text: validated, not parsed (rev 0004)
# False, after checking (json input only validates) the JSON of a row that is not written:
# bad JSON fails the batch whether or not its row would be written, as when COPY parsed it
_VALID_JSON = "num_nulls(CAST(s.data AS json), CAST(s.raw AS json)) < 0"
# the hot path: an update takes the incoming row's data and source time as they are
_PLAIN_SET = {"data_set": "excluded.data", "updated_set": "excluded.updated_at"}


def _stamped_set(conn: sa.Connection) -> dict[str, str]:
    """SET expressions dating a change of served values (data other than ``updatedAt``) at
    ``:stamp``: ``updated_at`` and ``data.updatedAt`` become the latest of the source's time,
    the stamp and the stored time, so they never move back; an update that changes no served
    value (a newer source version alone) keeps the later of the source's and the stored time."""
    changed = _distinct(conn, _served(conn, "excluded.data"), _served(conn, "records.data"))
    if _is_pg(conn):  # GREATEST skips NULLs
        at = (
            f"(CASE WHEN {changed} THEN GREATEST(excluded.updated_at, CAST(:stamp AS text), "
            "records.updated_at) ELSE GREATEST(excluded.updated_at, records.updated_at) END)"
        )
        data = f"jsonb_set(excluded.data, '{{updatedAt}}', to_jsonb({at}))"
    else:  # SQLite's max() of several values is NULL when one is: '' sorts first instead
        upd, rec = "COALESCE(excluded.updated_at, '')", "COALESCE(records.updated_at, '')"
        at = (
            f"(CASE WHEN {changed} THEN max({upd}, :stamp, {rec}) "
            f"ELSE NULLIF(max({upd}, {rec}), '') END)"
        )
        data = f"json_set(excluded.data, '$.updatedAt', {at})"
    keep = _distinct(conn, at, "excluded.updated_at")
    return {"data_set": f"CASE WHEN {keep} THEN {data} ELSE excluded.data END", "updated_set": at}


_DELETED_DELTA = """(CASE WHEN s.deleted_at IS NULL THEN 0 ELSE 1 END)
    - (CASE WHEN r.key IS NULL OR r.deleted_at IS NULL THEN 0 ELSE 1 END)"""


def merge_staged(
    conn: sa.Connection, connection_id: str, entity: str, synced_at: str,
    stamp: str | None = None,
) -> tuple[int, int, int]:  # fmt: skip
    """Upsert ``mw_stage`` into `records`: (inserted, updated, change in deleted rows).

    PostgreSQL: one statement; only new or newer rows reach the INSERT (ON CONFLICT would lock
    and so write every unchanged row it visits). SQLite: classify, then INSERT .. SELECT.
    ``stamp`` (entities serving values the source cannot date): data is compared without
    ``updatedAt``, and a stored row whose served values change is dated ``stamp`` (`_stamped_set`).
    """
    params = {"c": connection_id, "e": entity, "synced": synced_at}
    served = stamp is not None
    sets = _PLAIN_SET
    if served:
        params["stamp"] = stamp
        sets = _stamped_set(conn)
    match = "r.connection_id = :c AND r.entity = :e AND r.key = s.key"
    upsert_where = newer(conn, "excluded", "records", served=served)
    if _is_pg(conn):  # LATERAL .. LIMIT 1 is never flattened: one primary-key probe per row
        cols = "r.key, r.version, r.data, r.deleted_at, r.deleted_by"
        # staged JSON is text: parsed to compare with stored rows and again only to write
        insert = _INSERT.format(
            source="cand", newer=upsert_where, data=STAGED_DATA, raw=STAGED_RAW, **sets
        )
        differs = newer(conn, "s", "r", STAGED_DATA, served=served)
        sql = f"""
            WITH cand AS (
              SELECT s.*, r.key IS NULL AS is_new, {_DELETED_DELTA} AS del_delta
              FROM mw_stage s
              LEFT JOIN LATERAL (SELECT {cols} FROM records r WHERE {match} LIMIT 1) r ON TRUE
              WHERE r.key IS NULL OR {differs} OR {_VALID_JSON}
            ), up AS ({insert} RETURNING 1)
            SELECT COALESCE(SUM(CASE WHEN is_new THEN 1 ELSE 0 END), 0),
                   COUNT(*), COALESCE(SUM(del_delta), 0), (SELECT COUNT(*) FROM up)
            FROM cand
        """
        ins, cand, deleted, written = conn.execute(sa.text(sql), params).one()
        upd = cand - ins
    else:
        sql = f"""
            SELECT COALESCE(SUM(CASE WHEN r.key IS NULL THEN 1 ELSE 0 END), 0),
                   COUNT(*), COALESCE(SUM({_DELETED_DELTA}), 0)
            FROM mw_stage s LEFT JOIN records r ON {match}
            WHERE r.key IS NULL OR {newer(conn, "s", "r", served=served)}
        """
        ins, cand, deleted = conn.execute(sa.text(sql), params).one()
        upd = cand - ins
        insert = _INSERT.format(
            source="mw_stage", newer=upsert_where, data="s.data", raw="s.raw", **sets
        )
        written = conn.execute(sa.text(insert), params).rowcount
    if written != cand:
        raise StoreError(
            f"load of {connection_id}/{entity}: wrote {written} rows, expected {ins} inserts + "
            f"{upd} updates (a concurrent writer?); rolled back"
        )
    return int(ins), int(upd), int(deleted)


def resolve_quarantined(
    conn: sa.Connection, connection_id: str, entity: str, keys: Sequence[str], at: str
) -> int:
    """Resolve the open quarantine entries of ``entity`` records this batch loads (by key): the
    record mapped and validated in a later run, so what quarantined it is fixed. One indexed
    probe when nothing of the entity is open (the common case)."""
    q = quarantine_table
    scope = (q.c.connection_id == connection_id, q.c.entity == entity, q.c.resolved_at.is_(None))
    if not keys or conn.execute(sa.select(q.c.id).where(*scope).limit(1)).first() is None:
        return 0
    done = 0
    for i in range(0, len(keys), 500):
        stmt = sa.update(q).where(*scope, q.c.remote_key.in_(list(keys[i : i + 500])))
        done += conn.execute(stmt.values(resolved_at=at)).rowcount
    return done


def add_counts(conn: sa.Connection, connection_id: str, entity: str, total: int, deleted: int):
    if not total and not deleted:
        return
    conn.execute(
        sa.text(
            "INSERT INTO entity_counts (connection_id, entity, total, deleted) "
            "VALUES (:c, :e, :t, :d) ON CONFLICT (connection_id, entity) DO UPDATE SET "
            "total = entity_counts.total + excluded.total, "
            "deleted = entity_counts.deleted + excluded.deleted"
        ),
        {"c": connection_id, "e": entity, "t": total, "d": deleted},
    )


def advance_cursor(conn: sa.Connection, connection_id: str, entity: str, value: str, now: str):
    """Move the cursor forward (text order) and return the stored value."""
    conn.execute(
        sa.text(
            "INSERT INTO cursors (connection_id, entity, value, updated_at) "
            "VALUES (:c, :e, :v, :now) ON CONFLICT (connection_id, entity) DO UPDATE SET "
            "value = excluded.value, updated_at = excluded.updated_at "
            "WHERE excluded.value > cursors.value"
        ),
        {"c": connection_id, "e": entity, "v": value, "now": now},
    )
    return conn.execute(
        sa.text("SELECT value FROM cursors WHERE connection_id = :c AND entity = :e"),
        {"c": connection_id, "e": entity},
    ).scalar_one()


# the columns queries filter, join or sort `records` on; never data/raw: their statistics are
# of no use to the planner and computing them (detoast, sort the sampled JSON) was most of the cost
STATS_COLS = ("connection_id", "entity", "key", "parent_key", "created_at", "updated_at",
              "deleted_at", "deleted_by")  # fmt: skip


def refresh_stats(conn: sa.Connection, connection_id: str, entity: str, entity_total: int) -> bool:
    """PostgreSQL: ANALYZE `records` (`STATS_COLS` only; reltuples too) when the entity holds more
    than twice the rows the planner expects for it.

    Autovacuum lags behind bulk loads; without statistics the planner takes ``connection_id =
    AND entity =`` for one row, probes the wrong index and a 10k batch costs a minute. The test is
    per entity (the planner's estimate for it), not the table's size: a second entity as large as
    the first is absent from the statistics the first one's load left, and its merges ran at a few
    hundred rows/s. Runs O(log n) times as an entity grows; call it outside the write transaction.
    """
    if not _is_pg(conn) or entity_total < 1000:
        return False
    r = records_table
    probe = sa.select(sa.literal(1)).where(r.c.connection_id == connection_id, r.c.entity == entity)
    sql = probe.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}").scalar()
    if isinstance(plan, str):
        plan = json.loads(plan)
    expected = float(plan[0]["Plan"]["Plan Rows"])
    if entity_total <= 2 * expected:
        return False
    conn.exec_driver_sql(f"ANALYZE records ({', '.join(STATS_COLS)})")
    return True


def create_key_table(conn: sa.Connection, table: str) -> None:
    if _is_pg(conn):  # not unique: COPY must accept a listing that repeats a key
        conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {table} (key text)")
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {table}_key ON {table} (key)")
    else:
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY) WITHOUT ROWID"
        )
    clear(conn, table)


def clear(conn: sa.Connection, table: str) -> None:
    """Empty a session temp table (TRUNCATE on PostgreSQL: autovacuum skips temp tables)."""
    conn.exec_driver_sql(f"{'TRUNCATE' if _is_pg(conn) else 'DELETE FROM'} {table}")


def fill_keys(conn: sa.Connection, table: str, keys: Sequence[str]) -> None:
    _fill(conn, table, ("key",), ((k,) for k in keys))


def _mark_deleted(conn: sa.Connection) -> str:
    """SQL SET clause soft-deleting a row at ``:d`` by ``:by``: ``deletedAt`` goes into ``data``
    too, and ``updated_at``/``updatedAt`` move up to ``:d`` (never back), so clients reading
    ``modified_after`` or a cursor see the deletion."""
    later = "CASE WHEN updated_at IS NULL OR updated_at < :d THEN :d ELSE updated_at END"
    if _is_pg(conn):
        data = (
            "jsonb_set(jsonb_set(data, '{deletedAt}', to_jsonb(CAST(:d AS text))), "
            f"'{{updatedAt}}', to_jsonb(CAST({later} AS text)))"
        )
    else:
        data = f"json_set(data, '$.deletedAt', :d, '$.updatedAt', {later})"
    return f"deleted_at = :d, deleted_by = :by, updated_at = {later}, data = {data}"


def soft_delete_missing(
    conn: sa.Connection, connection_id: str, entity: str, deleted_at: str, by_parent: bool
) -> int:
    """Soft-delete live records whose key is not in ``mw_keys`` (and, when ``by_parent``, whose
    parent_key is in ``mw_parents``). ``deletedAt`` is written into ``data`` too."""
    if _is_pg(conn):
        # probe the key index per record: `records` statistics often lag after bulk loads and a
        # misestimate turns the anti join into a rescan of the whole listing per record
        conn.exec_driver_sql("SET LOCAL enable_hashjoin = off")
        conn.exec_driver_sql("SET LOCAL enable_mergejoin = off")
    parent = (
        " AND parent_key IS NOT NULL AND parent_key IN (SELECT key FROM mw_parents)"
        if by_parent
        else ""
    )
    sql = f"""
        UPDATE records SET {_mark_deleted(conn)}
        WHERE connection_id = :c AND entity = :e AND deleted_at IS NULL{parent}
          AND NOT EXISTS (SELECT 1 FROM mw_keys k WHERE k.key = records.key)
    """
    params = {"c": connection_id, "e": entity, "d": deleted_at, "by": "reconcile"}
    return conn.execute(sa.text(sql), params).rowcount


def soft_delete_keys(
    conn: sa.Connection, connection_id: str, entity: str, keys: Sequence[str], deleted_at: str,
    by: str,
) -> int:  # fmt: skip
    """Soft-delete the live records with these keys (a deletion the source reported)."""
    sql = sa.text(
        f"UPDATE records SET {_mark_deleted(conn)} WHERE connection_id = :c AND entity = :e "
        "AND key IN :keys AND deleted_at IS NULL"
    ).bindparams(sa.bindparam("keys", expanding=True))
    params = {"c": connection_id, "e": entity, "d": deleted_at, "by": by, "keys": list(keys)}
    return conn.execute(sql, params).rowcount if keys else 0


def soft_delete_children(
    conn: sa.Connection, connection_id: str, parent_entity: str, child_entity: str,
    deleted_at: str, only_listed: bool = False,
) -> int:  # fmt: skip
    """Soft-delete (``deleted_by='parent'``) the live child rows of every soft-deleted parent
    (only of parents whose key is in ``mw_parents`` when ``only_listed``). Driven by the deleted
    parents, each a probe of the ``(connection_id, entity, parent_key)`` index."""
    listed = " AND p.key IN (SELECT key FROM mw_parents)" if only_listed else ""
    sql = f"""
        UPDATE records SET {_mark_deleted(conn)}
        WHERE connection_id = :c AND entity = :e AND deleted_at IS NULL
          AND parent_key IN (
            SELECT p.key FROM records p
            WHERE p.connection_id = :c AND p.entity = :pe AND p.deleted_at IS NOT NULL{listed})
    """
    params = {
        "c": connection_id, "e": child_entity, "pe": parent_entity, "d": deleted_at,
        "by": "parent",
    }  # fmt: skip
    return conn.execute(sa.text(sql), params).rowcount
