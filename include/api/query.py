"""List parameters: parsing (page, per_page, filter[...], filterMatch, sort[...], cursor,
modified_after, include_*) into the store's typed query description (`ListQuery`, defined with
its SQL translation in include/store/query.py), and their evaluation over small in-memory lists.

Fields are the entity model's camelCase names. ``key``, ``createdAt``, ``updatedAt`` and
``deletedAt`` map to columns; other fields to the JSON document (``json_extract(data, '$.f')`` on
SQLite, ``data->>'f'`` on PostgreSQL); ``customFields.<name>`` reaches a custom field. Anything
unknown or malformed is a 400 naming the parameter; nothing is silently ignored.
"""

from __future__ import annotations

import base64
import math
import re
import types
from collections.abc import Mapping
from typing import Annotated, Any, Union, get_args, get_origin

import orjson
from pydantic import BaseModel

from include.api.errors import CONTROL, bad_request
from include.model import UTC_PATTERN
from include.model.timeutil import format_utc, parse_datetime
from include.store.query import (  # noqa: F401  (the store compiles a ListQuery into SQL)
    COLUMNS,
    DEFAULT_PER_PAGE,
    FieldRef,
    Filter,
    Kind,
    ListQuery,
    any_clause,
    balanced,
    field_expr,
    filter_clause,
    order_by,
    where_filters,
)

MAX_PER_PAGE = 1000
MAX_PAGE = 10_000_000
OPERATORS = ("contains", "startsWith", "gt", "gteq", "lt", "lteq", "lted")
_FILTER = re.compile(r"^filter\[([^\]]*)\]$")
_SORT = re.compile(r"^sort\[([^\]]*)\]$")
_DIGITS = re.compile(r"[0-9]{1,18}")
_CUSTOM = re.compile(r"^customFields\.([A-Za-z0-9_\-]{1,100})$")
LIST_PARAMS = frozenset(
    {"page", "per_page", "filterMatch", "include_remote_data", "include_deleted"}
    | {"cursor", "modified_after"}
)


# ---------------------------------------------------------------- fields of a model


def _kind(tp: Any) -> Kind:
    origin = get_origin(tp)
    if origin is Annotated:
        base, *meta = get_args(tp)
        if base is str and any(getattr(m, "pattern", None) == UTC_PATTERN for m in meta):
            return "time"
        return _kind(base)
    if origin in (Union, types.UnionType):
        kinds = {_kind(a) for a in get_args(tp) if a is not type(None)}
        return kinds.pop() if len(kinds) == 1 else "other"
    if tp is str:
        return "text"
    if tp is bool:
        return "bool"
    if tp in (int, float):
        return "number"
    return "other"


def model_fields(model: type[BaseModel]) -> dict[str, FieldRef]:
    """Every field of ``model`` as a FieldRef (kind from its annotation)."""
    out = {}
    for name, info in model.model_fields.items():
        kind = "time" if name in ("createdAt", "updatedAt", "deletedAt") else _kind(info.annotation)
        if any(getattr(m, "pattern", None) == UTC_PATTERN for m in info.metadata):
            kind = "time"
        out[name] = FieldRef(name, kind, COLUMNS.get(name))
    return out


def resolve_field(fields: Mapping[str, FieldRef], name: str, param: str) -> FieldRef:
    ref = fields.get(name)
    if ref is not None:
        if ref.kind == "other":
            raise bad_request(param, f"field {name!r} is an object or a list: not filterable")
        return ref
    m = _CUSTOM.match(name)
    if m and "customFields" in fields:
        return FieldRef(name, "text", custom=m.group(1))
    known = ", ".join(sorted(n for n, f in fields.items() if f.kind != "other"))
    raise bad_request(param, f"unknown field {name!r}; fields: {known}, customFields.<name>")


# ---------------------------------------------------------------- parsing


