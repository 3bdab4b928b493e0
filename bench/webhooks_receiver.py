"""Webhook receiver benchmark: durable acknowledgements per second and their latency at N
concurrent senders. The receiver (the API app, one uvicorn process, Standard Webhooks scheme)
stores every event in the inbox and commits before answering 200; senders are separate processes
(httpx, keep-alive), so the receiver's process has its core to itself as far as the host allows.

    .venv/bin/python -m bench.webhooks_receiver                  # SQLite in a temp dir
    .venv/bin/python -m bench.webhooks_receiver --url postgresql+psycopg://postgres@127.0.0.1:5432/test

Prints acks/s, p50/p90/p99/max latency, and checks that the inbox holds every acknowledged event
exactly once. PostgreSQL runs in a fresh schema that is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import httpx
import sqlalchemy as sa

from include.store import Store
from include.webhooks.schemes import standard_sign

CID = "bench"
SECRET = "whsec_" + base64.b64encode(b"bench-secret-0123456789abcdef!!").decode()
BODY = (
    '{"type":"record.updated","entity":"work-orders","id":"%d","data":{"title":"Inspect pump %d",'
    '"status":"OPEN","priority":"HIGH","updatedAt":"2026-01-01T00:00:00Z","site":"S%d"}}'
)


def serve(url: str, port: int, http: str = "h11") -> None:
    import uvicorn

    from include.api.app import create_app
    from include.api.server import server_config
    from include.api.webhooks import WebhookSource

    sources = {CID: WebhookSource(CID, "active", "standard", (SECRET,))}
    app = create_app(Store(url), webhook_sources=sources.get)
    config = server_config(app, host="127.0.0.1", port=port, log_level="warning")
    if http == "httptools":  # the API's server uses h11 for its long-URL handling (server.py)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                http="httptools")  # fmt: skip
    uvicorn.Server(config).run()


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _sender(port: int, ids: list[int], concurrency: int, out: mp.Queue) -> None:
    async def run() -> list[float]:
        lat: list[float] = []
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            queue = list(reversed(ids))

            async def worker() -> None:
                while queue:
                    i = queue.pop()
                    body = (BODY % (i, i, i % 50)).encode()
                    ts = int(time.time())
                    msg = f"msg_{i}"
                    headers = {"webhook-id": msg, "webhook-timestamp": str(ts),
                               "webhook-signature": standard_sign(SECRET, msg, ts, body),
                               "content-type": "application/json"}  # fmt: skip
                    t0 = time.perf_counter()
                    r = await client.post(f"http://127.0.0.1:{port}/webhooks/{CID}",
                                          content=body, headers=headers)  # fmt: skip
                    if r.status_code != 200:
                        raise RuntimeError(f"event {i}: {r.status_code} {r.text[:200]}")
                    lat.append(time.perf_counter() - t0)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return lat

    out.put(asyncio.run(run()))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_schema(url: str) -> tuple[str, str]:
    schema = f"bench_wh_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    return sa.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}
                                              ).render_as_string(hide_password=False), schema  # fmt: skip


def bench(url: str, events: int, concurrency: int, processes: int, http: str = "h11") -> dict:
    store = Store(url)
    store.migrate()
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.webhooks_receiver", "--serve", url,
                             "--port", str(port), "--http", http])  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("receiver did not start") from None
                time.sleep(0.2)
        # warm-up (connection pools, first transaction), not counted
        _run_senders(port, list(range(10_000_000, 10_000_000 + 200)), concurrency, processes)
        cpu0, t0 = _cpu(proc.pid), time.perf_counter()
        lat = _run_senders(port, list(range(events)), concurrency, processes)
        wall = time.perf_counter() - t0
        cpu = _cpu(proc.pid) - cpu0
    finally:
        proc.terminate()
        proc.wait(10)
    with store.read() as c:
        stored = c.exec_driver_sql("SELECT count(*) FROM webhook_inbox").scalar()
    store.close()
    lat.sort()

    def q(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000

    return {
        "events": events, "concurrency": concurrency, "acks_per_s": round(events / wall),
        "p50_ms": round(q(0.5), 1), "p90_ms": round(q(0.9), 1), "p99_ms": round(q(0.99), 1),
        "max_ms": round(lat[-1] * 1000, 1), "mean_ms": round(statistics.mean(lat) * 1000, 1),
        "receiver_cpu_ms_per_ack": round(cpu * 1000 / events, 2),
        "stored": stored - 200, "ok": stored - 200 == events,
    }  # fmt: skip


def _run_senders(port: int, ids: list[int], concurrency: int, processes: int) -> list[float]:
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()
    per = max(1, concurrency // processes)
    procs = [ctx.Process(target=_sender, args=(port, ids[k::processes], per, out))
             for k in range(processes)]  # fmt: skip
    for p in procs:
        p.start()
    lat: list[float] = []
    for _ in procs:
        lat += out.get()
    for p in procs:
        p.join()
    return lat


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", help="store URL (default: SQLite in a temp dir)")
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--processes", type=int, default=2, help="sender processes")
    ap.add_argument("--http", default="h11", choices=["h11", "httptools"])
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port, args.http)
        return
    schema = None
    if args.url and args.url.startswith("postgresql"):
        url, schema = _pg_schema(args.url)
    else:
        url = args.url or f"sqlite:///{tempfile.mkdtemp(prefix='mw-wh-bench-')}/store.db"
    try:
        result = bench(url, args.events, args.concurrency, args.processes, args.http)
    finally:
        if schema:
            engine = sa.create_engine(args.url)
            with engine.begin() as c:
                c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            engine.dispose()
    backend = "postgresql" if schema else "sqlite"
    print(
        f"{backend} ({args.http}, load average {os.getloadavg()[0]:.1f}): "
        + ", ".join(f"{k}={v}" for k, v in result.items())
    )
    if not result["ok"]:
        sys.exit("the inbox does not hold every acknowledged event exactly once")


if __name__ == "__main__":
    main()
