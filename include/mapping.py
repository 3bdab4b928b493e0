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
from include.timeutil import to_utc_iso

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
        self._custom = [(n, _getter(p)) for n, p in (custom_fields or {}).items()]
        version = mapping.version
        if version is None:
            self._version = None
        elif mapping.version_is_time:
            self._version = compile_spec("version", {"ts": version}, tz)
        else:
            vget = _getter(version)
            self._version = lambda r: None if vget(r) is None else f"{int(vget(r)):020d}"
        updated = mapping.updated or (
            {"ts": version} if version and mapping.version_is_time else None
        )
        self._updated = compile_spec("updatedAt", updated, tz) if updated else None
        self._created = compile_spec("createdAt", mapping.created, tz) if mapping.created else None
        self._deleted = compile_spec("deletedAt", mapping.deleted, tz) if mapping.deleted else None
        ccf = child_custom_fields or {}
        self.children = {
            child: (_getter(path), CompiledMapping(cm, tz, ccf.get(child)))
            for child, (path, cm) in mapping.children.items()
        }

        self._data = self._codegen()

    def _codegen(self) -> Callable[[dict], dict[str, Any]]:
        """Generate one straight-line function for the data fields: plain copies become inline
        ``r.get(...)`` and everything else one call, with no per-field loop (mapping is hot)."""
        ns: dict[str, Any] = {}
        lines = ["def _data(r):", "    d = {}", "    _get = r.get"]
        fields = [*self._fields]
        specs = dict(self.mapping.fields)
        for i, (name, fn) in enumerate(fields):
            spec = specs.get(name)
            if isinstance(spec, str) and "." not in spec:
                lines.append(f"    v = _get({spec!r})")
            else:
                ns[f"f{i}"] = fn
                lines.append(f"    v = f{i}(r)")
            lines.append(f"    if v is not None: d[{name!r}] = v")
        for j, (_name, get) in enumerate(self._custom):
            ns[f"c{j}"] = get
        custom = ", ".join(f"{n!r}: c{j}(r)" for j, (n, _) in enumerate(self._custom))
        lines.append(f"    d['customFields'] = {{{custom}}}")
        for attr, name in (
            ("_created", "createdAt"),
            ("_updated", "updatedAt"),
            ("_deleted", "deletedAt"),
        ):
            if getattr(self, attr):
                ns[attr] = getattr(self, attr)
                lines.append(f"    d[{name!r}] = {attr}(r)")
        lines.append("    return d")
        exec(compile("\n".join(lines), f"<mapping {self.mapping.key}>", "exec"), ns)  # noqa: S102
        return ns["_data"]

    def key_of(self, raw: dict) -> str | None:
        return make_key([g(raw) for g in self._key])

    def __call__(self, raw: dict) -> MappedRecord:
        key = self.key_of(raw)
        if key is None:
            names = ", ".join(self.mapping.key)
            raise MappingError(f"key: natural key ({names}) is missing")
        data = {"key": key, **self._data(raw)}
        version = self._version(raw) if self._version else None
        rid = self._remote_id(raw) if self._remote_id else None
        return MappedRecord(key, None if rid is None else str(rid), version, data)
