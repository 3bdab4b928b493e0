"""Reads of the store for the read API: pages (offset or keyset) of a `ListQuery`, single
records, counts, custom field names.

Every statement is scoped by ``connection_id`` and ``entity``, and the statements of one read
share a budget of database time (`include.store.deadline`; `StoreTimeout` beyond). Records are
served as the stored JSON text (no parse/serialise round trip); ``remoteData`` is spliced in when
asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from include.store import schema as store_schema
from include.store.deadline import Budget, budgeted
from include.store.query import ListQuery, filter_clause, order_by, where_filters

if TYPE_CHECKING:
    from include.store.store import Store

records = store_schema.records
counts = store_schema.entity_counts


@dataclass
class Page:
    items: list[str]  # JSON text of each record
    total: int | None
    next_cursor: tuple[str | None, str] | None = None
    has_more: bool = False


def _doc(column: sa.ColumnElement, dialect: str) -> sa.ColumnElement:
    return sa.cast(column, sa.Text) if dialect == "postgresql" else column


def _columns(dialect: str, remote: bool) -> list[sa.ColumnElement]:
    cols = [records.c.key, records.c.updated_at, _doc(records.c.data, dialect).label("data")]
    if remote:
        cols.append(_doc(records.c.raw, dialect).label("raw"))
    return cols


def item_json(data: str, raw: str | None, remote: bool) -> str:
    """The record's JSON text, with ``"remoteData": <raw>`` added when ``remote``."""
    if not remote:
        return data
    body = data.rstrip()
    if not body.endswith("}"):
        raise ValueError("stored record is not a JSON object")
    head = body[:-1].rstrip()
    sep = "" if head.endswith("{") else ","
    return f'{head}{sep}"remoteData":{raw if raw is not None else "null"}}}'


def stored_counts(conn: sa.Connection, connection_id: str, entity: str) -> tuple[int, int]:
    """(total, deleted) as maintained by the store's loads: O(1)."""
    row = conn.execute(
        sa.select(counts.c.total, counts.c.deleted).where(
            counts.c.connection_id == connection_id, counts.c.entity == entity
        )
    ).first()
    return (int(row.total), int(row.deleted)) if row else (0, 0)


def list_page(
    store: Store, connection_id: str, entity: str, q: ListQuery, *, timeout: float = 0
) -> Page:
    """One page of ``q`` (offset or keyset); its statements share ``timeout`` seconds."""
    dialect = store.dialect
    scope = [records.c.connection_id == connection_id, records.c.entity == entity]
    with budgeted(store, timeout) as budget:
        conn = budget.conn
        budget.arm()
        total_all, deleted = stored_counts(conn, connection_id, entity)
        if not q.include_deleted and deleted:
            scope.append(records.c.deleted_at.is_(None))
        filtered = where_filters(q, records, dialect)
        if filtered is not None:
            scope.append(filtered)
        scope += [filter_clause(f, records, dialect) for f in q.scope]
        if q.modified_after is not None:
            scope.append(records.c.updated_at > q.modified_after)
        total: int | None
        if filtered is None and q.modified_after is None and not q.scope:
            total = total_all if q.include_deleted else total_all - deleted
        elif q.cursor_mode:
            total = None  # a COUNT here would grow with the set: cursor pages stay O(page)
        else:
            budget.arm()
            total = conn.execute(sa.select(sa.func.count()).where(*scope)).scalar_one()
        if q.cursor_mode:
            return _keyset(budget, scope, q, total)
        return Page(_offset_items(budget, connection_id, entity, scope, q), total)


def _offset_items(
    budget: Budget, connection_id: str, entity: str, scope: list, q: ListQuery
) -> list[str]:
    """The page's keys first (the offset skips keys only, one scan of the filtered rows), then
    their documents by primary key. Two statements rather than a join: a join let PostgreSQL
    re-run the page-keys subquery for every outer row (a nested loop) when many filters made
    its estimate tiny."""
    conn, dialect = budget.conn, budget.dialect
    keys_stmt = (
        sa.select(records.c.key)
        .where(*scope)
        .order_by(*order_by(q, records, dialect))
        .limit(q.per_page)
        .offset((q.page - 1) * q.per_page)
    )
    budget.arm()
    keys = list(conn.execute(keys_stmt).scalars())
    if not keys:
        return []
    remote = q.include_remote_data
    budget.arm()
    found = conn.execute(*_docs_stmt(dialect, remote, connection_id, entity, keys)).all()
    by_key = {r[0]: r for r in found}
    rows = [by_key[k] for k in keys if k in by_key]
    if remote:
        return [item_json(r[1], r[2], True) for r in rows]
    return [r[1] for r in rows]


