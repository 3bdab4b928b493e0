"""Reads of the store for the API (the store runs them: include/store/read.py); a read that
needs more than its budget of database time is the API's 503."""

from __future__ import annotations

from include.api.deadline import as_http
from include.store import Store
from include.store.query import ListQuery
from include.store.read import Page, item_json, stored_counts  # noqa: F401  (old import path)
from include.store.read import custom_field_names as _custom_field_names
from include.store.read import get_one as _get_one
from include.store.read import list_page as _list_page


def list_page(
    store: Store, connection_id: str, entity: str, q: ListQuery, *, timeout: float = 0
) -> Page:
    """One page of ``q`` (offset or keyset); its statements share ``timeout`` seconds (503)."""
    with as_http():
        return _list_page(store, connection_id, entity, q, timeout=timeout)


def get_one(
    store: Store,
    connection_id: str,
    entity: str,
    key: str,
    *,
    remote: bool,
    deleted: bool,
    timeout: float = 0,
) -> str | None:
    """One record's JSON text, or None (absent, another connection's, or deleted)."""
    with as_http():
        return _get_one(
            store, connection_id, entity, key, remote=remote, deleted=deleted, timeout=timeout
        )


def custom_field_names(
    store: Store, connection_id: str, entity: str, sample: int = 10_000, *, timeout: float = 0
) -> list[str]:
    """Custom field names seen in the ``sample`` most recently updated records."""
    with as_http():
        return _custom_field_names(store, connection_id, entity, sample, timeout=timeout)
