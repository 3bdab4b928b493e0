"""Shared helpers for the MaintainX tests."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from connectors.base import SourceSettings
from connectors.maintainx import CONNECTOR
from connectors.maintainx.sandbox import DEFAULT_API_KEY


def connector(
    url: str, key: str = DEFAULT_API_KEY, page_size: int = 200, retries: int = 5, **options
):
    settings = SourceSettings(
        "mx-test", url, {"api_key": key}, ZoneInfo("UTC"), page_size=page_size,
        options=options, timeout=5.0, max_retries=retries,
    )  # fmt: skip
    return CONNECTOR(settings)
