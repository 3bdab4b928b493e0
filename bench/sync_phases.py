"""One phase of bench/sync_full.py, run in its own process: prints one JSON line of figures."""

from __future__ import annotations

import itertools
import json
import resource
import sys
import threading
import time
from pathlib import Path

from connectors.base import SourceSettings, Window
from include.config import ConnectionConfig
from include.model.timeutil import zone

ENTITY = "work-orders"


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU seconds of this phase (and of its map worker processes): on a shared machine wall time
    also measures the neighbours."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def settings(url: str, apikey: str) -> SourceSettings:
    return SourceSettings("bench", url, {"apikey": apikey}, zone("UTC"), page_size=1000)


def config() -> ConnectionConfig:
    return ConnectionConfig(
        id="bench", customer="bench", system="maximo", airflow_conn_id="bench",
        entities=[ENTITY], quarantine_threshold=1.0,
    )  # fmt: skip


def connector(url: str, apikey: str):
    from connectors.registry import get_connector

    return get_connector("maximo")(settings(url, apikey))


def phase_read(kw: dict) -> dict:
    n = 0
    with connector(kw["url"], kw["apikey"]) as c:
        for page in c.read(ENTITY, Window()):
            n += len(page)
    return {"records": n}


def _sync(kw: dict, window: Window, run_id: str, shape: str = "streaming") -> dict:
    """One sync of the entity, as the DAG's task(s) run it: ``streaming`` (the default shape: one
    task, extract/map/load at once) or ``staged`` (three tasks, one after another)."""
    from include.store import Store
    from include.sync import pipeline, streaming

    store = Store(kw["store"])
    store.migrate()
    cfg = config()
    stage = Path(kw["work"]) / run_id
    steps: dict[str, float] = {}
    t0 = time.perf_counter()
    with connector(kw["url"], kw["apikey"]) as c:
        if shape == "streaming":
            summary = streaming.sync_entity(
                c, cfg, ENTITY, window, stage, store, run_id, incremental=True, path_factory=Path
            )
            return {
                "records": summary["read"], "summary": summary, "shape": shape,
                "map_workers": summary["map_processes"],
            }  # fmt: skip
        extracted = pipeline.extract(c, ENTITY, window, stage)
        steps["extract"] = time.perf_counter() - t0
        mapped = pipeline.map_pages(type(c), cfg, ENTITY, extracted, stage, store, run_id)
        steps["map"] = time.perf_counter() - t0 - steps["extract"]
    summary = pipeline.load(
        store, cfg, ENTITY, mapped, run_id=run_id, incremental=True, path_factory=Path
    )
    steps["load"] = time.perf_counter() - t0 - steps["extract"] - steps["map"]
    workers = pipeline.map_workers(Path(extracted["path"]).stat().st_size)
    return {
        "records": extracted["read"], "summary": summary, "map_workers": workers, "shape": shape,
        "steps": {k: round(v, 2) for k, v in steps.items()},
    }  # fmt: skip


def phase_millwright(kw: dict) -> dict:
    return _sync(kw, Window(), "full")


def phase_staged(kw: dict) -> dict:
    return _sync(kw, Window(), "staged", shape="staged")


