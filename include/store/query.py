"""A list request of the read API as a typed query description (`ListQuery`: filters, sorts,
paging, cursor) and its translation into SQL over the store's ``records`` table.

The API parses request parameters into a `ListQuery` (include/api/query.py); the store compiles
and runs it (include/store/read.py). ``key``, ``createdAt``, ``updatedAt`` and ``deletedAt`` map
to columns; other fields to the JSON document (``json_extract(data, '$.f')`` on SQLite,
``data->>'f'`` on PostgreSQL); ``customFields.<name>`` reaches a custom field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB

Kind = Literal["text", "time", "number", "bool", "other"]
DEFAULT_PER_PAGE = 25
COLUMNS = {"key": "key", "createdAt": "created_at", "updatedAt": "updated_at"}
COLUMNS["deletedAt"] = "deleted_at"


@dataclass(frozen=True)
class FieldRef:
    """A filterable/sortable field: a column, a top-level JSON field or a custom field."""

    name: str
    kind: Kind
    column: str | None = None
    custom: str | None = None  # customFields.<custom>


@dataclass(frozen=True)
class Filter:
    param: str
    field: FieldRef
    op: str  # "eq" or one of OPERATORS ("lted" normalised to "lteq")
    value: Any


@dataclass
class ListQuery:
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    filters: list[Filter] = field(default_factory=list)
    match_any: bool = False
    sorts: list[tuple[FieldRef, bool]] = field(default_factory=list)  # (field, descending)
    include_remote_data: bool = False
    include_deleted: bool = False
    cursor: tuple[str | None, str] | None = None  # (updated_at, key) of the last row served
    cursor_mode: bool = False
    modified_after: str | None = None
    # conditions every row must meet whatever ``filterMatch`` says (a sub-resource's owner:
    # ``/assets/{key}/materials`` is ``assetKey = key``), ANDed with the filters
    scope: list[Filter] = field(default_factory=list)


def _sql_literal(text: str) -> sa.ColumnElement:
    """A string literal inlined in the SQL (not a parameter): an index on an expression is used
    only by a query whose expression is the same text (``ix_records_status_category``). Field
    names are model field names or checked custom names; quotes are doubled anyway."""
    return sa.literal_column("'" + text.replace("'", "''") + "'")


def field_expr(ref: FieldRef, table: sa.Table, dialect: str) -> sa.ColumnElement:
    """The SQL expression of a field, typed for comparison (numbers cast, text as text). The JSON
    path is inlined, so ``statusCategory`` is exactly the expression its index is on."""
    if ref.column is not None:
        return table.c[ref.column]
    path = ("customFields", ref.custom) if ref.custom else (ref.name,)
    if dialect == "postgresql":
        doc: Any = sa.type_coerce(table.c.data, JSONB)
        for part in path[:-1]:
            doc = doc.op("->", return_type=JSONB)(_sql_literal(part))
        text = doc.op("->>", return_type=sa.Text)(_sql_literal(path[-1]))
        if ref.kind == "number":
            return sa.cast(text, sa.Float)
        return text
    json_path = "$." + ".".join(f'"{p}"' for p in path)
    value = sa.func.json_extract(table.c.data, _sql_literal(json_path))
    if ref.kind == "number":
        return sa.cast(value, sa.Float)
    if ref.kind == "bool":
        return value
    return sa.cast(value, sa.Text)


def filter_clause(f: Filter, table: sa.Table, dialect: str) -> sa.ColumnElement[bool]:
    expr = field_expr(f.field, table, dialect)
    v = f.value
    if f.op == "contains":
        return expr.icontains(v, autoescape=True)
    if f.op == "startsWith":
        return expr.istartswith(v, autoescape=True)
    if f.field.kind == "bool" and f.field.column is None:
        if dialect == "postgresql":
            return expr == ("true" if v else "false")
        return expr == (1 if v else 0)
    ops: dict[str, Callable[[Any, Any], Any]] = {
        "eq": lambda a, b: a == b,
        "gt": lambda a, b: a > b,
        "gteq": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lteq": lambda a, b: a <= b,
    }
    return ops[f.op](expr, v)


def where_filters(q: ListQuery, table: sa.Table, dialect: str) -> sa.ColumnElement[bool] | None:
    """The filters as one condition. With ``filterMatch=any`` the filters on one field and
    operator become one test (``IN``, a bound, ``LIKE ANY``), so the cost per row is set by
    the distinct (field, operator) pairs, not the number of filters; either way the condition
    is a balanced tree (SQLite refuses expressions over 1000 deep)."""
    if not q.filters:
        return None
    if q.match_any:
        groups: dict[tuple[FieldRef, str], list[Filter]] = {}
        for f in q.filters:
            groups.setdefault((f.field, f.op), []).append(f)
        anys = [any_clause(fs, table, dialect) for fs in groups.values()]
        return balanced(sa.or_, anys)
    return balanced(sa.and_, [filter_clause(f, table, dialect) for f in q.filters])


def balanced(
    join: Callable[..., sa.ColumnElement[bool]], clauses: list[sa.ColumnElement[bool]]
) -> sa.ColumnElement[bool]:
    """``join`` (and_/or_) of ``clauses`` as a tree of depth log2(n), each level parenthesised."""
    if len(clauses) <= 8:
        return join(*clauses).self_group()
    mid = len(clauses) // 2
    return join(balanced(join, clauses[:mid]), balanced(join, clauses[mid:])).self_group()


def any_clause(fs: list[Filter], table: sa.Table, dialect: str) -> sa.ColumnElement[bool]:
    """OR of filters sharing field and operator, as one test."""
    if len(fs) == 1:
        return filter_clause(fs[0], table, dialect)
    f, values = fs[0], [f.value for f in fs]
    if f.op in ("gt", "gteq"):  # x > a OR x > b  ==  x > min(a, b)
        return filter_clause(Filter(f.param, f.field, f.op, min(values)), table, dialect)
    if f.op in ("lt", "lteq"):
        return filter_clause(Filter(f.param, f.field, f.op, max(values)), table, dialect)
    expr = field_expr(f.field, table, dialect)
    if f.op == "eq":
        if f.field.kind == "bool" and f.field.column is None:
            truth = ("true", "false") if dialect == "postgresql" else (1, 0)
            values = [truth[0] if v else truth[1] for v in values]
        return expr.in_(sorted(set(values)))
    if dialect != "postgresql":  # no arrays: one LIKE per value
        return balanced(sa.or_, [filter_clause(g, table, dialect) for g in fs])
    # PostgreSQL: one lower() of the field per row against one array of patterns (a single
    # parameter, lowered once by an InitPlan: PostgreSQL's lower(), as for a single filter)
    lead = "%" if f.op == "contains" else ""
    patterns = sorted({f"{lead}{_like_escape(v)}%" for v in values})
    param = sa.bindparam(None, patterns, type_=postgresql.ARRAY(sa.Text))
    unnest = sa.func.unnest(param).table_valued("p").render_derived()
    lowered = sa.func.array(sa.select(sa.func.lower(unnest.c.p)).scalar_subquery())
    return sa.func.lower(expr).like(sa.any_(lowered))


def _like_escape(value: str) -> str:
    """A LIKE pattern matching ``value`` literally (PostgreSQL's default escape is ``\\``)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def order_by(q: ListQuery, table: sa.Table, dialect: str) -> list[sa.ColumnElement]:
    """The requested sorts (NULLs last either way) with ``key`` as the final tiebreak."""
    out: list[sa.ColumnElement] = []
    for ref, desc in q.sorts:
        expr = field_expr(ref, table, dialect)
        if ref.column == "key":
            out.append(expr.desc() if desc else expr.asc())
            return out
        out.append((expr.desc() if desc else expr.asc()).nulls_last())
    out.append(table.c.key.asc())
    return out