_DOCS_PG = (
    "SELECT key, CAST(data AS text){raw} FROM records WHERE connection_id = :c AND entity = :e "
    "AND key = ANY(:k)"
)
_DOCS_SQLITE = (
    "SELECT key, data{raw} FROM records WHERE connection_id = :c AND entity = :e "
    "AND key IN (SELECT value FROM json_each(:k))"
)
_DOCS: dict[tuple[str, bool], sa.TextClause] = {}


def _docs_stmt(
    dialect: str, remote: bool, connection_id: str, entity: str, keys: list[str]
) -> tuple[sa.TextClause, dict]:
    """The documents of a page's keys (any order) as one statement with one list parameter (a
    PostgreSQL array, a JSON array on SQLite): an expanding ``IN`` of 1,000 bound parameters
    cost more to build than the lookups themselves."""
    stmt = _DOCS.get((dialect, remote))
    if stmt is None:
        if dialect == "postgresql":
            raw = ", CAST(raw AS text)" if remote else ""
            stmt = sa.text(_DOCS_PG.format(raw=raw)).bindparams(
                sa.bindparam("k", type_=postgresql.ARRAY(sa.Text))
            )
        else:
            stmt = sa.text(_DOCS_SQLITE.format(raw=", raw" if remote else ""))
        _DOCS[(dialect, remote)] = stmt
    k = keys if dialect == "postgresql" else orjson.dumps(keys).decode()
    return stmt, {"c": connection_id, "e": entity, "k": k}


def _keyset(budget: Budget, scope: list, q: ListQuery, total: int | None) -> Page:
    """Rows after the cursor in (updated_at, key) order, then those with no updated_at by key.

    Each phase is one range scan of the (connection_id, entity, updated_at, key) index, so a
    page costs the same at any depth."""
    conn, dialect = budget.conn, budget.dialect
    limit = q.per_page + 1
    cols = _columns(dialect, q.include_remote_data)
    upd, key = records.c.updated_at, records.c.key
    rows: list = []
    if q.cursor is None or q.cursor[0] is not None:
        cond = [upd.is_not(None)]
        if q.cursor is not None:
            cond.append(sa.tuple_(upd, key) > sa.tuple_(sa.literal(q.cursor[0]), q.cursor[1]))
        stmt = sa.select(*cols).where(*scope, *cond).order_by(upd, key).limit(limit)
        budget.arm()
        rows = conn.execute(stmt).all()
    if len(rows) < limit and q.modified_after is None:
        cond = [upd.is_(None)]
        if q.cursor is not None and q.cursor[0] is None:
            cond.append(key > q.cursor[1])
        stmt = sa.select(*cols).where(*scope, *cond).order_by(key).limit(limit - len(rows))
        budget.arm()
        rows += conn.execute(stmt).all()
    has_more = len(rows) > q.per_page
    rows = rows[: q.per_page]
    remote = q.include_remote_data
    items = [item_json(r.data, r.raw if remote else None, remote) for r in rows]
    last = (rows[-1].updated_at, rows[-1].key) if has_more else None
    return Page(items, total, last, has_more)


def get_one(
    store: Store,
    connection_id: str,
    entity: str,
    key: str,
    *,
    remote: bool,
    deleted: bool,
    timeout: float = 0,
) -> str | None:
    """One record's JSON text, or None (absent, another connection's, or deleted)."""
    cols = _columns(store.dialect, remote)
    stmt = sa.select(*cols, records.c.deleted_at).where(
        records.c.connection_id == connection_id, records.c.entity == entity, records.c.key == key
    )
    with budgeted(store, timeout) as budget:
        budget.arm()
        row = budget.conn.execute(stmt).first()
    if row is None or (row.deleted_at is not None and not deleted):
        return None
    return item_json(row.data, row.raw if remote else None, remote)


_RECENT = (
    "(SELECT data FROM records WHERE connection_id = :c AND entity = :e "
    "ORDER BY updated_at DESC LIMIT :n) recent"
)
_CF_PG = sa.text(
    f"SELECT DISTINCT k FROM {_RECENT}, jsonb_object_keys(CASE WHEN "
    "jsonb_typeof(recent.data -> 'customFields') = 'object' THEN recent.data -> 'customFields' "
    "ELSE '{}'::jsonb END) AS k ORDER BY k"
)
_CF_SQLITE = sa.text(
    f"SELECT DISTINCT j.key FROM {_RECENT}, json_each(recent.data, '$.customFields') AS j "
    "WHERE j.key IS NOT NULL ORDER BY j.key"
)


def custom_field_names(
    store: Store, connection_id: str, entity: str, sample: int = 10_000, *, timeout: float = 0
) -> list[str]:
    """Custom field names seen in the ``sample`` most recently updated records."""
    stmt = _CF_PG if store.dialect == "postgresql" else _CF_SQLITE
    with budgeted(store, timeout) as budget:
        budget.arm()
        rows = budget.conn.execute(stmt, {"c": connection_id, "e": entity, "n": sample}).scalars()
        return [str(k) for k in rows]
