"""Records/s reading work orders from the sandbox through the connector (not a pytest test).

``python -m tests.connectors.sap_s4hana.bench_read [N]`` (default 100,000). The sandbox runs in its own
process, as it would in a demo, so server and client do not share one interpreter lock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from connectors.base import SourceSettings, Window
from connectors.sap_s4hana import CONNECTOR


def _cpu(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(n: int = 100_000) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "connectors.sap_s4hana.sandbox", "--port", "0", "--size", str(n)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # "SAP S/4HANA sandbox on http://127.0.0.1:PORT/sap/..."
        url = line.split(" on ")[1].split("/sap/")[0]
        settings = SourceSettings(
            "bench", url, {"user": "demo", "password": "demo"}, ZoneInfo("UTC")
        )
        with CONNECTOR(settings) as c:
            c.service("API_MAINTENANCEORDER")  # metadata outside the timing
            t0, c0, s0 = time.perf_counter(), time.process_time(), _cpu(proc.pid)
            count = sum(len(p) for p in c.read("work-orders", Window()))
            elapsed = time.perf_counter() - t0
            client, server = time.process_time() - c0, _cpu(proc.pid) - s0
        print(f"{count} work orders in {elapsed:.1f} s wall: {count / elapsed:,.0f} records/s; "
              f"CPU s client {client:.1f}, sandbox {server:.1f}")  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
