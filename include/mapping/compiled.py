"""`CompiledMapping`: an `EntityMapping` compiled for one connection into ONE generated,
straight-line function per entity (`include.mapping.codegen`), the mapping engine of every sync.

Specs the generator does not inline (``first``, ``refs``, ``map``, ``latest``, coercions, ``fn``)
are called as the spec functions of `include.mapping.spec` from inside the generated code: those
are building blocks of the one engine, not a second engine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from include.mapping.codegen import generate_row
from include.mapping.spec import (
    EntityMapping,
    MappedRecord,
    _getter,
    _value_kind,
    compile_spec,
)
from include.model import record_defaults
from include.model.keys import make_key
from include.model.nested import nested_fields


def _time_spec(mapping: EntityMapping, path: str) -> dict[str, str]:
    """The spec of a time at ``path`` written as the mapping's ``time_unit`` says."""
    if mapping.time_unit == "epoch_s":
        return {"epoch_s": path}
    if mapping.time_unit != "auto":
        raise TypeError(f"time_unit must be 'auto' or 'epoch_s', got {mapping.time_unit!r}")
    return {"ts": path}


class CompiledMapping:
    """An `EntityMapping` compiled for one connection (time zone + custom fields)."""

    def __init__(
        self,
        mapping: EntityMapping,
        tz: ZoneInfo,
        custom_fields: Mapping[str, str] | None = None,
        child_custom_fields: Mapping[str, Mapping[str, str]] | None = None,
        entity: str | None = None,
        status_categories: Mapping[str, str] | None = None,
    ) -> None:
        """``entity``: the unified entity the records are (their model's fields all appear in
        every record, empty when the source has no value: `include.model.record_defaults`);
        ``status_categories``: raw status -> ``statusCategory`` for entities that carry one."""
        self.mapping = mapping
        self._key = [_getter(p) for p in mapping.key]
        self._remote_id = _getter(mapping.remote_id) if mapping.remote_id else None
        self._fields = [(n, compile_spec(n, s, tz)) for n, s in mapping.fields.items()]
        self._custom_fields = dict(custom_fields or {})
        version = mapping.version
        if version is None:
            self._version = None
        elif mapping.version_is_time:
            self._version = compile_spec("version", _time_spec(mapping, version), tz)
        else:
            vget = _getter(version)
            self._version = lambda r: None if vget(r) is None else f"{int(vget(r)):020d}"
        updated = mapping.updated or (
            (
                {"latest": [version, *mapping.changed_with], "unit": mapping.time_unit}
                if mapping.changed_with
                else _time_spec(mapping, version)
            )
            if version and mapping.version_is_time
            else None
        )
        self._updated_spec = updated
        ccf = child_custom_fields or {}
        self.children = {
            child: (
                _getter(path),
                CompiledMapping(cm, tz, ccf.get(child), entity=child if entity else None),
            )
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
        defaults = record_defaults(entity) if entity else {}
        if status_categories is not None and "statusCategory" not in defaults:
            raise ValueError(f"{entity}: records of this entity carry no statusCategory")
        self.emitted = frozenset({"key", "customFields", *specs, *defaults})
        kinds = {n: _value_kind(spec) for n, spec in specs.items()}
        if all(isinstance(n, str) for n in self._custom_fields):
            kinds["customFields"] = "dict"
        if status_categories is not None and "statusCategory" not in specs:
            kinds["statusCategory"] = "str"
        self.value_types = {n: k for n, k in kinds.items() if k is not None}
        # fields no spec fills: they always hold their model default (None, [] or {})
        self.defaulted = frozenset(defaults) - set(specs) - set(kinds) - {"customFields"}
        self._row, self._code = generate_row(
            mapping,
            tz,
            self._fields,
            self._custom_fields,
            updated,
            self._version,
            defaults,
            status_categories,
            nested_fields(entity),
        )

    def key_of(self, raw: dict) -> str | None:
        return make_key([g(raw) for g in self._key])

    def row(self, raw: dict) -> tuple[str, str | None, str | None, dict[str, Any]]:
        """``(key, remote_id, version, data)``: the pipeline's hot path; raises MappingError."""
        return self._row(raw)

    def __call__(self, raw: dict) -> MappedRecord:
        return MappedRecord(*self._row(raw))