def _int(params: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if _DIGITS.fullmatch(raw) is None:  # int() would also take " 5", "+5" and "1_000"
        raise bad_request(
            name, f"must be an integer between {lo} and {hi} (digits only), got {raw!r}"
        )
    value = int(raw)
    if not lo <= value <= hi:
        raise bad_request(name, f"must be between {lo} and {hi}, got {value}")
    return value


def _bool(params: Mapping[str, str], name: str) -> bool:
    raw = params.get(name)
    if raw is None:
        return False
    low = raw.strip().lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no", ""):
        return False
    raise bad_request(name, f"must be true or false, got {raw!r}")


def _time(param: str, raw: str) -> str:
    try:
        value = format_utc(parse_datetime(raw))
    except (ValueError, OverflowError):
        value = None
    if value is None:
        raise bad_request(param, f"not a date/time: {raw!r} (use ISO-8601, e.g. 2024-01-31T12:00Z)")
    return value


def _value(param: str, ref: FieldRef, op: str, raw: str) -> Any:
    if op in ("contains", "startsWith"):
        if ref.kind in ("number", "bool"):
            raise bad_request(param, f"operator {op!r} applies to text fields, not {ref.name!r}")
        return raw
    if ref.kind == "time":
        return _time(param, raw)
    if ref.kind == "number":
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise bad_request(param, f"not a number: {raw!r}")
        return value
    if ref.kind == "bool":
        if op != "eq":
            raise bad_request(param, f"operator {op!r} does not apply to boolean {ref.name!r}")
        low = raw.strip().lower()
        if low not in ("true", "false", "1", "0"):
            raise bad_request(param, f"must be true or false, got {raw!r}")
        return low in ("true", "1")
    return raw


def parse_filter(fields: Mapping[str, FieldRef], param: str, inner: str, raw: str) -> Filter:
    name, sep, op = inner.partition(":")
    if sep and op not in OPERATORS:
        raise bad_request(param, f"unknown operator {op!r}; operators: {', '.join(OPERATORS)}")
    op = "lteq" if op == "lted" else (op or "eq")
    ref = resolve_field(fields, name, param)
    return Filter(param, ref, op, _value(param, ref, op, raw))


DETAIL_PARAMS = frozenset({"include_remote_data", "include_deleted"})


def parse_detail(params: list[tuple[str, str]]) -> tuple[bool, bool]:
    """(include_remote_data, include_deleted) of a single-record request."""
    single: dict[str, str] = {}
    for name, raw in params:
        if name not in DETAIL_PARAMS:
            names = ", ".join(sorted(DETAIL_PARAMS))
            raise bad_request(name, f"unknown query parameter; parameters: {names}")
        single[name] = raw
    return _bool(single, "include_remote_data"), _bool(single, "include_deleted")


def encode_cursor(updated_at: str | None, key: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(["c1", updated_at, key])).decode().rstrip("=")


def decode_cursor(raw: str) -> tuple[str | None, str]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        tag, updated_at, key = data
        typed = tag == "c1" and isinstance(key, str) and isinstance(updated_at, str | None)
        if typed and not CONTROL.search(key + (updated_at or "")):
            return updated_at, key
    except (ValueError, TypeError, orjson.JSONDecodeError):
        pass
    raise bad_request("cursor", "not a cursor returned by this API (meta.next_cursor)")


def parse_list(
    params: list[tuple[str, str]],
    fields: Mapping[str, FieldRef],
    *,
    max_per_page: int = MAX_PER_PAGE,
    allowed: frozenset[str] = LIST_PARAMS,
) -> ListQuery:
    """Parse a list request's query parameters (as a multi-item list) into a ListQuery."""
    q = ListQuery()
    single: dict[str, str] = {}
    for name, raw in params:
        if (m := _FILTER.match(name)) is not None:
            q.filters.append(parse_filter(fields, name, m.group(1), raw))
        elif (m := _SORT.match(name)) is not None:
            if raw not in ("0", "1"):
                raise bad_request(name, f"must be 0 (ascending) or 1 (descending), got {raw!r}")
            q.sorts.append((resolve_field(fields, m.group(1), name), raw == "1"))
        elif name in allowed:
            single[name] = raw
        else:
            names = "filter[...], sort[...], " + ", ".join(sorted(allowed))
            raise bad_request(name, f"unknown query parameter; parameters: {names}")
    q.page = _int(single, "page", 1, 1, MAX_PAGE)
    q.per_page = _int(single, "per_page", DEFAULT_PER_PAGE, 1, max_per_page)
    match = single.get("filterMatch", "all")
    if match not in ("all", "any"):
        raise bad_request("filterMatch", f"must be 'all' or 'any', got {match!r}")
    q.match_any = match == "any"
    q.include_remote_data = _bool(single, "include_remote_data")
    q.include_deleted = _bool(single, "include_deleted")
    if "modified_after" in single:
        q.modified_after = _time("modified_after", single["modified_after"])
    if "cursor" in single:
        q.cursor_mode = True
        if single["cursor"]:
            q.cursor = decode_cursor(single["cursor"])
        if "page" in single:
            raise bad_request("cursor", "use either cursor or page, not both")
        if q.sorts:
            raise bad_request(
                "cursor", "cursor pages are ordered by updatedAt, key: drop sort[...]"
            )
    return q


# ---------------------------------------------------------------- in-memory (small lookups)


def matches(row: Mapping[str, Any], q: ListQuery) -> bool:
    """Python evaluation of the filters (for small lists such as statuses)."""
    if not q.filters:
        return True
    results = (_match(row, f) for f in q.filters)
    return any(results) if q.match_any else all(results)


def _get(row: Mapping[str, Any], ref: FieldRef) -> Any:
    if ref.custom:
        return (row.get("customFields") or {}).get(ref.custom)
    return row.get(ref.name)


def _match(row: Mapping[str, Any], f: Filter) -> bool:
    value = _get(row, f.field)
    if value is None:
        return False
    if f.op in ("contains", "startsWith"):
        text, needle = str(value).lower(), str(f.value).lower()
        return needle in text if f.op == "contains" else text.startswith(needle)
    if f.field.kind == "bool":
        return bool(value) == f.value
    if f.field.kind == "number":
        try:
            value = float(value)
        except (TypeError, ValueError):
            return False
    else:
        value = str(value)
    return {
        "eq": value == f.value,
        "gt": value > f.value,
        "gteq": value >= f.value,
        "lt": value < f.value,
        "lteq": value <= f.value,
    }[f.op]


def sort_rows(rows: list[dict], q: ListQuery) -> list[dict]:
    rows = sorted(rows, key=lambda r: str(r.get("key")))
    for ref, desc in reversed(q.sorts):
        present = [r for r in rows if _get(r, ref) is not None]
        missing = [r for r in rows if _get(r, ref) is None]
        present.sort(key=lambda r, ref=ref: _sortable(_get(r, ref), ref.kind), reverse=desc)
        rows = present + missing
    return rows


def _sortable(value: Any, kind: Kind) -> Any:
    if kind in ("number", "bool"):
        try:
            return (0, float(value), "")
        except (TypeError, ValueError):
            return (1, 0.0, str(value))
    return (0, 0.0, str(value))
