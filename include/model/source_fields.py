"""What a source offers for one entity: its fields as the source's own metadata describes them.

A connector's ``describe(entity)`` returns a tree of `SourceField` (Maximo's object-structure JSON
schema, SAP's ``$metadata``, MaintainX's custom-field definitions, Tryton's ``fields_get``...): an
attribute is a leaf, a child object or navigation property has ``children`` (``many`` when it is a
list). A custom field's source path is dotted through that tree (``crewid``,
``assignment.laborcode``, ``to_MaintenanceOrderOperation.OperationDescription``). The helpers
here check a path against the tree and name the closest fields when it is not there; they are pure
(the store caches the trees as JSON: `to_json` / `from_json`).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 3
CONTAINERS = frozenset(
    {"object", "navigation"}
)  # types whose field is no value of its own  # child objects of child objects of ... (paths longer than this are never valid)


@dataclass(frozen=True)
class SourceField:
    """One attribute (or child object / navigation property) of a source entity."""

    name: str  # the source's own name at this level (``crewid``, ``OperationDescription``)
    type: str  # the source's type name (``ALN``, ``Edm.String``, ``char``, ``object``...)
    label: str | None = None  # the source's label or title, where it has one
    children: tuple[SourceField, ...] = ()  # a child object's or navigation property's fields
    many: bool = False  # the child is a list (a path through it yields a list of values)
    custom: bool = False  # a tenant-defined attribute (Maximo's, SAP's YY1_, MaintainX's)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.label:
            out["label"] = self.label
        if self.children:
            out["children"] = [c.to_json() for c in self.children]
        if self.many:
            out["many"] = True
        if self.custom:
            out["custom"] = True
        return out

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> SourceField:
        return cls(
            name=str(d["name"]),
            type=str(d.get("type") or ""),
            label=d.get("label"),
            children=tuple(cls.from_json(c) for c in d.get("children") or ()),
            many=bool(d.get("many")),
            custom=bool(d.get("custom")),
        )


@dataclass(frozen=True)
class FlatField:
    """A `SourceField` at its full dotted path (what discovery lists)."""

    path: str
    field: SourceField
    many: bool = False  # some step of the path is a list

    @property
    def is_object(self) -> bool:
        return is_container(self.field)


@dataclass(frozen=True)
class UnknownPath:
    """A configured custom field whose source path the source's metadata does not have."""

    entity: str
    name: str  # the unified (customFields) name
    path: str
    closest: tuple[str, ...] = field(default_factory=tuple)

    def message(self, system: str = "") -> str:
        where = f"{system} {self.entity}" if system else self.entity
        hint = f"; closest: {', '.join(self.closest)}" if self.closest else ""
        return (
            f"custom_fields.{self.entity}.{self.name}: {self.path!r} is not a field of "
            f"{where}{hint}"
        )


def is_container(f: SourceField) -> bool:
    """A child object, a navigation property or a list of records: its fields are values, it
    is not (a many2one with its target's fields is a value: the id)."""
    return bool(f.children) and (f.many or f.type in CONTAINERS)


def flatten(fields: Iterable[SourceField], prefix: str = "", many: bool = False,
            depth: int = 0) -> Iterator[FlatField]:  # fmt: skip
    """Every field at its dotted path, children after their parent."""
    for f in fields:
        path = f"{prefix}{f.name}"
        yield FlatField(path, f, many)
        if f.children and depth + 1 < MAX_DEPTH:
            yield from flatten(f.children, f"{path}.", many or f.many, depth + 1)


def find(fields: Sequence[SourceField], path: str) -> SourceField | None:
    """The field at a dotted path (names compared as the source spells them), or None."""
    level: Sequence[SourceField] = fields
    found: SourceField | None = None
    for part in path.split("."):
        found = next((f for f in level if f.name == part), None)
        if found is None:
            return None
        level = found.children
    return found


def closest(fields: Sequence[SourceField], path: str, n: int = 5) -> tuple[str, ...]:
    """The ``n`` paths most like ``path`` (case-insensitive), best first."""
    paths = [f.path for f in flatten(fields) if not f.is_object]
    lower = {p.lower(): p for p in paths}
    hits = difflib.get_close_matches(path.lower(), list(lower), n=n, cutoff=0.5)
    if not hits:  # a wrong parent: suggest the leaves under the closest part
        last = path.rsplit(".", 1)[-1].lower()
        by_leaf = {p.rsplit(".", 1)[-1].lower(): p for p in paths}
        hits = [by_leaf[h].lower() for h in difflib.get_close_matches(last, list(by_leaf), n=n)]
    return tuple(lower[h] for h in hits)


def unknown_paths(
    entity: str, custom_fields: Mapping[str, str], fields: Sequence[SourceField]
) -> list[UnknownPath]:
    """The custom fields of ``entity`` whose path the metadata does not have (a child object
    itself is not a value: its attributes are)."""
    out = []
    for name, path in custom_fields.items():
        f = find(fields, path)
        if f is None or is_container(f):
            out.append(UnknownPath(entity, name, path, closest(fields, path)))
    return out


def fingerprint(custom_fields: Mapping[str, Mapping[str, str]]) -> str:
    """A stable digest of custom-field settings (``{entity: {name: path}}``): what the stored
    records of an entity were mapped with."""
    text = json.dumps(custom_fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def dumps(fields: Sequence[SourceField]) -> str:
    return json.dumps([f.to_json() for f in fields], separators=(",", ":"))


def loads(text: str) -> list[SourceField]:
    return [SourceField.from_json(d) for d in json.loads(text)]
