"""The mapping engine: one generated, straight-line Python function per entity and connection,
``raw -> (key, remote_id, version, data)`` (mapping is the sync's hot path).

Plain copies, references, times and ``str`` coercions are inlined; each source path is read once,
and its key part and time converted once, into locals (re-read after any opaque call, which could
look at or change the record); bounded memo dicts serve reference parts (sources repeat sites,
statuses) and times (the converter's whole-hour table, probed inline, then its per-string memo);
every other spec is one call of its spec function (`include.mapping.spec.compile_spec`). The values,
field order and errors are those the specs document (tests/unit/test_mapping_codegen.py checks
them against the specs' functions on random records)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from include.mapping.spec import (
    EntityMapping,
    Mapper,
    MappingError,
    _getter,
    _reads_only,
    custom_getter,
)
from include.mapping.spec import compile_spec as _compile_spec
from include.model.keys import key_part
from include.model.nested import Shape, filled
from include.model.timeutil import MINUTE_SECONDS, utc_iso_converter

Row = Callable[[dict], tuple]


def _is_ref(spec: Any) -> bool:
    return isinstance(spec, dict) and len(spec) == 1 and isinstance(spec.get("ref"), list | tuple)


def _is_kind(spec: Any, kind: str) -> bool:
    return isinstance(spec, dict) and len(spec) == 1 and isinstance(spec.get(kind), str)


class _Generator:
    """Emits the lines of ``_row`` and the names it needs (``ns``)."""

    def __init__(self, m: EntityMapping, tz: ZoneInfo) -> None:
        self.m, self.tz = m, tz
        self.lines = ["def _row(r):", "    _get = r.get"]
        self.counter: Iterator[int] = count()
        self.loaded: dict[str, str] = {}  # source path -> local holding its value
        self.parts: dict[str, str] = {}  # source path -> local holding its key part
        self.times: dict[str, str] = {}  # source path -> local holding its UTC time
        # paths referenced from several records share parts (memo); a path only in the key doesn't
        self.cached_paths = {
            p
            for spec in (*m.fields.values(), m.created, m.updated, m.deleted)
            if _is_ref(spec)
            for p in spec["ref"]
        }
        self.ns: dict[str, Any] = {"MappingError": MappingError, "_kp": key_part}
        self._memo_key_parts()
        conv = utc_iso_converter(tz)
        self.ns["_tc"], self.ns["_th"], self.ns["_tconv"] = conv.cache, conv.hours, conv  # type: ignore[attr-defined]
        self.ns["_ms"] = MINUTE_SECONDS

    def _memo_key_parts(self) -> None:
        kp_cache: dict[Any, str] = {}

        def kp_cached(x: Any) -> str | None:
            v = key_part(x)
            if v is not None and x.__class__ is str:
                if len(kp_cache) >= 1 << 16:
                    kp_cache.clear()
                kp_cache[x] = v
            return v

        self.ns["_kc"], self.ns["_kpc"] = kp_cache, kp_cached

    def local(self, prefix: str) -> str:
        return f"{prefix}{next(self.counter)}"

    def emit(self, line: str) -> None:
        self.lines.append(line)

    def opaque(self, call: str) -> None:
        """``v = call``: a call that gets the record; values read before it are read again."""
        self.emit(f"    v = {call}")
        self.loaded.clear()
        self.parts.clear()
        self.times.clear()

    def load(self, path: str) -> str:
        var = self.loaded.get(path)
        if var is None:
            var = self.loaded[path] = self.local("a")
            if "." not in path:
                self.emit(f"    {var} = _get({path!r})")
            else:
                name = self.local("g")
                self.ns[name] = _getter(path)
                self.emit(f"    {var} = {name}(r)")
        return var

    def custom(self, path: str) -> str:
        """A custom field's value; a dotted path goes through lists too (`spec.custom_getter`)."""
        if "." not in path:
            return self.load(path)
        name = self.local("c")
        self.ns[name] = custom_getter(path)
        var = self.local("a")
        self.emit(f"    {var} = {name}(r)")
        return var

    def part(self, path: str) -> str:
        """A local holding the escaped key part at ``path`` (None when missing or blank)."""
        var = self.parts.get(path)
        if var is None:
            x = self.load(path)
            var = self.parts[path] = self.local("k")
            if path in self.cached_paths:
                self.emit(f"    {var} = _kc.get({x}) if {x}.__class__ is str else None")
                self.emit(f"    if {var} is None and {x} is not None: {var} = _kpc({x})")
            else:
                self.emit(f"    {var} = None if {x} is None else _kp({x})")
        return var

    def key_expr(self, paths: Any) -> str:
        names = [self.part(p) for p in paths]
        if not names:
            return "None"
        if len(names) == 1:
            return names[0]
        cond = " and ".join(f"{n} is not None" for n in names)
        joined = ":".join(f"{{{n}}}" for n in names)
        return f"f'{joined}' if {cond} else None"

    def ts_expr(self, name: str, path: str) -> str:
        var = self.times.get(path)
        if var is not None:
            return var
        x = self.load(path)
        var = self.times[path] = self.local("t")
        error = name + ": not a date/time: "
        self.lines += [
            f"    {var} = None",
            f"    if {x}.__class__ is str:",
            f"        ms = {x}[13:19]",
            "        if ms in _ms:",
            f"            {var} = _th.get({x}[:13] + {x}[19:])",
            f"            if {var} is not None: {var} = f'{{{var}}}{{ms}}Z'",
            f"        if {var} is None: {var} = _tc.get({x})",
            f"    if {var} is None and {x} is not None and {x} != '':",
            "        try:",
            f"            {var} = _tconv({x})",
            "        except ValueError:",
            f"            raise MappingError({error!r} + repr({x})) from None",
        ]
        return var

    def value(self, name: str, spec: Any, fn: Mapper) -> str:
        """An expression for the field's value (after emitting what it needs)."""
        if isinstance(spec, str):
            return self.load(spec)
        if _is_kind(spec, "ts"):
            return self.ts_expr(name, spec["ts"])
        if _is_ref(spec):
            return self.key_expr(spec["ref"])
        if _is_kind(spec, "str"):
            x = self.load(spec["str"])
            return (
                f"None if {x} is None or {x} == '' else ({x} if {x}.__class__ is str else str({x}))"
            )
        fname = self.local("f")
        self.ns[fname] = fn
        if _reads_only(spec):
            self.emit(f"    v = {fname}(r)")
        else:
            self.opaque(f"{fname}(r)")
        return "v"


