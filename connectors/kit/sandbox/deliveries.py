"""A sandbox's outgoing webhook deliveries: one background sender per sandbox (a queue, a thread,
one HTTP session). Each system's sandbox subclasses `Deliveries` and keeps only what is its own:
how a delivery is signed and sent (``_send``) and its retry rule (``_deliver``)."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import requests


class Deliveries:
    """Queue deliveries with `_enqueue`; the thread hands each to `_deliver`, in order."""

    def __init__(self, name: str) -> None:
        self.deliveries: list[Any] = []
        self._lock = threading.Lock()
        self._queue: queue.Queue[Any] = queue.Queue()
        self._session = requests.Session()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _enqueue(self, delivery: Any) -> None:
        with self._lock:
            self.deliveries.append(delivery)
        self._queue.put(delivery)

    def _deliver(self, delivery: Any) -> None:
        """Send one delivery with the system's retries (runs on the sender thread)."""
        raise NotImplementedError

    def _run(self) -> None:
        while True:
            d = self._queue.get()
            if d is None:
                return
            try:
                self._deliver(d)
            finally:
                self._queue.task_done()

    def wait(self, timeout: float = 10.0) -> bool:
        """Wait until every queued delivery has finished (delivered or given up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.02)
        return False

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)
        self._session.close()
