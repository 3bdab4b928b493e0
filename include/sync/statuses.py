"""The source's own status lists."""

from __future__ import annotations

import logging

from connectors.base import Connector
from include.config import ConnectionConfig
from include.model import STATUS_CATEGORIES
from include.store import Store

log = logging.getLogger(__name__)


def refresh_statuses(store: Store, cfg: ConnectionConfig, connector: Connector) -> list[str]:
    """Store the source's own status lists where it has them; return the entities refreshed."""
    done = []
    for entity in (*STATUS_CATEGORIES, "production-orders"):
        if entity in type(connector).entities:
            rows = connector.statuses(entity)
            if rows:
                store.upsert_statuses(cfg.id, entity, rows)
                done.append(entity)
    return done
