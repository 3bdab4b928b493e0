"""The sync contract at pipeline level: include/sync/pipeline.py + the real Maximo sandbox + a SQLite
store, no Airflow. Each test is one promise of the incremental contract (README). Tests that sync
through `sync` run twice: through the staged steps (extract, map_pages, load one after another) and
through include/sync/streaming.py (all three at once), the two shapes a sync DAG can have."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from connectors.base import Connector, SourceError, SourceSettings
from connectors.maximo import CONNECTOR as Maximo
from connectors.maximo.sandbox import start_sandbox
from include.cli import tools as cli
from include.config import ConnectionConfig
from include.model.timeutil import zone
from include.store import Store
from include.store import loader as store_loader
from include.store import schema as store_schema
from include.sync import pipeline, streaming

WO = "MXAPIWODETAIL"
KEY = "k-test"
_runs = itertools.count(1)


# ---------------------------------------------------------------- helpers


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'store.db'}")
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def sandbox() -> Iterator[Callable[..., Any]]:
    handles = []

    def start(**kw: Any):
        kw.setdefault("size", 60)
        url, handle = start_sandbox(0, apikey=KEY, **kw)
        handles.append(handle)
        return handle

    yield start
    for h in handles:
        h.stop()


def config(cid: str = "mx", **kw: Any) -> ConnectionConfig:
    return ConnectionConfig(id=cid, customer="acme", system="maximo", airflow_conn_id="unused",
                            entities=["work-orders"], **kw)  # fmt: skip


def connector(handle: Any, cfg: ConnectionConfig, max_retries: int = 5) -> Connector:
    settings = SourceSettings(
        connection_id=cfg.id, host=handle.url, credentials={"apikey": KEY},
        timezone=zone(cfg.source_timezone), page_size=cfg.page_size, max_retries=max_retries,
    )  # fmt: skip
    return Maximo(settings)


def plan(store: Store, cfg: ConnectionConfig, tmp: Path, run_type: str, start: datetime | None,
         end: datetime | None, entity: str) -> tuple[str, Any, Path]:  # fmt: skip
    """A new run's id, its window (`pipeline.plan_window`) and its staging folder."""
    run_id = f"run{next(_runs)}"
    window = pipeline.plan_window(
        store, cfg, entity, incremental=True, run_type=run_type,
        interval_start=start, interval_end=end,
    )  # fmt: skip
    return run_id, window, tmp / "staging" / cfg.id / entity / run_id


def extract_map(store: Store, cfg: ConnectionConfig, src: Connector, tmp: Path, *,
                run_type: str = "manual", start: datetime | None = None,
                end: datetime | None = None, entity: str = "work-orders") -> dict:  # fmt: skip
    """plan_window -> extract -> map_pages, as the DAG's first two tasks do."""
    run_id, window, out = plan(store, cfg, tmp, run_type, start, end, entity)
    extracted = pipeline.extract(src, entity, window, out)
    mapped = pipeline.map_pages(type(src), cfg, entity, extracted, out, store, run_id)
    mapped["run_id"] = run_id
    return mapped


def load(store: Store, cfg: ConnectionConfig, mapped: dict, **kw: Any) -> dict:
    return pipeline.load(store, cfg, "work-orders", mapped, run_id=mapped["run_id"],
                         incremental=True, path_factory=Path, **kw)  # fmt: skip


SHAPE = {"name": "staged"}


