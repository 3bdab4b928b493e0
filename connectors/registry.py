"""Find a connector by system name: the folder ``connectors/<system>`` exposes ``CONNECTOR``."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from connectors.base import Connector

_ROOT = Path(__file__).parent


def systems() -> list[str]:
    """Names of every connector folder (a package with a mapping table; ``kit`` is the toolkit)."""
    return sorted(
        m.name
        for m in pkgutil.iter_modules([str(_ROOT)])
        if m.ispkg and (_ROOT / m.name / "mapping.py").exists()
    )


def get_connector(system: str) -> type[Connector]:
    if system not in systems():
        raise KeyError(f"unknown system {system!r}; available: {', '.join(systems())}")
    module = importlib.import_module(f"connectors.{system}")
    return module.CONNECTOR
