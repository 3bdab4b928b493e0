"""Store.load_batch throughput: N synthetic work orders into SQLite and PostgreSQL.

    python -m bench.store_load [--n 200000] [--batch 10000] [--backends sqlite,postgresql]

Each backend runs in its own process (so peak RSS is its own) through three passes: the initial
load (all inserts), a re-load of the same rows (all unchanged), and a re-load where 10% of rows
carry a newer version (updates). Rows/s counts only time inside ``load_batch``. PostgreSQL uses
``MILLWRIGHT_BENCH_PG_URL`` (else ``MILLWRIGHT_TEST_PG_URL``, else the local test server) in a
throw-away schema.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator

import orjson

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
STATUSES = ("WAPPR", "APPR", "INPRG", "COMP", "CLOSE")


def work_orders(n: int, batch: int, bump_every: int = 0) -> Iterator[list]:
    """Batches of LoadRows; with ``bump_every`` every k-th row has a newer version."""
    from include.store import LoadRow

    for start in range(0, n, batch):
        rows = []
        for i in range(start, min(start + batch, n)):
            newer = bump_every and i % bump_every == 0
            updated = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z"
            if newer:
                updated = "2025" + updated[4:]
            key = f"BEDFORD:{1000000 + i}"
            raw = {
                "WONUM": str(1000000 + i),
                "SITEID": "BEDFORD",
                "DESCRIPTION": f"Inspect pump {i % 997} bearing and seals",
                "STATUS": STATUSES[i % 5],
                "ASSETNUM": str(11000 + i % 5000),
                "LOCATION": f"BR{i % 300:03d}",
                "WORKTYPE": "PM" if i % 3 else "CM",
                "WOPRIORITY": i % 5 + 1,
                "CHANGEDATE": updated,
                "REPORTDATE": "2023-12-01T08:00:00Z",
                "ESTDUR": 1.5,
                "SUPERVISOR": f"SUP{i % 40}",
            }
            data = {
                "key": key,
                "siteKey": "BEDFORD",
                "assetKey": f"BEDFORD:{11000 + i % 5000}",
                "locationKey": f"BEDFORD:BR{i % 300:03d}",
                "title": raw["DESCRIPTION"],
                "code": raw["WONUM"],
                "status": raw["STATUS"],
                "statusKey": raw["STATUS"],
                "severity": str(raw["WOPRIORITY"]),
                "categoryName": raw["WORKTYPE"],
                "estimatedTime": "1.5",
                "teamKey": raw["SUPERVISOR"],
                "customFields": {"crew": f"C{i % 7}", "shutdown": i % 2 == 0},
                "createdAt": "2023-12-01T08:00:00Z",
                "updatedAt": updated,
                "deletedAt": None,
            }
            rows.append(
                LoadRow(
                    key=key,
                    remote_id=raw["WONUM"],
                    version=updated,
                    # decoded as the pipeline does: each orjson bytes object pins a ~4 KB buffer
                    data=orjson.dumps(data).decode(),
                    raw=orjson.dumps(raw).decode(),
                    updated_at=updated,
                    created_at="2023-12-01T08:00:00Z",
                )
            )
        yield rows


def run_backend(url: str, n: int, batch: int) -> dict:
    from include.store import LoadStats, Store

    store = Store(url)
    store.migrate()
    out: dict = {}
    for name, bump in (("insert", 0), ("unchanged", 0), ("update_10pct", 10)):
        total, spent = LoadStats(), 0.0
        for i, rows in enumerate(work_orders(n, batch, bump)):
            started = time.perf_counter()
            stats = store.load_batch(
                "bench", "work-orders", rows, synced_at="2026-01-01T00:00:00Z", cursor=f"{i:08d}"
            )
            spent += time.perf_counter() - started
            total = LoadStats(*(a + b for a, b in zip(total, stats, strict=True)))
        out[name] = {"rows_per_s": round(n / spent), "seconds": round(spent, 2), **total._asdict()}
    out["count"] = store.count("bench", "work-orders")
    store.close()
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def _pg_schema_url(base: str) -> tuple[str, str]:
    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    url = sa.make_url(base)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False), schema


def _drop_schema(base: str, schema: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200_000, help="rows (default 200000)")
    p.add_argument("--batch", type=int, default=10_000, help="rows per load_batch call")
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--child-url", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.n < 1 or args.batch < 1:
        p.error("--n and --batch must be positive")
    if args.child_url:
        print(json.dumps(run_backend(args.child_url, args.n, args.batch)))
        return 0
    pg_base = os.environ.get("MILLWRIGHT_BENCH_PG_URL") or os.environ.get(
        "MILLWRIGHT_TEST_PG_URL", DEFAULT_PG
    )
    print(f"{args.n} work orders, batches of {args.batch}; load_batch time only")
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            schema = None
            if backend == "sqlite":
                url = f"sqlite:///{tmp}/store.db"
            elif backend == "postgresql":
                url, schema = _pg_schema_url(pg_base)
            else:
                p.error(f"unknown backend {backend!r} (sqlite, postgresql)")
            try:
                cmd = [sys.executable, "-m", "bench.store_load", "--n", str(args.n)]
                cmd += ["--batch", str(args.batch), "--child-url", url]
                res = json.loads(subprocess.run(cmd, check=True, capture_output=True).stdout)
            finally:
                if schema:
                    _drop_schema(pg_base, schema)
        passes = ", ".join(
            f"{k} {v['rows_per_s']:,} rows/s ({v['inserted']}/{v['updated']}/{v['unchanged']})"
            for k, v in res.items()
            if isinstance(v, dict)
        )
        print(f"{backend:10s} {passes}; count {res['count']:,}; peak RSS {res['peak_rss_mb']} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