@pytest.fixture(autouse=True, params=["staged", "streaming"])
def shape(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test runs with `sync` going through either shape of the pipeline."""
    SHAPE["name"] = request.param
    yield request.param
    SHAPE["name"] = "staged"


def sync(store: Store, cfg: ConnectionConfig, src: Connector, tmp: Path, *,
         run_type: str = "manual", start: datetime | None = None,
         end: datetime | None = None, entity: str = "work-orders") -> dict:  # fmt: skip
    """One sync run, through the shape `shape` picked."""
    if SHAPE["name"] == "staged":
        mapped = extract_map(store, cfg, src, tmp, run_type=run_type, start=start, end=end,
                             entity=entity)  # fmt: skip
        return load(store, cfg, mapped)
    run_id, window, out = plan(store, cfg, tmp, run_type, start, end, entity)
    return streaming.sync_entity(
        src, cfg, entity, window, out, store, run_id, incremental=True, path_factory=Path
    )


def key_of(rec: dict) -> str:
    return f"{rec['siteid']}:{rec['wonum']}"


def source_records(handle: Any, before: datetime | None = None) -> dict[str, dict]:
    """The sandbox's current work orders (changedate < ``before``), by unified key."""
    table = handle.sandbox.table(WO)
    overlay, shadowed = table.snapshot()  # changed/added records; base records they replace
    records = [table.base(i) for i in range(table.base_count) if i not in shadowed] + overlay
    limit = before.timestamp() if before else float("inf")
    return {key_of(r): r for r in records if r["changedate"] < limit}


def stored(store: Store, cid: str = "mx", live_only: bool = True) -> dict[str, dict]:
    r = store_schema.records
    stmt = sa.select(r).where(r.c.connection_id == cid, r.c.entity == "work-orders")
    if live_only:
        stmt = stmt.where(r.c.deleted_at.is_(None))
    with store.engine.connect() as conn:
        rows = {row["key"]: dict(row) for row in conn.execute(stmt).mappings()}
    for row in rows.values():
        if isinstance(row["data"], str | bytes):  # SQLite hands JSON back as text
            row["data"] = orjson.loads(row["data"])
    return rows


def utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


# ---------------------------------------------------------------- the contract


def test_full_read_matches_the_source(store: Store, sandbox, tmp_path: Path) -> None:
    handle = sandbox(size=90)
    cfg = config(page_size=25)
    summary = sync(store, cfg, connector(handle, cfg), tmp_path)
    source = source_records(handle)
    assert summary["read"] == summary["mapped"] == summary["inserted"] == len(source) == 90
    assert set(stored(store)) == set(source)
    newest = max(r["changedate"] for r in source.values())
    assert store.get_cursor("mx", "work-orders").startswith(
        utc(newest).strftime("%Y-%m-%dT%H:%M:%S")
    )


def test_many_records_sharing_a_changedate_at_a_window_boundary(
    store: Store, sandbox, tmp_path: Path
) -> None:
    handle = sandbox(size=120)
    cfg = config(page_size=7)  # one changedate's records span several pages
    src = connector(handle, cfg)
    sync(store, cfg, src, tmp_path)  # the first run: a full read
    x = datetime(2025, 1, 1, tzinfo=UTC)  # 1-second resolution: these all share one changedate
    recs = list(source_records(handle).values())
    for rec in recs[:25]:
        handle.mutate(WO, (rec["siteid"], rec["wonum"]), changedate=x)

    def at_x() -> set[str]:
        return {
            k for k, r in stored(store).items() if r["data"]["updatedAt"] == "2025-01-01T00:00:00Z"
        }

    hour = timedelta(hours=1)
    sync(store, cfg, src, tmp_path, run_type="scheduled", start=x - hour, end=x)
    assert at_x() == set()  # [start, end): the boundary belongs to the next window
    sync(store, cfg, src, tmp_path, run_type="scheduled", start=x, end=x + hour)
    assert at_x() == {key_of(r) for r in recs[:25]}
    # ten more commits land with the same changedate after that read (a strict > would lose them)
    for rec in recs[25:35]:
        handle.mutate(WO, (rec["siteid"], rec["wonum"]), changedate=x)
    sync(store, cfg, src, tmp_path, run_type="scheduled", start=x + hour, end=x + 2 * hour)
    assert at_x() == {key_of(r) for r in recs[:35]}
    assert set(stored(store)) == set(source_records(handle))


def test_killed_load_rerun_leaves_the_store_identical(
    store: Store, sandbox, tmp_path: Path
) -> None:
    handle = sandbox(size=100)
    cfg = config(page_size=20)
    mapped = extract_map(store, cfg, connector(handle, cfg), tmp_path)
    calls = itertools.count(1)

    def kill_on_third_batch(_conn: Any) -> None:
        if next(calls) == 3:
            raise KeyboardInterrupt("killed mid-load")

    with pytest.raises(KeyboardInterrupt):
        load(store, cfg, mapped, batch_size=30, guard=kill_on_third_batch)
    assert 0 < len(stored(store)) < 100
    assert store.get_cursor("mx", "work-orders") is None  # moves only with the last batch
    load(store, cfg, mapped, batch_size=30)
    load(store, cfg, mapped, batch_size=30)  # and once more: idempotent

    reference = Store(f"sqlite:///{tmp_path / 'reference.db'}")
    reference.migrate()
    try:
        load(reference, cfg, mapped)
        strip = lambda rows: {k: {**v, "synced_at": None} for k, v in rows.items()}  # noqa: E731
        assert strip(stored(store)) == strip(stored(reference))
        assert store.get_cursor("mx", "work-orders") == reference.get_cursor("mx", "work-orders")
        assert store.count("mx", "work-orders") == reference.count("mx", "work-orders") == 100
    finally:
        reference.close()


def test_an_older_version_never_overwrites_a_newer_one(
    store: Store, sandbox, tmp_path: Path
) -> None:
    handle = sandbox()
    cfg = config()
    src = connector(handle, cfg)
    first = extract_map(store, cfg, src, tmp_path)
    load(store, cfg, first)
    rec = next(iter(source_records(handle).values()))
    handle.mutate(WO, (rec["siteid"], rec["wonum"]), description="the newer version")
    sync(store, cfg, src, tmp_path)
    cursor = store.get_cursor("mx", "work-orders")
    stale = load(store, cfg, first)  # a late, older delivery of the same records
    assert stale["updated"] == 0 and stale["inserted"] == 0
    assert stored(store)[key_of(rec)]["data"]["title"] == "the newer version"
    assert store.get_cursor("mx", "work-orders") == cursor  # never backwards


def test_a_paused_week_is_caught_up_without_a_gap(store: Store, sandbox, tmp_path: Path) -> None:
    handle = sandbox()
    cfg = config(page_size=25)
    src = connector(handle, cfg)
    sync(store, cfg, src, tmp_path)
    cursor = store.get_cursor("mx", "work-orders")
    # the DAG is paused for a week while the source changes every day
    paused = datetime(2025, 3, 1, tzinfo=UTC)
    changed = list(source_records(handle).values())[:21]
    for n, rec in enumerate(changed):
        when = paused + timedelta(hours=8 * n)
        handle.mutate(WO, (rec["siteid"], rec["wonum"]), changedate=when, description=f"v{n}")
    # unpaused with catchup off: only the latest interval runs, and it still reads the whole week
    resumed = paused + timedelta(weeks=1, hours=1)
    mapped = extract_map(store, cfg, src, tmp_path, run_type="scheduled",
                         start=resumed - timedelta(hours=1), end=resumed)  # fmt: skip
    assert mapped["window"]["start"] < cursor
    summary = load(store, cfg, mapped)
    assert summary["updated"] == 21
    rows = stored(store)
    assert all(rows[key_of(r)]["data"]["title"] == f"v{n}" for n, r in enumerate(changed))


def test_backfill_rereads_exactly_its_range_and_keeps_the_cursor(
    store: Store, sandbox, tmp_path: Path
) -> None:
    handle = sandbox(size=300)
    cfg = config(page_size=50)
    src = connector(handle, cfg)
    sync(store, cfg, src, tmp_path)
    cursor = store.get_cursor("mx", "work-orders")
    start, end = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC)
    mapped = extract_map(store, cfg, src, tmp_path, run_type="backfill", start=start, end=end)
    expected = {k for k, r in source_records(handle, before=end).items()
                if r["changedate"] >= start.timestamp()}  # fmt: skip
    assert mapped["window"] == {"start": "2024-03-01T00:00:00Z", "end": "2024-04-01T00:00:00Z"}
    assert mapped["read"] == len(expected) > 0
    summary = load(store, cfg, mapped)
    assert summary["unchanged"] == len(expected)
    assert store.get_cursor("mx", "work-orders") == cursor


