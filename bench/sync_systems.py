"""Per-system full sync: N work orders from the Maximo, SAP S/4HANA, MaintainX, Limble (tasks: the
non-template ones) and Fiix sandboxes, and the parts of a real Tryton server: six systems in one run, each through include/sync/streaming.py (extract, map and load at once:
what the DAG's default ``sync`` task runs, as bench/sync_phases.py does for Maximo) into an empty
SQLite store; with ``--staged``, through include/sync/pipeline.py's three steps one after another.

Run by hand (not in CI):

    .venv/bin/python -m bench.sync_systems [--n 100000] [--tryton-parts 1000] [--systems ...]
                                           [--staged]

Every source runs in its own process (the sandboxes via ``python -m connectors.<system>.sandbox``,
Tryton as trytond); every sync runs in another child process, so its peak memory (max RSS) is its
own. Tryton's parts are seeded through JSON-RPC, which is slow: the seeded database is cached as a
template under ``$MILLWRIGHT_TRYTON_CACHE`` (the tests' default size, 1000, is usually there).
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
SECRET = "bench-secret"
SYSTEMS = ("maximo", "sap_s4hana", "maintainx", "tryton", "limble", "fiix")


# ---------------------------------------------------------------- sources (parent process)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sandbox_args(system: str, n: int, seed: int) -> list[str]:
    common = ["--size", str(n), "--seed", str(seed)]
    if system == "maximo":
        return [*common, "--apikey", SECRET]
    if system == "sap_s4hana":
        return [*common, "--user", "bench", "--password", SECRET]
    if system == "maintainx":
        return [*common, "--api-key", SECRET]
    if system == "limble":  # client id "bench", the secret as --api-key
        return [*common, "--user", "bench", "--api-key", SECRET]
    if system == "fiix":  # the secret key signs every request
        return [*common, "--app-key", "bench-app", "--access-key", "bench", "--api-key", SECRET]
    raise ValueError(system)


def start_sandbox(system: str, n: int, seed: int = 7) -> tuple[subprocess.Popen, str, float]:
    """The sandbox in its own process; (process, base URL, seconds until it listened)."""
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", f"connectors.{system}.sandbox", "--port", str(port),
         *sandbox_args(system, n, seed)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 600  # generating 100,000 records takes a while on a busy box
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{system} sandbox exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}", time.perf_counter() - started
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{system} sandbox did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def tryton_cache() -> Path:
    default = Path.home() / ".cache" / "millwright" / "tryton"
    return Path(os.environ.get("MILLWRIGHT_TRYTON_CACHE", default))


def run_sync(**kw: object) -> dict:
    """One full sync in a child process; it prints one JSON line with its figures."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.sync_systems", "--phase", json.dumps(kw)],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- one sync (child process)


def usage() -> dict:
    """Peak MiB of the sync process, and CPU seconds of it and its map workers: on a shared
    machine CPU time is steadier than wall time. (The workers' own ``ru_maxrss`` would include
    the sync process's size when they were spawned, a fork: bench/sync_full.py samples them.)"""
    me, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return {
        "peak_mib": me.ru_maxrss / 1024,
        "cpu_s": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
    }


def phase(kw: dict) -> dict:
    """One full sync of one entity, in the DAG's shape (streaming, or staged with ``staged``)."""
    from connectors.base import SourceSettings, Window
    from connectors.registry import get_connector
    from include.config import ConnectionConfig
    from include.model.timeutil import zone
    from include.store import Store
    from include.sync import pipeline, streaming

    system, entity = kw["system"], kw["entity"]
    settings = SourceSettings(
        "bench", kw["url"], kw["credentials"], zone("UTC"), page_size=kw["page_size"],
        options=kw.get("options") or {},
    )  # fmt: skip
    cfg = ConnectionConfig(
        id="bench", customer="bench", system=system, airflow_conn_id="bench",
        entities=[entity], quarantine_threshold=1.0,
    )  # fmt: skip
    store = Store(kw["store"])
    store.migrate()
    stage = Path(kw["work"]) / "full"
    started = time.perf_counter()
    with get_connector(system)(settings) as c:
        if kw.get("staged"):
            extracted = pipeline.extract(c, entity, Window(), stage)
            mapped = pipeline.map_pages(type(c), cfg, entity, extracted, stage, store, "full")
        else:
            summary = streaming.sync_entity(
                c, cfg, entity, Window(), stage, store, "full", incremental=True,
                path_factory=Path,
            )  # fmt: skip
    if kw.get("staged"):
        summary = pipeline.load(
            store, cfg, entity, mapped, run_id="full", incremental=True, path_factory=Path
        )
    seconds = time.perf_counter() - started
    stored = store.count("bench", entity)
    store.close()
    return {"records": summary["read"], "stored": stored, "seconds": seconds,
            "shape": "staged" if kw.get("staged") else "streaming",
            "summary": summary, **usage()}  # fmt: skip


