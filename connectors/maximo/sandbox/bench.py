"""Measure the sandbox and the connector: ``python -m connectors.maximo.sandbox.bench --size N``.

Starts the sandbox in its own process on a free port, then (1) fetches every work-order page without
parsing (the sandbox's serving rate) and (2) reads them all through `MaximoConnector` (parsed pages).
Prints records/s (wall clock) and the sandbox's CPU seconds per run from /proc, since on a shared
machine wall time also measures the neighbours.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import requests

from connectors.base import SourceSettings, Window
from connectors.maximo import CONNECTOR
from connectors.maximo.sandbox import DEFAULT_API_KEY


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux), in seconds."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        line = next(x for x in fh if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m connectors.maximo.sandbox.bench")
    p.add_argument("--size", type=int, default=200_000)
    p.add_argument("--page-size", type=int, default=1000)
    p.add_argument("--skip-connector", action="store_true", help="measure only the sandbox")
    a = p.parse_args(argv)
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "connectors.maximo.sandbox",
        "--port",
        str(port),
        "--size",
        str(a.size),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # the banner: listening
        url = f"http://127.0.0.1:{port}"
        s = requests.Session()
        s.headers["apikey"] = DEFAULT_API_KEY
        params: dict[str, str] | None = {
            "lean": "1", "oslc.select": "*", "oslc.pageSize": str(a.page_size),
            "oslc.orderBy": "+changedate,+siteid,+wonum", "stablepaging": "1",
        }  # fmt: skip
        nxt: str | None = f"{url}/maximo/api/os/mxapiwodetail"
        n, c0, t0 = 0, cpu_seconds(proc.pid), time.perf_counter()
        while nxt:
            body = s.get(nxt, params=params, timeout=60).content
            params = None
            n += body.count(b'"wonum"')
            i = body.rfind(b'"nextPage":{"href":"')
            nxt = body[i + 20 : body.index(b'"', i + 20)].decode() if i >= 0 else None
        wall, cpu = time.perf_counter() - t0, cpu_seconds(proc.pid) - c0
        print(f"sandbox: {n} records in {wall:.1f}s = {n / wall:,.0f} records/s "
              f"(sandbox CPU {cpu:.1f}s = {n / cpu:,.0f} records per CPU-second)")  # fmt: skip
        print(f"sandbox RSS after the run: {rss_mb(proc.pid):.0f} MB")
        if a.skip_connector:
            return
        settings = SourceSettings("bench", url, {"apikey": DEFAULT_API_KEY},
                                  ZoneInfo("America/New_York"), page_size=a.page_size)  # fmt: skip
        with CONNECTOR(settings) as c:
            n, t0 = 0, time.perf_counter()
            for page in c.read("work-orders", Window()):
                n += len(page)
            wall = time.perf_counter() - t0
        print(f"connector: {n} work orders read in {wall:.1f}s = {n / wall:,.0f} records/s")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
