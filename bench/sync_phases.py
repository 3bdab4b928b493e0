"""One phase of bench/sync_full.py, run in its own process: prints one JSON line of figures."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

import orjson

from connectors.base import SourceSettings, Window
from include.config import ConnectionConfig
from include.timeutil import zone

ENTITY = "work-orders"


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def _sync(kw: dict, window: Window, run_id: str) -> dict:
    from include import pipeline
    from include.store import Store

    store = Store(kw["store"])
    store.migrate()
    cfg = config()
    stage = Path(kw["work"]) / run_id
    with connector(kw["url"], kw["apikey"]) as c:
        extracted = pipeline.extract(c, ENTITY, window, stage)
        mapped = pipeline.map_pages(type(c), cfg, ENTITY, extracted, stage, store, run_id)
    summary = pipeline.load(
        store, cfg, ENTITY, mapped, run_id=run_id, incremental=True, path_factory=Path
    )
    return {"records": extracted["read"], "summary": summary}


def phase_millwright(kw: dict) -> dict:
    return _sync(kw, Window(), "full")


def phase_incremental(kw: dict) -> dict:
    """Change 1% of the records at the source, then run the windowed sync the scheduler would."""
    from connectors.maximo.sandbox import start_sandbox
    from include import pipeline
    from include.store import Store

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
    """Bulk-load the rows the millwright phase mapped, into a plain table: the database limit."""
    import sqlalchemy as sa

    mapped = Path(kw["work"]) / "full" / "mapped.jsonl"
    engine = sa.create_engine(kw["store"])
    timed = 0.0
    n = 0
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        pg = engine.dialect.name == "postgresql"
        cur = raw.cursor()
        cur.execute("DROP TABLE IF EXISTS bench_bulk")
        cur.execute("CREATE TABLE bench_bulk (k TEXT PRIMARY KEY, v TEXT, data TEXT, raw TEXT)")
        raw.commit()
        with mapped.open("rb") as fh:
            for line in fh:
                page = orjson.loads(line)
                rows = [
                    (r[1], r[3], orjson.dumps(r[8]).decode(), orjson.dumps(r[9]).decode())
                    for r in page
                    if r[0] == ENTITY
                ]
                t0 = time.perf_counter()
                if pg:
                    with cur.copy("COPY bench_bulk (k, v, data, raw) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    cur.executemany("INSERT INTO bench_bulk VALUES (?, ?, ?, ?)", rows)
                raw.commit()
                timed += time.perf_counter() - t0
                n += len(rows)
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
    if kw["db"] == "postgres":
        dest = dlt.destinations.postgres(credentials="postgresql://postgres:unused@127.0.0.1:5432/test")
    else:
        dest = dlt.destinations.sqlalchemy(f"sqlite:///{Path(kw['work']) / 'dlt.db'}")
    pipe = dlt.pipeline(
        pipeline_name=f"mw_bench_{kw['db']}", destination=dest, dataset_name="dlt_bench",
        pipelines_dir=str(Path(kw["work"]) / "dlt"),
    )  # fmt: skip
    pipe.run(source)
    with pipe.sql_client() as client:
        n = client.execute_sql("SELECT count(*) FROM work_orders")[0][0]
    return {"records": n}


PHASES = {
    "read": phase_read,
    "bulk": phase_bulk,
    "millwright": phase_millwright,
    "incremental": phase_incremental,
    "dlt": phase_dlt,
}


def main() -> None:
    phase, kw = sys.argv[1], json.loads(sys.argv[2])
    started = time.perf_counter()
    result = PHASES[phase](kw)
    result.setdefault("seconds", time.perf_counter() - started)
    result.update(phase=phase, db=kw["db"], peak_mib=peak_mib())
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