def generate_row(
    m: EntityMapping,
    tz: ZoneInfo,
    fields: list[tuple[str, Mapper]],
    custom_fields: Mapping[str, str],
    updated_spec: Any,
    version: Mapper | None,
    defaults: Mapping[str, Any] | None = None,
    status_categories: Mapping[str, str] | None = None,
    nested: Mapping[str, Shape] | None = None,
) -> tuple[Row, str]:
    """The generated ``_row`` function and its source text. ``fields``: each unified field's name
    and spec function; ``updated_spec``: the spec of ``updatedAt`` (explicit or derived from the
    version); ``version``: the version's function (called unless the version is ``updatedAt``);
    ``defaults``: every field of the entity's model with its empty value (None, [] or {}), which
    each record starts from, so none omits a field; ``status_categories``: raw ``status`` ->
    ``statusCategory`` (None for a status not in it), set after the fields; ``nested``: the
    fields whose objects (or list items) Makini declares field by field (`include.model.nested`),
    each filled with the sub-fields it lacks."""
    g = _Generator(m, tz)
    g.emit(f"    key = {g.key_expr(m.key)}")
    g.emit("    if key is None:")
    g.emit(
        f"        raise MappingError({'key: natural key (' + ', '.join(m.key) + ') is missing'!r})"
    )
    start = "".join(f", {n!r}: {_literal(v)}" for n, v in (defaults or {}).items())
    g.emit(f"    d = {{'key': key{start}}}")
    for name, fn in fields:
        expr = g.value(name, m.fields[name], fn)
        if not expr.isidentifier():
            g.emit(f"    v = {expr}")
            expr = "v"
        g.emit(f"    if {expr} is not None: d[{name!r}] = {expr}")
    for name, shape in (nested or {}).items():
        if name in m.fields:
            g.ns[f"_shape_{name}"] = shape
            g.ns["_filled"] = filled
            g.emit(f"    v = d[{name!r}]")
            g.emit(f"    if v: d[{name!r}] = _filled(v, _shape_{name})")
    custom = ", ".join(f"{n!r}: {g.custom(p)}" for n, p in custom_fields.items())
    g.emit(f"    d['customFields'] = {{{custom}}}")
    extra = ((m.created, "createdAt"), (updated_spec, "updatedAt"), (m.deleted, "deletedAt"))
    for spec, name in extra:
        if spec:
            g.emit(f"    d[{name!r}] = {g.value(name, spec, _compile_spec(name, spec, tz))}")
    if status_categories is not None and "statusCategory" not in m.fields:
        g.ns["_sc"] = dict(status_categories)
        g.emit("    v = d.get('status')")
        g.emit("    d['statusCategory'] = _sc.get(v) if v.__class__ is str else None")
    _emit_version_and_id(g, m, version)
    code = "\n".join(g.lines)
    exec(compile(code, f"<mapping {m.key}>", "exec"), g.ns)  # noqa: S102
    return g.ns["_row"], code


def _literal(value: Any) -> str:
    """Source text of an empty default (a fresh list or dict per record)."""
    if value is None or value == [] or value == {}:
        return repr(value)
    raise ValueError(f"record defaults are None, [] or {{}}, not {value!r}")


def _emit_version_and_id(g: _Generator, m: EntityMapping, version: Mapper | None) -> None:
    if m.version is None:
        g.emit("    ver = None")
    elif m.version_is_time and not m.updated:  # the version is updatedAt
        g.emit("    ver = d['updatedAt']")
    else:
        g.ns["_version"] = version
        g.emit("    ver = _version(r)")
    if m.remote_id:
        g.emit(f"    rid = {g.load(m.remote_id)}")
        g.emit("    if rid is not None and rid.__class__ is not str: rid = str(rid)")
    else:
        g.emit("    rid = None")
    g.emit("    return key, rid, ver, d")
