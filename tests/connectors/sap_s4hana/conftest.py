"""Fixtures: sandboxes on free ports (always stopped) and the reference directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connectors.base import SourceSettings
from connectors.sap_s4hana import CONNECTOR
from connectors.sap_s4hana.sandbox import SandboxHandle, start

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def reference_sap() -> Path:
    root = Path(os.environ.get("MILLWRIGHT_REFERENCE_DIR", REPO / ".." / "shared" / "reference"))
    sap = root / "sap"
    if not sap.is_dir():
        pytest.skip(f"SAP reference specs not found at {sap} (set MILLWRIGHT_REFERENCE_DIR)")
    return sap


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[str, SandboxHandle]]:
    url, handle = start(size=3000, seed=1, server_page_size=200)
    try:
        yield url, handle
    finally:
        handle.stop()


def settings(url: str, tz: str = "UTC", user: str = "demo", password: str = "demo",
             retries: int = 4) -> SourceSettings:  # fmt: skip
    return SourceSettings(
        connection_id="sap-test",
        host=url,
        credentials={"user": user, "password": password},
        timezone=ZoneInfo(tz),
        options={"retry_base_delay": 0.01, "retry_max_sleep": 1.0},
        max_retries=retries,
        timeout=10.0,
    )


def connector(url: str, **kw) -> CONNECTOR:
    return CONNECTOR(settings(url, **kw))
