"""What only the streaming shape (include/sync/streaming.py) has to promise, beyond the contract tests
of tests/test_pipeline.py (which run through both shapes): a stream killed mid-load and run again
leaves the store identical, a retry after extract and map finished never reads the source again,
worker processes map exactly what this process maps, and a dead worker pool is survived."""

from __future__ import annotations

import itertools
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import orjson
import pytest

from include.config import ConnectionConfig
from include.store import Store
from include.sync import pipeline, streaming
from tests.test_pipeline import (  # noqa: F401 - fixtures
    WO,
    config,
    connector,
    key_of,
    sandbox,
    source_records,
    store,
    stored,
)


def stream(store: Store, cfg: ConnectionConfig, src: Any, out: Path, **kw: Any) -> dict:
    window = pipeline.plan_window(
        store, cfg, "work-orders", incremental=True, run_type="manual",
        interval_start=None, interval_end=None,
    )  # fmt: skip
    return streaming.sync_entity(
        src, cfg, "work-orders", window, out, store, out.name, incremental=True,
        path_factory=Path, **kw,
    )  # fmt: skip


def test_a_killed_stream_run_again_leaves_the_store_identical(
    store: Store, sandbox, tmp_path: Path
) -> None:
    handle = sandbox(size=100)
    cfg = config(page_size=20)
    calls = itertools.count(1)

    def kill_on_third_batch(_conn: Any) -> None:
        if next(calls) == 3:
            raise KeyboardInterrupt("killed mid-load")

    with pytest.raises(KeyboardInterrupt):
        stream(store, cfg, connector(handle, cfg), tmp_path / "try1", batch_size=30,
               guard=kill_on_third_batch)  # fmt: skip
    assert 0 < len(stored(store)) < 100
    assert store.get_cursor("mx", "work-orders") is None  # moves only with the last batch
    summary = stream(store, cfg, connector(handle, cfg), tmp_path / "run2", batch_size=30)
    assert summary["read"] == 100 and summary["inserted"] + summary["unchanged"] == 100
    again = stream(store, cfg, connector(handle, cfg), tmp_path / "run3", batch_size=30)
    assert again["inserted"] == again["updated"] == 0  # idempotent

    reference = Store(f"sqlite:///{tmp_path / 'reference.db'}")
    reference.migrate()
    try:
        stream(reference, cfg, connector(handle, cfg), tmp_path / "ref")
        strip = {"synced_at"}
        mine = {k: {c: v for c, v in r.items() if c not in strip} for k, r in stored(store).items()}
        theirs = {
            k: {c: v for c, v in r.items() if c not in strip} for k, r in stored(reference).items()
        }
        assert mine == theirs
        assert store.get_cursor("mx", "work-orders") == reference.get_cursor("mx", "work-orders")
    finally:
        reference.close()


def test_a_retry_after_a_complete_read_never_reads_the_source_again(
    store: Store, sandbox, tmp_path: Path
) -> None:
    handle = sandbox(size=80)
    cfg = config(page_size=20)
    out = tmp_path / "run"

    calls = itertools.count(1)

    def db_down_at_the_end(_conn: Any) -> None:
        if next(calls) >= 3:  # batches 1-2 land; the last one (with the cursor) fails
            raise RuntimeError("database went away")

    with pytest.raises(RuntimeError, match="went away"):
        stream(store, cfg, connector(handle, cfg), out, batch_size=30, guard=db_down_at_the_end)
    assert (out / streaming.MARKER).exists()
    assert store.get_cursor("mx", "work-orders") is None
    handle.stop()  # the source is gone: the retry must not need it
    summary = stream(store, cfg, connector(handle, cfg), out, batch_size=30)
    assert summary["read"] == summary["mapped"] == 80
    assert set(stored(store)) == set(source_records(handle))
    assert store.get_cursor("mx", "work-orders") is not None


