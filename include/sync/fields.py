"""Custom fields checked against the source: its metadata read and cached, configured paths
validated, what an entity offers listed (discovery), candidate fields tried on a few records
(preview). Connector-independent: each connector's ``describe(entity)`` reads its own metadata.

- `refresh`: ``describe`` the entities and cache the result in the store (`Store.save_source_fields`);
- `check`: the configured paths the metadata does not have (`UnknownPath`, with the closest fields);
- `ensure_known`: the first task's check, before any data is read (`UnknownCustomFields`);
- `discover`: every field of an entity, whether the default mapping or a custom field reads it;
- `preview`: the first records mapped with candidate custom fields, and each field's fill rate.

Nothing here writes records: discovery and preview save nothing but the metadata cache.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

import orjson

from connectors.base import Connector, SourceField, Window
from connectors.registry import get_connector
from include.config import ConnectionConfig
from include.model import CHILD_ENTITIES
from include.model.source_fields import (
    UnknownPath,
    find,
    flatten,
    unknown_paths,
)
from include.store import Store
from include.sync.mapper import compile_mapping, map_page

log = logging.getLogger(__name__)

PREVIEW_DEFAULT = 20
PREVIEW_MAX = 200
Source = Callable[[ConnectionConfig], AbstractContextManager[Connector]]


class UnknownCustomFields(ValueError):
    """Configured custom fields whose source paths the source does not have (not retried: the
    config must change)."""

    def __init__(self, connection_id: str, system: str, unknown: Sequence[UnknownPath]) -> None:
        self.connection_id, self.system, self.unknown = connection_id, system, list(unknown)
        super().__init__(
            f"connection {connection_id}: " + "; ".join(u.message(system) for u in unknown)
        )


class MetadataUnavailable(RuntimeError):
    """The source's metadata could not be read (the message says why)."""


class NotDescribed(MetadataUnavailable):
    """The connector does not describe its source's fields (``describe`` not implemented)."""


def describe_entity(connector: Connector, entity: str) -> list[SourceField]:
    """The source's fields of ``entity``; a child entity's are those of its parent's child list."""
    if entity in CHILD_ENTITIES:
        parent = CHILD_ENTITIES[entity][0]
        list_path = connector.entities[parent].mapping.children[entity][0]
        node = find(connector.describe(parent), list_path.removesuffix(".results"))
        return list(node.children) if node else []
    return connector.describe(entity)


def refresh(
    connector: Connector, store: Store, cfg: ConnectionConfig, entities: Sequence[str]
) -> dict[str, list[SourceField]]:
    """Read the source's metadata of ``entities`` and cache it; raises `MetadataUnavailable`."""
    out: dict[str, list[SourceField]] = {}
    for entity in dict.fromkeys(entities):
        try:
            out[entity] = describe_entity(connector, entity)
        except NotImplementedError as exc:
            raise NotDescribed(f"connection {cfg.id}: {exc}") from exc
        except Exception as exc:
            raise MetadataUnavailable(
                f"connection {cfg.id}: cannot read the source's metadata of {entity}: {exc}"
            ) from exc
    store.save_source_fields(cfg.id, cfg.system, out)
    log.info("cached the source's metadata of %s (%s)", cfg.id, ", ".join(out))
    return out


def check(
    custom_fields: Mapping[str, Mapping[str, str]], metadata: Mapping[str, Sequence[SourceField]]
) -> list[UnknownPath]:
    """Configured custom fields whose path the metadata does not have (entities without
    metadata are not checked)."""
    out: list[UnknownPath] = []
    for entity, cf in custom_fields.items():
        if cf and entity in metadata:
            out += unknown_paths(entity, cf, metadata[entity])
    return out


def check_cached(store: Store, cfg: ConnectionConfig) -> tuple[list[UnknownPath], list[str]]:
    """`check` against the store's cache: the unknown paths, and the entities with custom fields
    that have no cached metadata (not checked)."""
    wanted = [e for e, cf in cfg.custom_fields.items() if cf]
    cached = {e: f for e, (f, _) in store.source_fields(cfg.id, wanted).items()}
    return check(cfg.custom_fields, cached), [e for e in wanted if e not in cached]


def ensure_known(connector: Connector, store: Store, cfg: ConnectionConfig, entity: str) -> None:
    """Before an entity's run reads data: read and cache the source's metadata of the entity
    (and its children) when it has custom fields, and raise `UnknownCustomFields` when a path
    is not there."""
    cf = cfg.entity_custom_fields(entity)
    if not cf:
        return
    try:
        metadata = refresh(connector, store, cfg, list(cf))
    except NotDescribed as exc:  # a connector without describe(): its custom fields unchecked
        log.warning("%s; custom fields of %s not checked", exc, entity)
        return
    unknown = check(cf, metadata)
    if unknown:
        raise UnknownCustomFields(cfg.id, cfg.system, unknown)


