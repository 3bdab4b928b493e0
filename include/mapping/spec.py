"""Declarative source -> unified mapping, compiled once into fast per-record functions.

A connector describes each entity as data (`EntityMapping`): which source fields form the natural
key, which field carries the change time/version, and for every unified field a *spec*:

- ``"path"`` or ``"a.b"``: copy the value at that (dotted) path;
- ``{"ts": "path"}``: a time, converted to a UTC ISO string (naive values in the connection's zone;
  numbers are epoch milliseconds);
- ``{"epoch_s": "path"}``: a time in Unix **seconds** (Limble's), as a UTC ISO string; 0 and empty
  values are no time;
- ``{"ref": ["siteid", "assetnum"]}``: a reference key built by the same rule as record keys;
- ``{"refs": "path", "each": ["siteid", "assetnum"]}``: a list of reference keys from a list of objects;
- ``{"float": "path"}``, ``{"int": "path"}``, ``{"bool": "path"}``, ``{"str": "path"}``: coerce;
- ``{"const": value}``; ``{"map": "path", "values": {...}, "default": ...}``: a lookup;
- ``{"first": [spec, spec, ...]}``: the first non-empty result;
- ``{"latest": ["path", "lines.path", ...]}``: the latest of some times (UTC ISO); a path through a
  list (``lines.write_date``) takes each item's value; ``"unit": "epoch_s"`` beside it reads the
  times as Unix seconds;
- ``{"fn": callable}``: escape hatch, ``callable(record, ctx) -> value``.

A connection's custom fields (``{unifiedName: "source.path"}``) are added under ``customFields``.
Children (a purchase order's lines) are mapped by a nested `EntityMapping` and also emitted as records
of their own entity, keyed by the child's natural key.

Coercion errors raise `MappingError` naming the field and value; the pipeline quarantines that
record and carries on.

`compile_spec` turns one spec into its function. Those functions are not a second engine: the
generated row function (`include.mapping.codegen`) calls them for the specs it does not inline,
and they are the documented meaning of every spec, which the generator's inlined specs are
tested against (tests/unit/test_mapping_codegen.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from include.model.keys import key_part, make_key
from include.model.timeutil import to_utc_iso

Getter = Callable[[dict], Any]
Mapper = Callable[[dict], Any]


class MappingError(ValueError):
    """A source value could not be mapped; the message names the unified field."""


@dataclass(frozen=True)
class EntityMapping:
    """How one source object becomes one unified record (pure data)."""

    key: tuple[str, ...]
    fields: Mapping[str, Any]
    version: str | None = None  # source path of the change time / version used to order upserts
    version_is_time: bool = True  # version is a time (converted to UTC) rather than a number
    # how the version's time (and the ``changed_with`` times) are written: "auto" (ISO strings,
    # naive ones in the connection's zone; numbers are epoch ms) or "epoch_s" (Unix seconds)
    time_unit: str = "auto"
    remote_id: str | None = None  # source's internal id, kept for reference
    created: Any = None  # spec for createdAt
    updated: Any = None  # spec for updatedAt (defaults to the version when it is a time)
    deleted: Any = None  # spec for a source deletion flag/time -> deletedAt
    children: Mapping[str, tuple[str, EntityMapping]] = field(default_factory=dict)
    # children: {child entity: (source path of the child list, child mapping)}
    changed_with: tuple[str, ...] = ()
    # source paths of related records' change times (``connectors.base.ChangedWhen``): with a time
    # ``version``, updatedAt and the version are the latest of the version and these


def _all_values(path: str) -> Getter:
    """``record -> list`` of the values at a dotted path; a list on the way fans out."""
    parts = path.split(".")

    def walk(cur: Any, i: int, out: list) -> None:
        if isinstance(cur, list):
            for item in cur:
                walk(item, i, out)
        elif i == len(parts):
            if cur is not None and cur != "":
                out.append(cur)
        elif isinstance(cur, dict):
            walk(cur.get(parts[i]), i + 1, out)

    def get(r: dict) -> list:
        out: list = []
        walk(r, 0, out)
        return out

    return get


TIME_UNITS = ("auto", "epoch_s")


def epoch_s_to_utc_iso(value: Any) -> str | None:
    """Unix seconds (an int, a float or their text) as a UTC ISO time; 0 and empty: None."""
    if value is None or value == "" or value == 0 or value == "0":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not Unix seconds: {value!r}")
    try:
        secs = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"not Unix seconds: {value!r}") from None
    return to_utc_iso(secs * 1000.0)


def _latest(name: str, paths: list[str], tz: ZoneInfo, unit: str = "auto") -> Mapper:
    getters = [_all_values(p) for p in paths]
    if unit not in TIME_UNITS:
        raise TypeError(f"mapping for {name!r}: unit must be one of {TIME_UNITS}, got {unit!r}")
    conv = epoch_s_to_utc_iso if unit == "epoch_s" else (lambda v: to_utc_iso(v, tz))

    def latest(r: dict) -> str | None:
        best: str | None = None
        for get in getters:
            for v in get(r):
                try:
                    t = conv(v)
                except ValueError:
                    raise MappingError(f"{name}: not a date/time: {v!r}") from None
                if t is not None and (best is None or _sortable(t) > _sortable(best)):
                    best = t
        return best

    return latest


def _sortable(t: str) -> str:
    """A UTC ISO time padded to microseconds, so that text order is time order."""
    return t if len(t) == 27 else t[:-1].ljust(26, "0") + "Z" if "." in t else t[:-1] + ".000000Z"


@dataclass(frozen=True)
class MappedRecord:
    key: str
    remote_id: str | None
    version: str | None
    data: dict[str, Any]
    parent_key: str | None = None


def _getter(path: str) -> Getter:
    parts = path.split(".")
    if len(parts) == 1:
        p = parts[0]
        return lambda r: r.get(p)

    def get(r: dict) -> Any:
        cur: Any = r
        for part in parts:
            if not isinstance(cur, dict):
                return None
            cur = cur.get(part)
        return cur

    return get


def custom_getter(path: str) -> Getter:
    """A custom field's getter: the value at a dotted path; a list on the way (a child object,
    a 1:n navigation property) yields the list of its items' values (None when none has one). An
    OData v2 expanded collection (``{"results": [...]}``) counts as its list."""
    parts = path.split(".")

    def get(r: dict) -> Any:
        cur: Any = r
        for i, part in enumerate(parts):
            if isinstance(cur, dict) and part not in cur and isinstance(cur.get("results"), list):
                cur = cur["results"]
            if isinstance(cur, list):
                return _values(cur, parts, i)
            if not isinstance(cur, dict):
                return None
            cur = cur.get(part)
        return cur

    return get


def _values(items: list, parts: list[str], i: int) -> list | None:
    out: list = []
    for item in items:
        cur: Any = item
        for part in parts[i:]:
            cur = cur.get(part) if isinstance(cur, dict) else None
        if isinstance(cur, list):
            out.extend(v for v in cur if v is not None)
        elif cur is not None:
            out.append(cur)
    return out or None


def _coerce(kind: str, name: str, get: Getter) -> Mapper:
    def conv(r: dict) -> Any:
        v = get(r)
        if v is None or v == "":
            return None
        try:
            if kind == "float":
                return float(v)
            if kind == "int":
                return int(v)
            if kind == "str":
                return str(v)
            if kind == "bool":
                if isinstance(v, bool):
                    return v
                s = str(v).strip().lower()
                if s in ("1", "true", "y", "yes", "t"):
                    return True
                if s in ("0", "false", "n", "no", "f"):
                    return False
                raise ValueError(v)
        except (TypeError, ValueError):
            raise MappingError(f"{name}: cannot convert {v!r} to {kind}") from None
        raise AssertionError(kind)

    return conv


def _reads_only(spec: Any) -> bool:
    """Whether the compiled spec only reads the record (no ``fn`` or callable anywhere in it)."""
    if isinstance(spec, str):
        return True
    if not isinstance(spec, dict) or "fn" in spec:
        return False
    if "first" in spec:
        return all(_reads_only(s) for s in spec["first"])
    return True


def _value_kind(spec: Any) -> str | None:
    """The only kind of non-None value a spec can produce, when the spec guarantees one:
    ``"str"`` (references, ``str``), ``"utc"`` (times: ISO-8601 UTC ending in ``Z``),
    ``"float"``, ``"int"``, ``"bool"``; None for copies and functions (anything goes)."""
    if isinstance(spec, dict) and "latest" in spec:
        return "utc"
    if not isinstance(spec, dict) or len(spec) != 1:
        return None
    ((kind, arg),) = spec.items()
    if kind == "ref" and isinstance(arg, list | tuple):
        return "str"
    if kind in ("str", "float", "int", "bool") and isinstance(arg, str):
        return kind
    if kind in ("ts", "epoch_s") and isinstance(arg, str):
        return "utc"
    return None


def compile_spec(name: str, spec: Any, tz: ZoneInfo) -> Mapper:
    """Compile one field spec into ``record -> value``."""
    if isinstance(spec, str):
        return _getter(spec)
    if callable(spec):
        return spec
    if not isinstance(spec, dict) or not spec:
        raise TypeError(f"mapping for {name!r}: unsupported spec {spec!r}")
    if "ts" in spec:
        get = _getter(spec["ts"])

        def ts(r: dict) -> Any:
            v = get(r)
            try:
                return to_utc_iso(v, tz)
            except ValueError:
                raise MappingError(f"{name}: not a date/time: {v!r}") from None

        return ts
    if "epoch_s" in spec:
        get = _getter(spec["epoch_s"])

        def epoch_s(r: dict) -> Any:
            v = get(r)
            try:
                return epoch_s_to_utc_iso(v)
            except ValueError:
                raise MappingError(f"{name}: not Unix seconds: {v!r}") from None

        return epoch_s
    if "ref" in spec:
        getters = [_getter(p) for p in spec["ref"]]
        if len(getters) == 1:
            g0 = getters[0]
            return lambda r: key_part(g0(r))
        return lambda r: make_key([g(r) for g in getters])
    if "refs" in spec:
        get_list = _getter(spec["refs"])
        getters = [_getter(p) for p in spec["each"]]

        def refs(r: dict) -> list[str]:
            items = get_list(r) or []
            keys = (make_key([g(i) for g in getters]) for i in items if isinstance(i, dict))
            return [k for k in keys if k]

        return refs
    for kind in ("float", "int", "bool", "str"):
        if kind in spec:
            return _coerce(kind, name, _getter(spec[kind]))
    if "const" in spec:
        value = spec["const"]
        return lambda r: value
    if "map" in spec:
        get = _getter(spec["map"])
        values, default = spec["values"], spec.get("default")
        return lambda r: values.get(get(r), default)
    if "latest" in spec:
        return _latest(name, list(spec["latest"]), tz, spec.get("unit", "auto"))
    if "first" in spec:
        options = [compile_spec(name, s, tz) for s in spec["first"]]

        def first(r: dict) -> Any:
            for opt in options:
                v = opt(r)
                if v not in (None, ""):
                    return v
            return None

        return first
    if "fn" in spec:
        fn = spec["fn"]
        return lambda r: fn(r, tz)
    raise TypeError(f"mapping for {name!r}: unsupported spec {spec!r}")
