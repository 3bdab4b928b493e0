"""`airflow standalone` for the real-Airflow test modules (one per module) and a polling wait:
the demo's own (include/cli/demo.py), named as the tests use them; and `port`, a free port
(inside ``MILLWRIGHT_TEST_PORTS`` = ``<low>-<high>`` when set, so parallel runs on one host can
be given disjoint ranges)."""

from __future__ import annotations

import os
import socket

from include.cli import demo
from include.cli.demo import standalone as running
from include.cli.demo import wait_for

__all__ = ["port", "running", "wait_for"]
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
