"""One real Tryton server per test session, seeded once and cached as a template.

Cache: ``$MILLWRIGHT_TRYTON_CACHE`` (default ``~/.cache/millwright/tryton``). The first run on a
machine builds the database with trytond-admin and seeds it (minutes on a busy 2-core box); later
runs copy the cached file and start in seconds. Parts seeded: ``$MILLWRIGHT_TRYTON_TEST_PARTS``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connectors.base import SourceSettings
from connectors.tryton import CONNECTOR, TrytonConnector
from connectors.tryton.client import TrytonRpc
from connectors.tryton.server import TrytonHandle, start_tryton

PARTS = int(os.environ.get("MILLWRIGHT_TRYTON_TEST_PARTS", "1000"))


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "millwright" / "tryton"
    return Path(os.environ.get("MILLWRIGHT_TRYTON_CACHE", default))


@pytest.fixture(scope="session")
def tryton() -> Iterator[TrytonHandle]:
    directory = cache_dir()
    db = f"test_{os.getpid()}"
    t0 = time.perf_counter()
    # max_attempt=2: the 429 test reaches the limit without Tryton's growing login delays.
    handle = start_tryton(directory, db, parts=PARTS, fresh=True, max_attempt=2)
    handle.timings["total"] = time.perf_counter() - t0
    print(f"\ntryton test server {handle.url}: {handle.timings}")
    try:
        yield handle
    finally:
        handle.stop(drop=True)


def settings_for(handle: TrytonHandle, **kw) -> SourceSettings:
    values = {
        "connection_id": "tryton-test",
        "host": handle.url,
        "credentials": {"user": handle.user, "password": handle.password},
        "timezone": ZoneInfo("UTC"),
        "page_size": 500,
        "options": {"database": handle.db},
        "max_retries": 2,
    }
    values.update(kw)
    return SourceSettings(**values)


@pytest.fixture
def connector(tryton: TrytonHandle) -> Iterator[TrytonConnector]:
    with CONNECTOR(settings_for(tryton)) as conn:
        yield conn


@pytest.fixture
def rpc(tryton: TrytonHandle) -> Iterator[TrytonRpc]:
    """A raw JSON-RPC session with the company in its context."""
    client = TrytonRpc(tryton.url, tryton.db, tryton.user, tryton.password)
    company = client.search_read("company.company", [], ["id"], limit=1)[0]["id"]
    client.context.update({"company": company, "active_test": False})
    yield client
    client.close()
