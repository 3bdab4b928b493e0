"""Read API benchmark: N work orders bulk-inserted into the store, the API under uvicorn on
loopback, httpx as the client. Run by hand:

    .venv/bin/python -m bench.api_read                       # SQLite in a temp dir, 1,000,000 rows
    .venv/bin/python -m bench.api_read --url postgresql+psycopg://postgres@127.0.0.1:5432/test

Prints p50/p99 latency of: the first page, page 5,000 (offset), a cursor page deep in the set,
an updatedAt range filter; and requests/s of the first page at 16 concurrent clients.
PostgreSQL runs in a fresh schema that is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import sqlalchemy as sa

from include.api.auth import issue_token
from include.api.query import encode_cursor
from include.model import record_defaults
from include.store import Store

CONN, ENTITY = "bench", "work-orders"
BASE = datetime(2023, 1, 1, tzinfo=UTC)


def _ts(i: int) -> str:
    return (BASE + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")


# every field of the model, as the mapping writes it (null or [] when the source has none)
EMPTY = record_defaults(ENTITY)


def _row(i: int) -> tuple:
    ts = _ts(i)
    key = f"wo-{(i * 7919) % 10_000_019:08d}"  # keys not in time order, as in real sources
    data = {
        "key": key, **EMPTY, "title": f"Inspect pump {i % 997}", "code": f"WO{i}", "status": "OPEN",
        "statusCategory": ("open", "in_progress", "completed", "closed")[i % 4],
        "statusKey": "OPEN", "siteKey": f"site-{i % 50}", "assetKey": f"asset-{i % 5000}",
        "locationKey": f"loc-{i % 800}", "severity": str(i % 5), "categoryName": "PM",
        "instructions": "Check seals, vibration and temperature; replace worn parts.",
        "createdAt": ts, "updatedAt": ts, "dueAt": _ts(i + 86400), "customFields": {"area": "B"},
    }  # fmt: skip
    return (CONN, ENTITY, key, key, None, ts, orjson.dumps(data).decode(), None, ts, ts, None, ts)


COLS = "connection_id, entity, key, remote_id, parent_key, version, data, raw, created_at, "
COLS += "updated_at, deleted_at, synced_at"


def bulk_insert(store: Store, n: int, batch: int = 50_000) -> tuple[float, float]:
    """Rows straight into ``records`` (COPY on PostgreSQL) plus ``entity_counts``: (wall, CPU)
    seconds, the rows' JSON built included (CPU: this process's, SQLite's work included)."""
    t0, c0 = time.perf_counter(), time.process_time()
    with store.engine.connect() as conn:
        for start in range(0, n, batch):
            rows = [_row(i) for i in range(start, min(n, start + batch))]
            with conn.begin():
                if store.dialect == "postgresql":
                    raw = conn.connection.driver_connection
                    with raw.cursor() as cur, cur.copy(f"COPY records ({COLS}) FROM STDIN") as cp:
                        for r in rows:
                            cp.write_row(r)
                else:
                    marks = ", ".join("?" * 12)
                    conn.exec_driver_sql(f"INSERT INTO records ({COLS}) VALUES ({marks})", rows)
        with conn.begin():
            conn.execute(
                sa.text("INSERT INTO entity_counts VALUES (:c, :e, :n, 0)"),
                {"c": CONN, "e": ENTITY, "n": n},
            )
        with conn.begin():
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - t0, time.process_time() - c0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "MILLWRIGHT_STORE_URL": url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "include.cli.serve", "--port", str(port)], env=env, cwd=os.getcwd()
    )
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("API server did not start")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` so far (Linux /proc; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def latency(client: httpx.Client, path: str, params: dict, n: int) -> tuple[float, float, int]:
    times, rows = [], 0
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(path, params=params)
        times.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
        rows = len(r.json()["data"])
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1], rows


async def throughput(base: str, headers: dict, clients: int, seconds: float) -> float:
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        async with httpx.AsyncClient(base_url=base, headers=headers) as c:
            while time.perf_counter() < stop:
                (await c.get("/api/eam/work-orders")).raise_for_status()
                done += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return done / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", help="store URL (default: SQLite in a temp dir)")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=200, help="per latency scenario")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--port", type=int, default=0, help="API server port (default: a free one)")
    args = ap.parse_args()
    schema = None
    tmp = None if args.url else tempfile.mkdtemp(prefix="mw-bench-")
    url = args.url or f"sqlite:///{tmp}/store.db"
    if url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(url)
        with admin.begin() as c:
            c.exec_driver_sql(f"CREATE SCHEMA {schema}")
        url = sa.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        url = url.render_as_string(hide_password=False)
    store = Store(url)
    proc = None
    try:
        store.migrate()
        secs, cpu = bulk_insert(store, args.n)
        print(f"{store.dialect}: inserted {args.n:,} work orders in {secs:.1f} s (CPU {cpu:.1f} s)")
        token = issue_token(store.engine, CONN)
        port = args.port or free_port()
        proc = start_server(url, port)
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {token}"}
        deep = int(args.n * 0.9)
        lo, hi = _ts(deep), _ts(deep + 1000)
        with store.engine.connect() as conn:
            key = conn.execute(
                sa.text("SELECT key FROM records WHERE updated_at = :u"), {"u": _ts(deep - 1)}
            ).scalar_one()
        scenarios = {
            "first page (25)": {},
            "first page (1000)": {"per_page": 1000},
            "page 5,000 (25, offset 124,975)": {"page": 5000},
            f"cursor page at row {deep:,} (25)": {"cursor": encode_cursor(_ts(deep - 1), key)},
            "updatedAt range, 1,000 rows (25)": {
                "filter[updatedAt:gteq]": lo, "filter[updatedAt:lt]": hi,
            },
            "updatedAt range, sort[updatedAt]=0": {
                "filter[updatedAt:gteq]": lo, "filter[updatedAt:lt]": hi, "sort[updatedAt]": 0,
            },
            "modified_after deep + cursor": {"modified_after": lo, "cursor": ""},
            "filter[statusCategory]=open (25)": {"filter[statusCategory]": "open"},
        }  # fmt: skip
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            for name, params in scenarios.items():
                n = args.requests if "page 5,000" not in name else max(20, args.requests // 10)
                cpu0 = cpu_seconds(proc.pid)
                p50, p99, rows = latency(client, "/api/eam/work-orders", params, n)
                cpu1 = cpu_seconds(proc.pid)
                cpu = (
                    ""
                    if cpu0 is None or cpu1 is None
                    else f", server CPU {(cpu1 - cpu0) / n * 1000:.1f} ms/req"
                )
                print(
                    f"  {name:<40} p50 {p50:8.1f} ms  p99 {p99:8.1f} ms  ({rows} rows, n={n}{cpu})"
                )
        rps = asyncio.run(throughput(base, headers, args.clients, args.seconds))
        print(f"  first page at {args.clients} concurrent clients: {rps:,.0f} requests/s")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        store.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        if schema:
            with sa.create_engine(args.url).begin() as c:
                c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
