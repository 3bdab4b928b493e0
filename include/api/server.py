"""The standalone server's uvicorn configuration (``python -m include.cli.serve``).

uvicorn's default HTTP parser (httptools) refuses a URL over 64 KiB with a plain-text 400 and
closes the connection, before the app can answer. The server runs h11 instead, reading request
heads up to ``MILLWRIGHT_API_MAX_HEAD_BYTES`` (1 MiB), so that an oversized query reaches the
app and gets its JSON 400 on a kept-alive connection; what h11 itself refuses (a larger or
malformed head) is answered in the same JSON error shape. The access log escapes control
characters, so a percent-encoded NUL never reaches the log raw.
"""

from __future__ import annotations

import copy
import gc
import logging
import os
from typing import Any

import orjson
import uvicorn
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol

from include.api.errors import escaped
from include.api.settings import ApiSettings

GC_FREEZE_ENV = "MILLWRIGHT_API_GC_FREEZE"


def settle_heap() -> bool:
    """Once the app is built: collect, then move every object alive now (modules, routes,
    models, the SQLAlchemy metadata: hundreds of thousands) to the permanent generation
    (`gc.freeze`), so that the collector's full passes no longer walk them. Without it, a full
    pass every few thousand requests paused the event loop for 40-60 ms, which was the whole
    p99 of the webhook receiver (bench/webhooks_receiver.py: p99 62 ms -> 18 ms on PostgreSQL,
    docs/BENCHMARKS.md). Objects made later are collected as usual. ``MILLWRIGHT_API_GC_FREEZE=0``
    turns it off. Returns whether it froze."""
    raw = os.environ.get(GC_FREEZE_ENV, "1").strip().lower()
    if raw in ("0", "false", "no", "off"):
        return False
    if raw not in ("1", "true", "yes", "on"):
        raise ValueError(f"{GC_FREEZE_ENV} must be 1 or 0 (on or off), got {raw!r}")
    gc.collect()
    gc.freeze()
    return True


class JsonErrorH11Protocol(H11Protocol):
    """uvicorn's h11 protocol whose own 400 (unparseable or oversized request) is JSON."""

    def send_400_response(self, msg: str) -> None:
        body = orjson.dumps({"message": msg, "errors": {"request": [msg]}})
        head = (
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head + body)
        self.transport.close()


class EscapeControls(logging.Filter):
    """Writes control characters in a log record's arguments as ``\\xNN``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(escaped(a) if isinstance(a, str) else a for a in record.args)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with `EscapeControls` on its handlers (a dict, so that
    worker processes apply it too)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["escape_controls"] = {"()": EscapeControls}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("escape_controls")
    return config


def server_config(
    app: Any, *, host: str, port: int, settings: ApiSettings | None = None, **kw: Any
) -> uvicorn.Config:
    """uvicorn's Config for ``app`` (an app or an import string) with the API's HTTP limits."""
    settings = settings or ApiSettings.from_env()
    kw.setdefault("log_config", log_config())
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=JsonErrorH11Protocol,
        h11_max_incomplete_event_size=settings.max_head_bytes,
        **kw,
    )