def test_a_source_failing_mid_stream_leaves_the_cursor_and_no_resume_marker(
    store: Store, sandbox, tmp_path: Path
) -> None:
    handle = sandbox(size=100)
    cfg = config(page_size=10)
    src = connector(handle, cfg, max_retries=1)
    pages = itertools.count(1)
    read = src.read

    def failing_read(entity: str, window: Any):
        for page in read(entity, window):
            if next(pages) == 6:
                handle.sandbox.faults.rates["500"] = 1.0
            yield page

    src.read = failing_read  # type: ignore[method-assign]
    with pytest.raises(Exception, match="maximo"):
        stream(store, cfg, src, tmp_path / "run", batch_size=20)
    assert store.get_cursor("mx", "work-orders") is None
    assert not (tmp_path / "run" / streaming.MARKER).exists()
    assert len(stored(store)) <= 60  # what was loaded is real source data; nothing more


def test_worker_processes_map_exactly_what_this_process_maps(
    store: Store, sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = sandbox(size=300)
    cfg = config(page_size=25, custom_fields={"work-orders": {"crew": "crewid"}})
    bad = next(iter(source_records(handle).values()))
    handle.mutate(WO, (bad["siteid"], bad["wonum"]), description=12345)  # one to quarantine
    monkeypatch.setattr(streaming, "POOL_AFTER_BYTES", 1)  # the pool starts at once
    pooled = stream(store, cfg, connector(handle, cfg), tmp_path / "pool", workers=2)
    other = Store(f"sqlite:///{tmp_path / 'other.db'}")
    other.migrate()
    try:
        alone = stream(other, cfg, connector(handle, cfg), tmp_path / "one", workers=1)
        assert {k: r["data"] for k, r in stored(store).items()} == {
            k: r["data"] for k, r in stored(other).items()
        }
    finally:
        other.close()
    for key in ("read", "mapped", "quarantined", "inserted"):
        assert pooled[key] == alone[key], key
    assert pooled["quarantined"] == 1 and pooled["mapped"] == 299
    pool_keys = (tmp_path / "pool" / "keys.txt").read_bytes()
    assert pool_keys == (tmp_path / "one" / "keys.txt").read_bytes()


def test_a_dead_worker_pool_falls_back_to_mapping_here(sandbox, tmp_path: Path) -> None:
    handle = sandbox(size=60)
    cfg = config(page_size=10)
    src = connector(handle, cfg)
    from connectors.base import Window

    pages = [orjson.dumps(page) for page in src.read("work-orders", Window())]
    mapper = streaming._OrderedMapper(type(src), cfg, "work-orders", workers=2)
    expected = pipeline._map_lines("work-orders", mapper.cm, pages[:2])
    broken: Future = Future()
    broken.set_exception(BrokenProcessPool("a worker died"))
    mapper.flight.append((broken, pages[:2]))
    mapper.flight.append((broken, pages[2:4]))
    first = mapper._next()
    assert first.pages == expected.pages
    assert mapper.max_workers == 1 and mapper.pool is None
    second = mapper._next()  # the rest of the flight was mapped here too, in order
    assert second.mapped == 20
    assert [r.key for p in second.pages for r in p["work-orders"]] == [
        key_of(rec) for line in pages[2:4] for rec in orjson.loads(line)
    ]


def test_raw_is_each_record_as_read_and_pages_jsonl_is_unchanged(
    store: Store, sandbox, tmp_path: Path
) -> None:
    """The streaming shape stages the pages and stores each record's ``raw`` exactly as the
    staged shape does: ``pages.jsonl`` one JSON line per page, ``raw`` each record's JSON."""
    handle = sandbox(size=50)
    cfg = config(page_size=20)
    stream(store, cfg, connector(handle, cfg), tmp_path / "s")
    src = connector(handle, cfg)
    from connectors.base import Window

    pages = list(src.read("work-orders", Window()))
    staged_lines = b"".join(orjson.dumps(p) + b"\n" for p in pages)
    assert (tmp_path / "s" / "pages.jsonl").read_bytes() == staged_lines
    raws = {key_of(r): orjson.dumps(r).decode() for p in pages for r in p}
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT key, raw FROM records").all()
    assert dict(rows) == raws