def test_a_vanished_record_is_soft_deleted_by_reconciliation(
    store: Store, sandbox, tmp_path: Path
) -> None:
    handle = sandbox()
    cfg = config()
    src = connector(handle, cfg)
    sync(store, cfg, src, tmp_path)
    gone = list(source_records(handle))[:3]
    for key in gone:
        handle.delete(WO, tuple(key.split(":")))
    assert pipeline.reconcile_from_source(store, cfg, src, "work-orders") == 3
    assert store.count("mx", "work-orders") == 57
    everything = stored(store, live_only=False)
    for key in gone:
        assert everything[key]["deleted_at"] is not None
    assert set(stored(store)) == set(source_records(handle))
    assert pipeline.reconcile_from_source(store, cfg, src, "work-orders") == 0  # idempotent


def test_a_first_full_read_reconciles_what_another_run_stored_meanwhile(
    store: Store, sandbox, tmp_path: Path
) -> None:
    """Into an empty entity a full read has nothing to reconcile, and skips it, unless a record
    it did not insert appeared meanwhile (here: stored by a second writer inside the first
    batch's transaction): that one is absent from the source and is soft-deleted."""
    handle = sandbox()
    cfg = config()
    summary = sync(store, cfg, connector(handle, cfg), tmp_path / "clean")
    assert (summary["inserted"], summary["deleted"]) == (60, 0)

    other = Store(f"sqlite:///{tmp_path / 'other.db'}")
    other.migrate()
    calls = itertools.count()

    def second_writer(conn: sa.Connection) -> None:
        if next(calls) == 0:
            stray = ("GONE:1", "1", None, None, '{"key":"GONE:1"}', None, None, None, None)
            store_loader.insert_new(conn, "mx", "work-orders", [stray], "2024-01-01T00:00:00Z")
            store_loader.add_counts(conn, "mx", "work-orders", 1, 0)

    src = connector(handle, cfg)
    if SHAPE["name"] == "staged":
        mapped = extract_map(other, cfg, src, tmp_path)
        summary = load(other, cfg, mapped, guard=second_writer)
    else:
        run_id, window, out = plan(other, cfg, tmp_path, "manual", None, None, "work-orders")
        summary = streaming.sync_entity(
            src, cfg, "work-orders", window, out, other, run_id, incremental=True,
            path_factory=Path, guard=second_writer,
        )  # fmt: skip
    assert (summary["inserted"], summary["deleted"]) == (60, 1)
    assert set(stored(other)) == set(source_records(handle))
    assert stored(other, live_only=False)["GONE:1"]["deleted_at"] is not None
    other.close()


