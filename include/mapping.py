"""Declarative source -> unified mapping, compiled once into fast per-record functions.

A connector describes each entity as data (`EntityMapping`): which source fields form the natural
key, which field carries the change time/version, and for every unified field a *spec*:

- ``"path"`` or ``"a.b"``: copy the value at that (dotted) path;
- ``{"ts": "path"}``: a time, converted to a UTC ISO string (naive values in the connection's zone);
- ``{"ref": ["siteid", "assetnum"]}``: a reference key built by the same rule as record keys;
- ``{"refs": "path", "each": ["siteid", "assetnum"]}``: a list of reference keys from a list of objects;
- ``{"float": "path"}``, ``{"int": "path"}``, ``{"bool": "path"}``, ``{"str": "path"}``: coerce;
- ``{"const": value}``; ``{"map": "path", "values": {...}, "default": ...}``: a lookup;
- ``{"first": [spec, spec, ...]}``: the first non-empty result;
- ``{"latest": ["path", "lines.path", ...]}``: the latest of some times (UTC ISO); a path through a
  list (``lines.write_date``) takes each item's value;
- ``{"fn": callable}``: escape hatch, ``callable(record, ctx) -> value``.

A connection's custom fields (``{unifiedName: "source.path"}``) are added under ``customFields``.
Children (a purchase order's lines) are mapped by a nested `EntityMapping` and also emitted as records
of their own entity, keyed by the child's natural key.

Coercion errors raise `MappingError` naming the field and value; the pipeline quarantines that
record and carries on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from include.keys import key_part, make_key
from include.timeutil import MINUTE_SECONDS, to_utc_iso, utc_iso_converter

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


def _latest(name: str, paths: list[str], tz: ZoneInfo) -> Mapper:
    getters = [_all_values(p) for p in paths]

    def latest(r: dict) -> str | None:
        best: str | None = None
        for get in getters:
            for v in get(r):
                try:
                    t = to_utc_iso(v, tz)
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
    if not isinstance(spec, dict) or len(spec) != 1:
        return None
    ((kind, arg),) = spec.items()
    if kind == "ref" and isinstance(arg, list | tuple):
        return "str"
    if kind in ("str", "float", "int", "bool") and isinstance(arg, str):
        return kind
    if (kind == "ts" and isinstance(arg, str)) or kind == "latest":
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
        return _latest(name, list(spec["latest"]), tz)
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


class CompiledMapping:
    """An `EntityMapping` compiled for one connection (time zone + custom fields)."""

    def __init__(
        self,
        mapping: EntityMapping,
        tz: ZoneInfo,
        custom_fields: Mapping[str, str] | None = None,
        child_custom_fields: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.mapping = mapping
        self._key = [_getter(p) for p in mapping.key]
        self._remote_id = _getter(mapping.remote_id) if mapping.remote_id else None
        self._fields = [(n, compile_spec(n, s, tz)) for n, s in mapping.fields.items()]
        self._custom_fields = dict(custom_fields or {})
        version = mapping.version
        if version is None:
            self._version = None
        elif mapping.version_is_time:
            self._version = compile_spec("version", {"ts": version}, tz)
        else:
            vget = _getter(version)
            self._version = lambda r: None if vget(r) is None else f"{int(vget(r)):020d}"
        updated = mapping.updated or (
            (
                {"latest": [version, *mapping.changed_with]}
                if mapping.changed_with
                else {"ts": version}
            )
            if version and mapping.version_is_time
            else None
        )
        self._updated_spec = updated
        self._updated = compile_spec("updatedAt", updated, tz) if updated else None
        self._created = compile_spec("createdAt", mapping.created, tz) if mapping.created else None
        self._deleted = compile_spec("deletedAt", mapping.deleted, tz) if mapping.deleted else None
        ccf = child_custom_fields or {}
        self.children = {
            child: (_getter(path), CompiledMapping(cm, tz, ccf.get(child)))
            for child, (path, cm) in mapping.children.items()
        }

        # What the row's data can hold: these names only (`emitted`), and for some of them values of
        # one kind only (`value_types`); `include.model.page_checker` skips checking those.
        extra = [
            ("createdAt", mapping.created),
            ("updatedAt", updated),
            ("deletedAt", mapping.deleted),
        ]
        specs = {**mapping.fields, **{n: spec for n, spec in extra if spec}}
        self.emitted = frozenset({"key", "customFields", *specs})
        kinds = {n: _value_kind(spec) for n, spec in specs.items()}
        if all(isinstance(n, str) for n in self._custom_fields):
            kinds["customFields"] = "dict"
        self.value_types = {n: k for n, k in kinds.items() if k is not None}
        self._row = self._codegen(tz)

    def _codegen(self, tz: ZoneInfo) -> Callable[[dict], tuple]:
        """Generate one straight-line function ``raw -> (key, remote_id, version, data)`` (mapping
        is hot): plain copies, references, times and ``str`` coercions are inlined; each source
        path is read once, and its key part and time converted once, into locals (re-read after
        any opaque call, which could look at or change the record); bounded memo dicts serve
        reference parts (sources repeat sites, statuses) and times (the converter's whole-hour
        table, probed inline, then its per-string memo); everything else is one call. Same values,
        field order and errors as the specs' functions."""
        m = self.mapping
        ns: dict[str, Any] = {"MappingError": MappingError, "_kp": key_part}
        kp_cache: dict[Any, str] = {}
        ns["_kc"] = kp_cache

        def kp_cached(x: Any) -> str | None:
            v = key_part(x)
            if v is not None and x.__class__ is str:
                if len(kp_cache) >= 1 << 16:
                    kp_cache.clear()
                kp_cache[x] = v
            return v

        ns["_kpc"] = kp_cached
        conv = utc_iso_converter(tz)
        ns["_tc"], ns["_th"], ns["_tconv"] = conv.cache, conv.hours, conv  # type: ignore[attr-defined]
        ns["_ms"] = MINUTE_SECONDS
        lines = ["def _row(r):", "    _get = r.get"]
        counter = iter(range(1 << 30))
        loaded: dict[str, str] = {}  # source path -> local holding its value
        parts: dict[str, str] = {}  # source path -> local holding its key part
        times: dict[str, str] = {}  # source path -> local holding its UTC time

        def _is_ref(spec: Any) -> bool:
            return (
                isinstance(spec, dict)
                and len(spec) == 1
                and isinstance(spec.get("ref"), list | tuple)
            )

        # paths referenced from several records share parts (memo); a path only in the key doesn't
        cached_paths = {
            p
            for spec in (*m.fields.values(), m.created, m.updated, m.deleted)
            if _is_ref(spec)
            for p in spec["ref"]
        }

        def opaque(call: str) -> None:
            """``v = call``: a call that gets the record; values read before it are read again."""
            lines.append(f"    v = {call}")
            loaded.clear()
            parts.clear()
            times.clear()

        def load(path: str) -> str:
            var = loaded.get(path)
            if var is None:
                var = loaded[path] = f"a{next(counter)}"
                if "." not in path:
                    lines.append(f"    {var} = _get({path!r})")
                else:
                    name = f"g{next(counter)}"
                    ns[name] = _getter(path)
                    lines.append(f"    {var} = {name}(r)")
            return var

        def part(path: str) -> str:
            """A local holding the escaped key part at ``path`` (None when missing or blank)."""
            var = parts.get(path)
            if var is None:
                x = load(path)
                var = parts[path] = f"k{next(counter)}"
                if path in cached_paths:
                    lines.append(f"    {var} = _kc.get({x}) if {x}.__class__ is str else None")
                    lines.append(f"    if {var} is None and {x} is not None: {var} = _kpc({x})")
                else:
                    lines.append(f"    {var} = None if {x} is None else _kp({x})")
            return var

        def key_expr(paths: Any) -> str:
            names = [part(p) for p in paths]
            if not names:
                return "None"
            if len(names) == 1:
                return names[0]
            cond = " and ".join(f"{n} is not None" for n in names)
            joined = ":".join(f"{{{n}}}" for n in names)
            return f"f'{joined}' if {cond} else None"

        def ts_expr(name: str, path: str) -> str:
            var = times.get(path)
            if var is not None:
                return var
            x = load(path)
            var = times[path] = f"t{next(counter)}"
            lines.append(f"    {var} = None")
            lines.append(f"    if {x}.__class__ is str:")
            lines.append(f"        ms = {x}[13:19]")
            lines.append("        if ms in _ms:")
            lines.append(f"            {var} = _th.get({x}[:13] + {x}[19:])")
            lines.append(f"            if {var} is not None: {var} = f'{{{var}}}{{ms}}Z'")
            lines.append(f"        if {var} is None: {var} = _tc.get({x})")
            lines.append(f"    if {var} is None and {x} is not None and {x} != '':")
            lines.append("        try:")
            lines.append(f"            {var} = _tconv({x})")
            lines.append("        except ValueError:")
            lines.append(
                f"            raise MappingError({name + ': not a date/time: '!r} + repr({x})) from None"
            )
            return var

        def value(name: str, spec: Any, fn: Mapper) -> str:
            """An expression for the field's value (after emitting what it needs)."""
            if isinstance(spec, str):
                return load(spec)
            if isinstance(spec, dict) and len(spec) == 1 and isinstance(spec.get("ts"), str):
                return ts_expr(name, spec["ts"])
            if _is_ref(spec):
                return key_expr(spec["ref"])
            if isinstance(spec, dict) and len(spec) == 1 and isinstance(spec.get("str"), str):
                x = load(spec["str"])
                return f"None if {x} is None or {x} == '' else ({x} if {x}.__class__ is str else str({x}))"
            fname = f"f{next(counter)}"
            ns[fname] = fn
            if _reads_only(spec):
                lines.append(f"    v = {fname}(r)")
            else:
                opaque(f"{fname}(r)")
            return "v"

        lines.append(f"    key = {key_expr(m.key)}")
        names = ", ".join(m.key)
        lines.append("    if key is None:")
        lines.append(
            f"        raise MappingError({'key: natural key (' + names + ') is missing'!r})"
        )
        lines.append("    d = {'key': key}")
        for name, fn in self._fields:
            expr = value(name, m.fields[name], fn)
            if not expr.isidentifier():
                lines.append(f"    v = {expr}")
                expr = "v"
            lines.append(f"    if {expr} is not None: d[{name!r}] = {expr}")
        custom = ", ".join(f"{n!r}: {load(p)}" for n, p in (self._custom_fields or {}).items())
        lines.append(f"    d['customFields'] = {{{custom}}}")
        version_is_updated = m.version is not None and m.version_is_time and not m.updated
        for spec, name in (
            (m.created, "createdAt"),
            (self._updated_spec, "updatedAt"),
            (m.deleted, "deletedAt"),
        ):
            if spec:
                expr = value(name, spec, compile_spec(name, spec, tz))
                lines.append(f"    d[{name!r}] = {expr}")
        if m.version is None:
            lines.append("    ver = None")
        elif version_is_updated:
            lines.append("    ver = d['updatedAt']")
        else:
            ns["_version"] = self._version
            lines.append("    ver = _version(r)")
        if m.remote_id:
            lines.append(f"    rid = {load(m.remote_id)}")
            lines.append("    if rid is not None and rid.__class__ is not str: rid = str(rid)")
        else:
            lines.append("    rid = None")
        lines.append("    return key, rid, ver, d")
        code = "\n".join(lines)
        self._code = code
        exec(compile(code, f"<mapping {m.key}>", "exec"), ns)  # noqa: S102
        return ns["_row"]

    def key_of(self, raw: dict) -> str | None:
        return make_key([g(raw) for g in self._key])

    def row(self, raw: dict) -> tuple[str, str | None, str | None, dict[str, Any]]:
        """``(key, remote_id, version, data)``: the pipeline's hot path; raises MappingError."""
        return self._row(raw)

    def __call__(self, raw: dict) -> MappedRecord:
        return MappedRecord(*self._row(raw))