def phase_incremental(kw: dict) -> dict:
    """Change 1% of the records at the source, then run the windowed sync the scheduler would."""
    from connectors.maximo.sandbox import start_sandbox
    from include.store import Store
    from include.sync import pipeline

    store = Store(kw["store"])
    n = int(kw["n"])
    base, handle = start_sandbox(size=n, seed=7, apikey=kw["apikey"])
    try:
        cursor = store.get_cursor("bench", ENTITY)
        changed = max(1, n // 100)
        table = handle.sandbox.table("MXAPIWODETAIL")
        step = max(1, table.base_count // changed)
        for i in range(0, step * changed, step):
            handle.mutate("MXAPIWODETAIL", table.key(table.base(i)), status="COMP")
        window = pipeline.plan_window(
            store, config(), ENTITY, incremental=True, run_type="manual",
            interval_start=None, interval_end=None,
        )  # fmt: skip
        started = time.perf_counter()
        result = _sync({**kw, "url": base}, window, "incr")
        result["seconds"] = time.perf_counter() - started
        result["cursor_before"] = cursor
        result["changed_at_source"] = changed
        return result
    finally:
        handle.stop()


def phase_bulk(kw: dict) -> dict:
    """Bulk-load the records the millwright phase read, mapped (key, version, data, raw: the same
    JSON), into a plain table with the column types of ``records`` (on PostgreSQL data JSONB, raw
    JSON), in batches of
    `pipeline.LOAD_BATCH`: COPY on PostgreSQL, one executemany transaction per batch on SQLite. Only
    the database calls are timed: the database's limit for these records."""
    import sqlalchemy as sa

    from include.sync import pipeline

    full = Path(kw["work"]) / "full"
    mapped = full / "mapped.jsonl"
    if not mapped.exists():  # the streaming sync stages only pages: map them here, untimed
        from connectors.maximo.client import MaximoConnector

        cm = pipeline.compile_mapping(MaximoConnector, config(), ENTITY)
        with mapped.open("wb") as fh:
            for page in pipeline.iter_lines(full / "pages.jsonl"):
                pipeline.write_rows(fh, pipeline.map_page(ENTITY, cm, page).rows)
    engine = sa.create_engine(kw["store"])
    timed = 0.0
    n = 0
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        pg = engine.dialect.name == "postgresql"
        data_type, raw_type = ("JSONB", "JSON") if pg else ("TEXT", "TEXT")  # as in `records`
        cur = raw.cursor()
        cur.execute("DROP TABLE IF EXISTS bench_bulk")
        cur.execute(
            f"CREATE TABLE bench_bulk (k TEXT PRIMARY KEY, v TEXT, data {data_type}, raw {raw_type})"
        )
        raw.commit()

        def write(rows: list[tuple]) -> float:
            t0 = time.perf_counter()
            if pg:
                with cur.copy("COPY bench_bulk (k, v, data, raw) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cur.execute("BEGIN")
                cur.executemany("INSERT INTO bench_bulk VALUES (?, ?, ?, ?)", rows)
            raw.commit()
            return time.perf_counter() - t0

        batch: list[tuple] = []
        for page in pipeline.iter_mapped(mapped):
            batch += [(r.key, r.version, r.data, r.raw) for r in page.get(ENTITY, ())]
            if len(batch) >= pipeline.LOAD_BATCH:
                timed += write(batch)
                n += len(batch)
                batch = []
        if batch:
            timed += write(batch)
            n += len(batch)
        cur.execute("DROP TABLE bench_bulk")
        raw.commit()
    return {"records": n, "seconds": timed}


def phase_dlt(kw: dict) -> dict:
    import dlt
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source(
        {
            "client": {
                "base_url": kw["url"] + "/maximo/api/os/",
                "auth": {"type": "api_key", "name": "apikey", "api_key": kw["apikey"],
                         "location": "header"},
                "paginator": {"type": "json_link", "next_url_path": "responseInfo.nextPage.href"},
            },
            "resources": [
                {
                    "name": "work_orders",
                    "primary_key": ["siteid", "wonum"],
                    "write_disposition": "merge",
                    "endpoint": {
                        "path": "MXAPIWODETAIL",
                        "params": {"lean": 1, "oslc.pageSize": 1000, "oslc.select": "*"},
                        "data_selector": "member",
                    },
                }
            ],
        }
    )  # fmt: skip
    if kw["db"] == "postgres":  # the store's database (its own schema, dlt_bench), via psycopg2
        import sqlalchemy as sa

        url = sa.make_url(kw["pg_dsn"])
        if url.password is None:  # dlt insists on a password; a trust/peer server ignores it
            url = url.set(password="unused")
        dest = dlt.destinations.postgres(credentials=url.render_as_string(hide_password=False))
    else:
        dest = dlt.destinations.sqlalchemy(f"sqlite:///{Path(kw['work']) / 'dlt.db'}")
    pipe = dlt.pipeline(
        pipeline_name=f"mw_bench_{kw['db']}", destination=dest, dataset_name="dlt_bench",
        pipelines_dir=str(Path(kw["work"]) / "dlt"),
    )  # fmt: skip
    # the sandbox may hold more than n records (dlt into SQLite runs at a capped n): stop after n
    source.add_limit(max_items=int(kw["n"]), count_rows=True)
    pipe.run(source)
    with pipe.sql_client() as client:
        n = client.execute_sql("SELECT count(*) FROM work_orders")[0][0]
    return {"records": n}


PHASES = {
    "read": phase_read,
    "bulk": phase_bulk,
    "millwright": phase_millwright,
    "staged": phase_staged,
    "incremental": phase_incremental,
    "dlt": phase_dlt,
}


class TreeMemory:
    """Samples the resident memory of this process plus all its children (the map workers) every
    0.1 s: the phase's real simultaneous peak (shared library pages count once per process, so
    it errs high), and each process's own sampled peak. The list of children is refreshed once a
    second: listing them reads every process's /proc entry, which would otherwise be a visible
    share of the phase's CPU. (A child's ``ru_maxrss`` is no use here: a spawned worker starts as
    a fork of this process, so its maximum includes this process's size at that moment.)"""

    def __init__(self) -> None:
        import psutil

        self.me, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self.own: dict[int, int] = {}  # pid -> that process's sampled peak
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        procs: list = [self.me]
        for tick in itertools.count():
            if self._stop.wait(0.1):
                return
            if tick % 10 == 0:
                procs = [self.me, *self.me.children(recursive=True)]
            total = 0
            for p in procs:
                try:
                    rss = p.memory_info().rss
                except psutil.Error:  # a worker that just exited
                    continue
                total += rss
                self.own[p.pid] = max(self.own.get(p.pid, 0), rss)
            self.peak = max(self.peak, total)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / (1 << 20)

    def children_peaks(self) -> list[float]:
        """Each child's sampled peak in MiB, largest first (map workers, then helpers such as
        multiprocessing's resource tracker)."""
        kids = [v for pid, v in self.own.items() if pid != self.me.pid]
        return sorted((v / (1 << 20) for v in kids), reverse=True)


def main() -> None:
    phase, kw = sys.argv[1], json.loads(sys.argv[2])
    memory = TreeMemory()
    started = time.perf_counter()
    result = PHASES[phase](kw)
    result.setdefault("seconds", time.perf_counter() - started)
    # peak memory of the phase: the sampled peak of this process and its map workers together;
    # also each process's own peak, and their sum (a bound: the peaks need not coincide)
    sampled = memory.stop()
    kids = memory.children_peaks()
    workers = int(result.get("map_workers") or 0) if int(result.get("map_workers") or 0) > 1 else 0
    result.update(
        phase=phase, db=kw["db"], peak_mib=max(sampled, peak_mib()), cpu_s=cpu_seconds(),
        peak_main_mib=peak_mib(), peak_worker_mib=kids[0] if workers and kids else 0.0,
        peak_bound_mib=peak_mib() + sum(kids),
    )  # fmt: skip
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
