"""Reconciliation: soft-delete stored records a complete read no longer lists."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from connectors.base import Connector
from include.config import ConnectionConfig
from include.model import CHILD_ENTITIES
from include.model.timeutil import format_utc, utcnow
from include.store import Store
from include.sync.common import StagingPath, iter_lines
from include.sync.mapper import compile_mapping

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- reconcile


def child_entities(entity: str) -> tuple[str, ...]:
    """The child entities whose rows follow ``entity``'s records (soft-deleted with them)."""
    return tuple(c for c, (parent, _, _) in CHILD_ENTITIES.items() if parent == entity)


def reconcile_from_pages(
    store: Store,
    cfg: ConnectionConfig,
    entity: str,
    extracted: dict,
    path_factory: Callable[[str], StagingPath],
    deleted_at: str,
) -> int:
    """After a complete full read: soft-delete stored records whose keys were not in it."""
    if extracted.get("keys_path"):  # written by map_pages: no second decode of every page

        def batches() -> Iterator[list[str]]:
            yield from iter_lines(path_factory(extracted["keys_path"]))

        return store.reconcile(
            cfg.id, entity, batches(), deleted_at=deleted_at, children=child_entities(entity)
        )

    from connectors.registry import get_connector

    cm = compile_mapping(get_connector(cfg.system), cfg, entity)

    def batches() -> Iterator[list[str]]:
        for page in iter_lines(path_factory(extracted["path"])):
            yield [k for k in map(cm.key_of, page) if k]

    return store.reconcile(
        cfg.id, entity, batches(), deleted_at=deleted_at, children=child_entities(entity)
    )


def reconcile_from_source(
    store: Store, cfg: ConnectionConfig, connector: Connector, entity: str
) -> int:
    """List every key the source has now and soft-delete stored records that vanished."""
    cm = compile_mapping(type(connector), cfg, entity)

    def batches() -> Iterator[list[str]]:
        for page in connector.read_keys(entity):
            yield [k for k in map(cm.key_of, page) if k]

    deleted = store.reconcile(
        cfg.id, entity, batches(), deleted_at=format_utc(utcnow()),
        children=child_entities(entity),
    )  # fmt: skip
    log.info("reconcile %s: %d records soft-deleted (vanished from the source)", entity, deleted)
    return deleted
