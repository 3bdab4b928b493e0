"""Full sync of N Maximo work orders: Millwright's pipeline vs. its limits vs. dlt, side by side.

Run by hand (not in CI), in the bench venv (`make bench` creates it):

    .venv-bench/bin/python -m bench.sync_full --n 1000000 [--db sqlite,postgres] [--skip-dlt]

Every phase runs in its own process so peak memory (max RSS) is per phase. The sandbox runs in another
process, as a real source would. Phases, per database:

- read: merely read all pages from the sandbox (connector only): the source limit;
- bulk: merely bulk-load N pre-built rows (COPY on PostgreSQL, one transaction per batch on SQLite):
  the database limit;
- millwright: extract -> map -> load at once through include/sync/streaming.py, exactly what the DAG's
  default ``sync`` task calls;
- staged (with --staged): extract, then map, then load through include/sync/pipeline.py, what the three
  tasks of the ``pipeline: staged`` shape call;
- incremental: after 1% of the records changed at the source, a windowed run: cost follows the changes;
- dlt: dlt's REST API source with merge on the key, same sandbox, same database.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get(
    "MILLWRIGHT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PG_SCHEMA = "mw_bench"  # dropped and re-created per run: every run starts from an empty store
DLT_SCHEMA = "dlt_bench"
APIKEY = "bench-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sandbox(n: int, seed: int = 7) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "connectors.maximo.sandbox", "--port", str(port), "--size", str(n),
         "--seed", str(seed), "--apikey", APIKEY],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("sandbox did not start")


def run_phase(phase: str, **kw: object) -> dict:
    """Run one phase in a child process; it prints one JSON line with its figures."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.sync_phases", phase, json.dumps(kw)],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode != 0:
        return {"phase": phase, "error": out.stderr.strip().splitlines()[-1:] or ["failed"]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def store_url(db: str, workdir: Path) -> str:
    if db == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{PG_SCHEMA}"


def pg_dsn() -> str:
    """PG_URL as a plain libpq URL (dlt's postgres destination uses psycopg2)."""
    return PG_URL.replace("postgresql+psycopg://", "postgresql://", 1)


def reset_pg(schema: str = PG_SCHEMA) -> None:
    """Empty schemas for the store and for dlt, so every run loads into empty tables."""
    import psycopg

    with psycopg.connect(pg_dsn(), autocommit=True) as conn:
        for name in (schema, DLT_SCHEMA, f"{DLT_SCHEMA}_staging"):
            conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--db", default="sqlite,postgres")
    ap.add_argument("--skip-dlt", action="store_true")
    ap.add_argument("--staged", action="store_true", help="also run the staged shape")
    ap.add_argument(
        "--dlt-n-sqlite", type=int, default=20_000, help="dlt's SQLite merge is quadratic: capped N"
    )
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args()

    proc, url = start_sandbox(args.n)
    results = []
    try:
        for db in args.db.split(","):
            with tempfile.TemporaryDirectory(prefix="mw-bench-") as tmp:
                work = Path(tmp)
                common = {"url": url, "apikey": APIKEY, "n": args.n, "db": db, "work": str(work)}
                surl = store_url(db, work)
                if db == "postgres":
                    reset_pg()
                    common["pg_dsn"] = pg_dsn()
                results.append(run_phase("read", **common))
                results.append(run_phase("millwright", store=surl, **common))
                if args.staged:  # into its own empty store (SQLite file / PostgreSQL schema)
                    (work / "staged").mkdir()
                    staged_url = store_url(db, work / "staged")
                    if db == "postgres":
                        staged_url = surl.replace(PG_SCHEMA, PG_SCHEMA + "_staged")
                        reset_pg(PG_SCHEMA + "_staged")
                    results.append(run_phase("staged", store=staged_url, **common))
                results.append(run_phase("bulk", store=surl, **common))
                results.append(run_phase("incremental", store=surl, **common))
                if not args.skip_dlt:
                    n_dlt = args.n if db == "postgres" else min(args.n, args.dlt_n_sqlite)
                    results.append(run_phase("dlt", **{**common, "n": n_dlt}))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    print_table(results)
    print_targets(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))


def print_table(results: list[dict]) -> None:
    head = (
        f"{'db':<9} {'phase':<12} {'records':>9} {'seconds':>8} {'records/s':>10} {'peak MiB':>9}"
    )
    print(f"\n{head} {'CPU s':>7}")
    for r in results:
        if "error" in r:
            print(f"{r.get('db', ''):<9} {r['phase']:<12} ERROR {r['error']}")
            continue
        print(
            f"{r['db']:<9} {r['phase']:<12} {r['records']:>9} {r['seconds']:>8.1f} "
            f"{rate(r):>10.0f} {r['peak_mib']:>9.0f} {r.get('cpu_s', 0):>7.1f}"
        )


def rate(r: dict) -> float:
    return r["records"] / r["seconds"] if r.get("seconds") else 0.0


def print_targets(results: list[dict]) -> None:
    """The issue's targets per database: >= 5x dlt's records/s, >= half the slower limit, flat memory."""
    for db in dict.fromkeys(r.get("db") for r in results):
        by = {r["phase"]: r for r in results if r.get("db") == db and "error" not in r}
        mw = by.get("millwright")
        if not mw:
            continue
        print(f"\n{db}: millwright {rate(mw):,.0f} records/s, peak {mw['peak_mib']:.0f} MiB")
        limits = [by[p] for p in ("read", "bulk") if p in by]
        if limits:
            slower = min(limits, key=rate)
            half = rate(slower) / 2
            ok = "met" if rate(mw) >= half else "MISSED"
            print(
                f"  >= half the slower limit ({slower['phase']} {rate(slower):,.0f}/s -> {half:,.0f}/s): {ok}"
            )
        if "dlt" in by:
            five = 5 * rate(by["dlt"])
            ok = "met" if rate(mw) >= five else "MISSED"
            print(
                f"  >= 5x dlt ({rate(by['dlt']):,.0f}/s at {by['dlt']['records']:,} records -> {five:,.0f}/s): {ok}"
            )
        ok = "met" if mw["peak_mib"] < 512 else "MISSED"
        print(f"  peak memory < 512 MiB: {ok}")
        if "incremental" in by:
            inc = by["incremental"]
            share = inc["seconds"] / mw["seconds"] if mw["seconds"] else 0
            print(
                f"  incremental: {inc['records']:,} changed records in {inc['seconds']:.2f}s "
                f"({share:.1%} of the full run's time for {inc['records'] / mw['records']:.1%} of its records)"
            )


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
