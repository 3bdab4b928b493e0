"""`airflow standalone` for the real-Airflow test modules: started in its own process group (one
per module), healthy before the tests, stopped with its children afterwards; a polling wait; and
`port`, a free port (inside ``MILLWRIGHT_TEST_PORTS`` = ``<low>-<high>`` when set, so parallel
runs on one host can be given disjoint ranges)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from include.cli import demo
from tests.airflow.conftest import ROOT


@contextlib.contextmanager
def running(env: dict[str, str], log_path: Path, url: str, timeout: float) -> Iterator[None]:
    """`airflow standalone` with ``env``, output to ``log_path``, answering at ``url``."""
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen(["airflow", "standalone"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        demo.wait_healthy(url, timeout, proc)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()


PORTS_ENV = "MILLWRIGHT_TEST_PORTS"


def port(avoid: tuple[int, ...] = ()) -> int:
    """A port nothing listens on: the first free one of ``MILLWRIGHT_TEST_PORTS`` (``9800-9899``)
    not in ``avoid``, else any free port."""
    spec = os.environ.get(PORTS_ENV, "").strip()
    if not spec:
        while True:
            p = demo.free_port()
            if p not in avoid:
                return p
    low, _, high = spec.partition("-")
    if not (low.isdigit() and high.isdigit() and 0 < int(low) <= int(high) < 65536):
        raise ValueError(f"{PORTS_ENV} must be <low>-<high>, got {spec!r}")
    for p in range(int(low), int(high) + 1):
        if p in avoid:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                continue
        return p
    raise RuntimeError(f"no free port in {PORTS_ENV}={spec}")


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 2.0) -> Any:
    """``check()``'s first truthy value, polled every ``every`` s; fails after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)
