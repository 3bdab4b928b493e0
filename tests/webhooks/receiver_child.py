"""The receiver in a process of its own, for the kill -9 test:
``python -m tests.webhooks.receiver_child STORE_URL PORT SECRET`` (connection ``mx``, MaintainX)."""

from __future__ import annotations

import sys

import uvicorn

from include.api.app import create_app
from include.api.server import server_config
from include.api.webhooks import WebhookSource
from include.store import Store


def main() -> None:
    url, port, secret = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sources = {"mx": WebhookSource("mx", "active", "maintainx", (secret,))}
    app = create_app(Store(url), webhook_sources=sources.get)
    uvicorn.Server(server_config(app, host="127.0.0.1", port=port, log_level="warning")).run()


if __name__ == "__main__":
    main()
