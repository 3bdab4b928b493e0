"""`airflow standalone` for the real-Airflow test modules: started in its own process group (one
per module), healthy before the tests, stopped with its children afterwards; and a polling wait."""

from __future__ import annotations

import contextlib
import os
import signal
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