def check_against(
    source: Source, store: Store, cfg: ConnectionConfig, entities: Sequence[str]
) -> tuple[list[UnknownPath], str | None]:
    """``cfg``'s custom fields of ``entities`` against the source's metadata, read now with
    ``source(cfg)`` (and cached), else the store's cache: the unknown paths, and why some could
    not be checked (None when all were)."""
    wanted = {e: cfg.custom_fields[e] for e in entities if cfg.custom_fields.get(e)}
    if not wanted:
        return [], None
    try:
        with source(cfg) as connector:
            return check(wanted, refresh(connector, store, cfg, list(wanted))), None
    except Exception as exc:  # no Airflow Connection, the source down: the cache may know
        cached = {e: f for e, (f, _) in store.source_fields(cfg.id, list(wanted)).items()}
        missing = [e for e in wanted if e not in cached]
        why = f"{', '.join(missing)} not checked: {exc}; nothing cached" if missing else None
        return check(wanted, cached), why


# ---------------------------------------------------------------- discovery


def spec_paths(spec: Any) -> set[str]:
    """The source paths a mapping spec reads (``fn`` specs: the paths are not known)."""
    if isinstance(spec, str):
        return {spec}
    if not isinstance(spec, dict):
        return set()
    out: set[str] = set()
    for kind, arg in spec.items():
        if kind in ("ts", "epoch_s", "float", "int", "bool", "str", "map") and isinstance(arg, str):
            out.add(arg)
        elif kind in ("ref", "latest") and isinstance(arg, list | tuple):
            out.update(a for a in arg if isinstance(a, str))
        elif kind == "refs" and isinstance(arg, str):
            out.update(f"{arg}.{p}" for p in spec.get("each", ()))
        elif kind == "first" and isinstance(arg, list | tuple):
            for s in arg:
                out |= spec_paths(s)
    return out


def mapped_where(cfg: ConnectionConfig, entity: str) -> dict[str, list[str]]:
    """``{source path: [unified fields reading it]}`` for the default mapping and the
    connection's custom fields (``customFields.<name>``)."""
    connector_cls = get_connector(cfg.system)
    if entity in CHILD_ENTITIES:
        parent = CHILD_ENTITIES[entity][0]
        mapping = connector_cls.entities[parent].mapping.children[entity][1]
    else:
        mapping = connector_cls.entities[entity].mapping
    where: dict[str, list[str]] = {}
    specs: dict[str, Any] = {**mapping.fields, "createdAt": mapping.created,
                             "updatedAt": mapping.updated, "deletedAt": mapping.deleted}  # fmt: skip
    for p in mapping.key:
        where.setdefault(p, []).append("key")
    if mapping.version and mapping.version_is_time and not mapping.updated:
        where.setdefault(mapping.version, []).append("updatedAt")
    for name, spec in specs.items():
        for p in sorted(spec_paths(spec)):
            where.setdefault(p, []).append(name)
    for name, p in cfg.custom_fields.get(entity, {}).items():
        where.setdefault(p, []).append(f"customFields.{name}")
    return where


def discover(fields: Sequence[SourceField], cfg: ConnectionConfig, entity: str) -> list[dict]:
    """Every field the source offers for ``entity`` at its dotted path: name, type, label,
    whether it is custom (tenant-defined), an object (a child object / navigation property,
    whose attributes are listed after it) or a list, and where it is mapped."""
    where = mapped_where(cfg, entity)
    out = []
    for f in flatten(fields):
        used = where.get(f.path, [])
        out.append({
            "name": f.path, "type": f.field.type, "label": f.field.label,
            "custom": f.field.custom, "object": f.is_object, "many": f.many or f.field.many,
            "mapped": bool(used), "mapped_to": used,
        })  # fmt: skip
    return out


# ---------------------------------------------------------------- preview


def preview(
    connector: Connector, cfg: ConnectionConfig, entity: str, limit: int = PREVIEW_DEFAULT
) -> dict[str, Any]:
    """The first ``limit`` records of ``entity`` (a full read's order) mapped with ``cfg``'s
    custom fields (the connector must have been built for ``cfg``, so it requests them), the
    records that failed mapping with their reason, and each custom field's fill rate (the share
    of previewed records where it has a value). Saves nothing."""
    if not 1 <= limit <= PREVIEW_MAX:
        raise ValueError(f"limit: must be 1..{PREVIEW_MAX}, got {limit}")
    cm = compile_mapping(type(connector), cfg, entity)
    records: list[dict] = []
    failed: list[dict] = []
    read = 0
    for page in connector.read(entity, Window()):
        page = page[: limit - read]
        read += len(page)
        result = map_page(entity, cm, page)
        records += [orjson.loads(r.data) for r in result.rows.get(entity, [])]
        failed += [{"key": q.remote_key, "reason": q.reason} for q in result.quarantine]
        if read >= limit:
            break
    names = list(cfg.custom_fields.get(entity, {}))
    filled = {n: sum(1 for r in records if _has_value((r.get("customFields") or {}).get(n)))
              for n in names}  # fmt: skip
    return {
        "entity": entity,
        "read": read,
        "data": records,
        "failed": failed,
        "fill_rates": {
            n: {
                "filled": filled[n],
                "of": len(records),
                "rate": round(filled[n] / len(records), 4) if records else None,
            }
            for n in names
        },  # fmt: skip
    }


def _has_value(v: Any) -> bool:
    return v not in (None, "", [], {})