def test_naive_time_source_across_a_dst_change(store: Store, sandbox, tmp_path: Path) -> None:
    handle = sandbox(naive_times=True, timezone="America/New_York")
    cfg = config(source_timezone="America/New_York", overlap="2h")
    src = connector(handle, cfg)
    sync(store, cfg, src, tmp_path)
    # New York falls back on 2025-11-02: 01:00-02:00 local happens twice (EDT, then EST).
    moments = {  # UTC instant of the change -> the UTC time the store must show
        "2025-11-02T04:30:00Z": "2025-11-02T04:30:00Z",  # 00:30 EDT
        "2025-11-02T05:30:00Z": "2025-11-02T05:30:00Z",  # 01:30 EDT
        "2025-11-02T06:30:00Z": "2025-11-02T05:30:00Z",  # 01:30 EST: ambiguous, first (fold=0)
        "2025-11-02T07:30:00Z": "2025-11-02T07:30:00Z",  # 02:30 EST
        "2025-11-02T09:00:00Z": "2025-11-02T09:00:00Z",  # 04:00 EST
    }
    picked = list(source_records(handle).values())[:5]
    for rec, when in zip(picked, moments, strict=True):
        handle.mutate(WO, (rec["siteid"], rec["wonum"]),
                      changedate=datetime.fromisoformat(when.replace("Z", "+00:00")))  # fmt: skip
    split = datetime(2025, 11, 2, 6, 0, tzinfo=UTC)  # a window boundary inside the DST change
    six = timedelta(hours=6)
    sync(store, cfg, src, tmp_path, run_type="scheduled", start=split - six, end=split)
    sync(store, cfg, src, tmp_path, run_type="scheduled", start=split, end=split + six)
    rows = stored(store)
    for rec, expected in zip(picked, moments.values(), strict=True):
        assert rows[key_of(rec)]["data"]["updatedAt"] == expected
    assert set(rows) == set(source_records(handle))


