"""Fixtures for the webhook tests: a store on each backend, the receiver served by a real uvicorn
server (a thread, or a child process for the kill -9 test), and MaintainX's sandbox."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from include.api.app import create_app
from include.api.server import server_config
from include.api.webhooks import WebhookSource
from include.store import Store

SECRET = "a" * 64  # MaintainX-style hex secret


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = (
        f"sqlite:///{tmp_path / 'store.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    s = Store(url)
    s.migrate()
    yield s
    s.close()


def static_sources(sources: dict[str, WebhookSource]):  # noqa: ANN201
    return sources.get


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThreadServer:
    """The API app in a uvicorn server on a free port, in a thread."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.port = free_port()
        self.server = uvicorn.Server(
            server_config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the receiver did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def receiver_app(store: Store, sources: dict[str, WebhookSource]):  # noqa: ANN201
    return create_app(store, webhook_sources=static_sources(sources), migrate=False)