# ---------------------------------------------------------------- main


def bench_system(system: str, args: argparse.Namespace, work: Path) -> list[dict]:
    """Start the source, sync its entities each into a fresh SQLite store, stop the source."""
    rows = []
    if system == "tryton":
        from connectors.tryton.server import start_tryton

        cache = tryton_cache()
        db = f"bench_{os.getpid()}"
        t0 = time.perf_counter()
        handle = start_tryton(cache, db, parts=args.tryton_parts, fresh=True)
        source_s = time.perf_counter() - t0
        jobs = [
            (entity, handle.url, {"user": handle.user, "password": handle.password},
             {"database": db}, 1000)
            for entity in ("materials", "products")
        ]  # fmt: skip
        try:
            rows += _syncs(system, jobs, work, source_s, args.tryton_parts, args.staged)
        finally:
            handle.stop(drop=True)
        return rows
    proc, url, source_s = start_sandbox(system, args.n)
    creds = {
        "maximo": {"apikey": SECRET},
        "sap_s4hana": {"user": "bench", "password": SECRET},
        "maintainx": {"api_key": SECRET},
        "limble": {"user": "bench", "password": SECRET},
        "fiix": {"app_key": "bench-app", "access_key": "bench", "secret_key": SECRET},
    }[system]
    page = 200 if system == "maintainx" else 1000  # MaintainX's maximum limit is 200
    try:
        jobs = [("work-orders", url, creds, {}, page)]
        return _syncs(system, jobs, work, source_s, args.n, args.staged)
    finally:
        stop(proc)


def _syncs(
    system: str, jobs: list, work: Path, source_s: float, n: int, staged: bool
) -> list[dict]:
    rows = []
    for entity, url, creds, options, page in jobs:
        sub = work / f"{system}-{entity}"
        sub.mkdir()
        result = run_sync(
            system=system, entity=entity, url=url, credentials=creds, options=options,
            page_size=page, store=f"sqlite:///{sub / 'store.db'}", work=str(sub), staged=staged,
        )  # fmt: skip
        result.update(system=system, entity=entity, n=n, source_start_s=source_s)
        rows.append(result)
        print(json.dumps(result, default=str), file=sys.stderr)
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| system | entity | records | seconds | records/s | CPU s | peak MiB |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['system']} | {r['entity']} | error: {r['error']} | | | | |")
            continue
        rate = r["records"] / r["seconds"] if r["seconds"] else 0.0
        lines.append(
            f"| {r['system']} | {r['entity']} | {r['records']:,} | {r['seconds']:.1f} "
            f"| {rate:,.0f} | {r['cpu_s']:.1f} | {r['peak_mib']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--phase", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=100_000, help="work orders per sandbox")
    ap.add_argument("--tryton-parts", type=int, default=1000, help="parts seeded in Tryton")
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--staged", action="store_true", help="the staged shape instead of streaming")
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(phase(json.loads(args.phase)), default=str))
        return
    load_before = os.getloadavg()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="mw-bench-systems-") as tmp:
        for system in args.systems.split(","):
            rows += bench_system(system, args, Path(tmp))
    load_after = os.getloadavg()
    print(table(rows))
    print(f"\nload average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; "
          f"after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    if args.json:
        Path(args.json).write_text(
            json.dumps({"rows": rows, "load": [load_before, load_after]}, default=str, indent=2)
        )


if __name__ == "__main__":
    main()
