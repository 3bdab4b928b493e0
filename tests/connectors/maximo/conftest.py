"""Fixtures: Maximo sandboxes in background threads on free ports, and connectors for them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors.base import SourceSettings
from connectors.maximo import CONNECTOR
from connectors.maximo.sandbox import DEFAULT_API_KEY, SandboxHandle, start_sandbox

NY = ZoneInfo("America/New_York")


@pytest.fixture
def sandbox() -> Iterator[Callable[..., tuple[str, SandboxHandle]]]:
    """``sandbox(**options)`` starts one; all are stopped after the test."""
    handles: list[SandboxHandle] = []

    def start(**kwargs: Any) -> tuple[str, SandboxHandle]:
        url, handle = start_sandbox(**kwargs)
        handles.append(handle)
        return url, handle

    yield start
    for h in handles:
        h.stop()


def connector(url: str, *, apikey: str = DEFAULT_API_KEY, page_size: int = 100,
              max_retries: int = 5, **options: Any) -> CONNECTOR:  # fmt: skip
    options.setdefault("retry_base_delay", 0.001)
    return CONNECTOR(
        SourceSettings(
            "test",
            url,
            {"apikey": apikey},
            NY,
            page_size=page_size,
            options=options,
            timeout=10,
            max_retries=max_retries,
        )  # fmt: skip
    )


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[str, SandboxHandle]]:
    """One read-only sandbox (600 work orders) for tests that do not change records."""
    url, handle = start_sandbox(size=600, seed=7)
    yield url, handle
    handle.stop()