def test_injected_faults_end_in_success_through_retries(
    store: Store, sandbox, tmp_path: Path
) -> None:
    handle = sandbox(size=120, fail_429=0.15, fail_500=0.15, truncate=0.1, retry_after=0.01)
    cfg = config(page_size=15)
    summary = sync(store, cfg, connector(handle, cfg, max_retries=10), tmp_path)
    assert summary["inserted"] == 120
    assert set(stored(store)) == set(source_records(handle))


def test_a_failing_source_fails_cleanly_with_the_cursor_unchanged(
    store: Store, sandbox, tmp_path: Path
) -> None:
    good = sandbox()
    cfg = config()
    sync(store, cfg, connector(good, cfg), tmp_path)
    cursor, before = store.get_cursor("mx", "work-orders"), stored(store)
    rec = next(iter(source_records(good).values()))
    good.mutate(WO, (rec["siteid"], rec["wonum"]), description="never seen")
    good.sandbox.faults.rates["500"] = 1.0  # every request now fails with 500
    with pytest.raises(SourceError, match="maximo"):
        sync(store, cfg, connector(good, cfg, max_retries=1), tmp_path)
    assert store.get_cursor("mx", "work-orders") == cursor
    assert stored(store) == before


def test_quarantine_threshold_list_and_reprocess(
    store: Store, sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = sandbox()
    bad = list(source_records(handle).values())[:2]
    for rec in bad:  # schema drift: a number where the unified model wants text
        handle.mutate(WO, (rec["siteid"], rec["wonum"]), description=12345)
    cfg = config(quarantine_threshold=0.01)
    with pytest.raises(pipeline.QuarantineThresholdExceeded, match="2 of 60"):
        sync(store, cfg, connector(handle, cfg), tmp_path)
    assert len(stored(store)) == 58  # the good records were loaded anyway
    items = store.quarantine_list("mx", "work-orders")
    assert {i["remote_key"] for i in items} == {key_of(r) for r in bad}
    assert all("title: Input should be a valid string" in i["reason"] for i in items)

    # under the threshold the run succeeds
    assert sync(store, config("mx2", quarantine_threshold=0.05), connector(handle, cfg),
                tmp_path)["quarantined"] == 2  # fmt: skip

    # the mapping is fixed (title converted to text); re-process the quarantine
    spec = Maximo.entities["work-orders"]
    fixed_fields = {**spec.mapping.fields, "title": {"str": "description"}}
    fixed = dataclasses.replace(
        spec, mapping=dataclasses.replace(spec.mapping, fields=fixed_fields)
    )
    monkeypatch.setitem(Maximo.entities, "work-orders", fixed)
    result = cli.reprocess(store, cfg, "work-orders")
    assert result == {
        "connection": "mx", "source": "stored", "reprocessed": 2, "gone": 0, "still_failing": 0}  # fmt: skip
    assert len(stored(store)) == 60
    assert store.quarantine_list("mx", "work-orders") == []


def test_a_fixed_source_clears_the_quarantine_on_the_next_run(
    store: Store, sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A record quarantined by one run is resolved when a later run loads it (the source was
    fixed); only its entry: another still-bad record stays listed."""
    handle = sandbox()
    bad = list(source_records(handle).values())[:2]
    for rec in bad:
        handle.mutate(WO, (rec["siteid"], rec["wonum"]), description=12345)
    cfg = config(quarantine_threshold=0.5)
    with caplog.at_level("WARNING", logger="include.sync.load"):
        summary = sync(store, cfg, connector(handle, cfg), tmp_path)
    assert (summary["quarantined"], summary["quarantine_open"]) == (2, 2)
    # a green run that quarantined records says so in its task log, as a warning
    [warning] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "2 of 60 records quarantined in this run" in warning
    assert "millwright quarantine list --connection mx --entity work-orders" in warning
    assert len(store.quarantine_list("mx")) == 2
    fixed = bad[0]
    handle.mutate(WO, (fixed["siteid"], fixed["wonum"]), description="fixed at the source")
    sync(store, cfg, connector(handle, cfg), tmp_path)  # incremental: reads the change
    # the other one, re-read by the overlap, is quarantined again: one open entry, the latest
    assert [i["remote_key"] for i in store.quarantine_list("mx")] == [key_of(bad[1])]
    assert stored(store)[key_of(fixed)]["data"]["title"] == "fixed at the source"
    resolved = store.quarantine_list("mx", include_resolved=True)
    assert [i["remote_key"] for i in resolved if i["resolved_at"]][0] == key_of(bad[0])


def test_reprocess_reads_the_records_again_from_the_source(
    store: Store, sandbox, tmp_path: Path
) -> None:
    """`reprocess` with the source: a record fixed there loads and clears, one the source no
    longer has is resolved as gone, one still bad stays (and `reprocess` says so)."""
    handle = sandbox()
    bad = list(source_records(handle).values())[:3]
    for rec in bad:
        handle.mutate(WO, (rec["siteid"], rec["wonum"]), description=12345)
    cfg = config(quarantine_threshold=0.5)
    src = connector(handle, cfg)
    sync(store, cfg, src, tmp_path)
    assert cli.reprocess(store, cfg, "work-orders")["still_failing"] == 3  # stored raw: still bad
    handle.mutate(WO, (bad[0]["siteid"], bad[0]["wonum"]), description="fixed")
    handle.delete(WO, (bad[1]["siteid"], bad[1]["wonum"]))
    result = cli.reprocess(store, cfg, "work-orders", src)
    assert result == {
        "connection": "mx", "source": "source", "reprocessed": 1, "gone": 1, "still_failing": 1}  # fmt: skip
    assert [i["remote_key"] for i in store.quarantine_list("mx")] == [key_of(bad[2])]
    assert stored(store)[key_of(bad[0])]["data"]["title"] == "fixed"


def test_two_instances_of_one_system_stay_separate(store: Store, sandbox, tmp_path: Path) -> None:
    us, eu = sandbox(seed=1), sandbox(seed=2)
    cfg_us, cfg_eu = config("acme-us"), config("acme-eu")
    sync(store, cfg_us, connector(us, cfg_us), tmp_path)
    sync(store, cfg_eu, connector(eu, cfg_eu), tmp_path)
    rows_us, rows_eu = stored(store, "acme-us"), stored(store, "acme-eu")
    assert set(rows_us) == set(source_records(us)) and set(rows_eu) == set(source_records(eu))
    shared = set(rows_us) & set(rows_eu)  # same natural keys in both instances
    assert shared and any(rows_us[k]["data"] != rows_eu[k]["data"] for k in shared)
    key = next(iter(shared))
    us.delete(WO, tuple(key.split(":")))
    assert pipeline.reconcile_from_source(store, cfg_us, connector(us, cfg_us), "work-orders") == 1
    assert key not in stored(store, "acme-us") and key in stored(store, "acme-eu")
    assert store.get_cursor("acme-us", "work-orders") and store.get_cursor("acme-eu", "work-orders")
