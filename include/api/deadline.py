"""A per-request budget of database time (``MILLWRIGHT_API_STATEMENT_TIMEOUT`` seconds; 0 = no
limit). The store enforces it (include/store/deadline.py: PostgreSQL ``statement_timeout``, a
SQLite progress handler) and raises `StoreTimeout`; the API answers 503 in its error shape."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from include.api.errors import ApiError
from include.store.deadline import SQLITE_CHECK_EVERY, StoreTimeout  # noqa: F401


def timeout_error(seconds: float) -> ApiError:
    message = (
        f"the request needed more than {seconds:g} s of database time "
        "(MILLWRIGHT_API_STATEMENT_TIMEOUT): use fewer or narrower filters, or cursor paging"
    )
    return ApiError(503, message, {"request": [message]})


@contextmanager
def as_http() -> Iterator[None]:
    """The store's `StoreTimeout` inside the block becomes the API's 503."""
    try:
        yield
    except StoreTimeout as exc:
        raise timeout_error(exc.seconds) from None
