"""Records to serve instead of generated ones: ``--data OS=FILE`` (repeatable) or the older ``--data FILE``.

A FILE named with its object structure (``--data mxapiwodetail=wo.json``) holds either a plain JSON list
of records or a response captured from Maximo's JSON API: lean (``{"member": [...], "href": ...,
"responseInfo": {...}}``) or namespaced (``{"rdfs:member": [...]}`` with ``spi:`` names). Naming a
structure twice adds the records of each file (pages of one capture). A FILE without a name holds one
JSON object ``{"MXAPIWODETAIL": <list or captured response>, ...}``.

Captured records keep their attributes, ``<attr>_description`` values, ``_rowstamp`` (which must be a
string of digits, as Maximo sends it) and child collections; what points back at the server they came
from (``href``, ``localref``, ``*_collectionref``, ``{"href"}`` links such as ``doclinks``) is dropped: the
sandbox makes its own ``href``.
Every problem is a `ValueError` naming the file, the record and what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from connectors.maximo.sandbox.data import ObjectStructure

Record = dict[str, Any]
DataArg = Mapping[str, Any] | str | Path | Sequence[str] | None
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SERVER_LINKS = ("href", "localref")


@dataclass(frozen=True)
class Source:
    """Where a list of records came from (for error messages)."""

    structure: str
    origin: str  # "FILE" or "FILE: MXAPIASSET"


def split_arg(arg: str) -> tuple[str | None, Path]:
    """``"mxapiasset=assets.json"`` -> ("MXAPIASSET", path); ``"all.json"`` -> (None, path)."""
    name, sep, path = arg.partition("=")
    if sep and _NAME.match(name):
        return name.upper(), Path(path)
    return None, Path(arg)


def _read(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ValueError(f"--data {path}: cannot read it ({exc.strerror})") from None
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"--data {path}: not JSON ({exc})") from None


def _denamespace(value: Any) -> Any:
    """Non-lean JSON (``spi:wonum``, ``rdf:about``) -> lean names."""
    if isinstance(value, list):
        return [_denamespace(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for k, v in value.items():
        if k == "rdf:about":
            k = "href"
        elif ":" in k:
            k = k.split(":", 1)[1]
        out[k] = _denamespace(v)
    return out


def members(content: Any, origin: str) -> list[Record]:
    """The records of a plain list or of a captured response (lean or namespaced)."""
    if isinstance(content, dict) and "rdfs:member" in content:
        content = {"member": _denamespace(content["rdfs:member"])}
    if isinstance(content, dict):
        if "member" not in content:
            raise ValueError(f"--data {origin}: a JSON object must be a captured response with "
                             f'"member" (found keys {", ".join(sorted(content)[:5])})')  # fmt: skip
        content = content["member"]
    if not isinstance(content, list):
        raise ValueError(f"--data {origin}: expected a list of records or a captured response")
    for n, rec in enumerate(content, 1):
        if not isinstance(rec, dict):
            raise ValueError(f"--data {origin}: record {n} is not a JSON object")
    return [_clean(rec, f"{origin}: record {n}") for n, rec in enumerate(content, 1)]


def _clean(rec: Record, where: str) -> Record:
    """Attribute names lower-cased, server links dropped, ``_rowstamp`` checked (children too)."""
    out: Record = {}
    for k, v in rec.items():
        k = k.lower()
        if k in _SERVER_LINKS or k.endswith("_collectionref"):
            continue
        if isinstance(v, dict) and set(v) <= {"href"}:  # a deferred link such as doclinks
            continue
        if k == "_rowstamp":
            v = rowstamp(v, where)
        elif isinstance(v, list) and v and all(isinstance(c, dict) for c in v):
            v = [_clean(c, f"{where}, {k}[{i}]") for i, c in enumerate(v)]
        out[k] = v
    return out


def rowstamp(value: Any, where: str) -> str:
    """A kept ``_rowstamp``: a string of digits (an integer is accepted and rendered as one)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return value
    raise ValueError(f"--data {where}: _rowstamp {value!r} is not a string of digits")


def _check_name(name: str, origin: str, known: Mapping[str, Any]) -> None:
    if name not in known:
        raise ValueError(f"--data {origin}: unknown object structure {name}; "
                         f"known: {', '.join(known)}")  # fmt: skip


def _sources(data: DataArg, known: Mapping[str, Any]) -> Iterable[tuple[Source, Any]]:
    """(source, content) for each structure named in ``data``, files read."""
    if data is None:
        return
    if isinstance(data, Mapping):
        for name, content in data.items():
            yield Source(name.upper(), f"data[{name!r}]"), content
        return
    args = [data] if isinstance(data, str | Path) else list(data)
    for arg in args:
        name, path = split_arg(str(arg))
        if name is not None:
            _check_name(name, str(arg), known)
        content = _read(path)
        if name is not None:
            yield Source(name, f"{path}"), content
            continue
        if isinstance(content, dict) and ("member" in content or "rdfs:member" in content):
            raise ValueError(f"--data {path}: holds a captured response; name its object "
                             f"structure: --data mxapiwodetail={path}")  # fmt: skip
        if not isinstance(content, dict):
            raise ValueError(f"--data {path}: without OS= it must hold a JSON object "
                             "{object structure: records}; or use --data OS=FILE")  # fmt: skip
        for key, value in content.items():
            yield Source(key.upper(), f"{path}: {key}"), value


def load(
    data: DataArg, structures: Mapping[str, ObjectStructure]
) -> dict[str, list[Record]] | None:
    """Records per object structure from ``data`` (None: serve generated records)."""
    if data is None:
        return None
    out: dict[str, list[Record]] = {}
    seen: dict[str, dict[tuple, str]] = {}
    for source, content in _sources(data, structures):
        _check_name(source.structure, source.origin, structures)
        os = structures[source.structure]
        keys = seen.setdefault(os.name, {})
        for n, rec in enumerate(members(content, source.origin), 1):
            where = f"{source.origin}: record {n}"
            missing = [a for a in os.key if rec.get(a) in (None, "")]
            if missing:
                raise ValueError(f"--data {where}: lacks the key attribute(s) {', '.join(missing)} "
                                 f"of {os.name}")  # fmt: skip
            key = tuple(str(rec[a]) for a in os.key)
            if key in keys:
                raise ValueError(f"--data {where}: {os.name} key {key} repeats {keys[key]}")
            keys[key] = where
            out.setdefault(os.name, []).append(rec)
    return out


def child_collections(records: Iterable[Record]) -> tuple[str, ...]:
    """Attributes holding lists of objects in ``records`` (child collections, in first-seen order)."""
    names: dict[str, None] = {}
    for rec in records:
        for k, v in rec.items():
            if isinstance(v, list) and v and all(isinstance(c, dict) for c in v):
                names[k] = None
    return tuple(names)
