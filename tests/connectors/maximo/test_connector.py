"""MaximoConnector against the sandbox: paging, windows at shared changedates, auth, faults,
time zones across DST, key listings and status domains."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import SourceError, Window
from connectors.maximo.sandbox.data import T0
from include.mapping import CompiledMapping
from tests.connectors.maximo.conftest import NY, connector


def keys(pages) -> list[tuple[str, str]]:
    return [(r["siteid"], r["wonum"]) for page in pages for r in page]


def test_full_read_pages_to_the_end_in_order(shared):
    url, h = shared
    with connector(url, page_size=70) as c:
        pages = list(c.read("work-orders", Window()))
    assert [len(p) for p in pages] == [70] * 8 + [40]
    got = keys(pages)
    assert len(got) == len(set(got)) == 600
    table = h.sandbox.table("MXAPIWODETAIL")
    expected = [(r["siteid"], r["wonum"]) for r in map(table.base, range(600))]
    assert got == expected  # ordered by changedate, then key


def test_windows_share_no_boundary_rows_and_lose_none(sandbox):
    url, h = sandbox(size=600)
    wo = h.sandbox.table("MXAPIWODETAIL").os
    boundary = datetime.fromtimestamp(wo.time_of(300), UTC)  # six base records share it
    start, end = boundary - timedelta(days=30), boundary + timedelta(days=30)
    # overlay records exactly on the boundary too (changed at that second)
    h.mutate("MXAPIWODETAIL", ("BEDFORD", "1000001"), changedate=boundary)
    h.add("MXAPIWODETAIL", {"wonum": "X1", "siteid": "NASHUA"}, changedate=boundary)
    with connector(url, page_size=4) as c:
        before = keys(c.read("work-orders", Window(start, boundary)))
        after = keys(c.read("work-orders", Window(boundary, end)))
        whole = keys(c.read("work-orders", Window(start, end)))
    table = h.sandbox.table("MXAPIWODETAIL")
    on_boundary = {(r["siteid"], r["wonum"]) for r in map(table.base, range(300, 306))}
    on_boundary |= {("BEDFORD", "1000001"), ("NASHUA", "X1")}
    assert not set(before) & set(after)
    assert sorted(before + after) == sorted(whole) and len(whole) == len(set(whole))
    assert set(after[:8]) == on_boundary  # inclusive start: all eight, first
    assert after[:8] == sorted(after[:8])  # then ordered by key
    assert before and table.os.time_of(299) < wo.time_of(300)


def test_window_is_rendered_in_the_source_zone_with_offset(shared):
    url, _ = shared
    with connector(url) as c:
        w = Window(datetime(2024, 3, 10, 6, 59, 59, tzinfo=UTC),
                   datetime(2024, 3, 10, 7, 0, 0, 500000, tzinfo=UTC))  # fmt: skip
        assert c.where("work-orders", w) == (
            'changedate>="2024-03-10T01:59:59-05:00" and changedate<"2024-03-10T03:00:01-04:00"'
        )  # end rounded up to the next second: 1 s resolution loses nothing
    with connector(url, naive_times=True) as c:
        assert c.where("work-orders", w) == (
            'changedate>="2024-03-10T01:59:59" and changedate<"2024-03-10T03:00:01"'
        )


def test_snapshot_entities_ignore_windows(shared):
    url, h = shared
    with connector(url) as c:
        w = Window(datetime(2024, 6, 1, tzinfo=UTC), datetime(2024, 6, 2, tzinfo=UTC))
        n = sum(len(p) for p in c.read("materials", w))
    assert n == h.sandbox.world.n_items


def test_401_is_a_source_error_without_retries(shared):
    url, _ = shared
    with connector(url, apikey="wrong") as c:
        with pytest.raises(SourceError) as exc:
            list(c.read("assets", Window()))
        assert exc.value.status == 401 and c.http.retries == 0
    assert "BMXAA7901E" in str(exc.value) and "wrong" not in str(exc.value)


def test_page_size_above_server_maximum_is_a_clear_error(sandbox):
    url, _ = sandbox(size=30, max_page_size=50)
    with connector(url, page_size=100, max_page_size=1000) as c, pytest.raises(SourceError) as exc:
        list(c.read("work-orders", Window()))
    err = exc.value
    assert err.system == "maximo" and err.status == 400
    assert "/maximo/api/os/mxapiwodetail" in err.endpoint and "maximum page size 50" in str(err)
    with connector(url, page_size=100, max_page_size=50) as c:  # configured right: clamped
        assert sum(len(p) for p in c.read("work-orders", Window())) == 30


def test_faults_end_in_success_through_retries(sandbox):
    url, h = sandbox(size=300, seed=5, fail_429=0.15, retry_after=0, fail_500=0.15, truncate=0.15)
    with connector(url, page_size=20, max_retries=12) as c:
        got = keys(c.read("work-orders", Window()))
        retries = c.http.retries
    assert len(got) == len(set(got)) == 300
    counts = h.sandbox.faults.counts
    assert counts["429"] and counts["500"] and counts["truncate"]
    assert retries == counts["429"] + counts["500"] + counts["truncate"]


def test_persistent_500_names_system_endpoint_and_status(sandbox):
    url, _ = sandbox(size=10, fail_500=1.0)
    with connector(url, max_retries=2) as c, pytest.raises(SourceError) as exc:
        list(c.read("work-orders", Window()))
    e = exc.value
    assert (e.system, e.status) == ("maximo", 500)
    assert e.endpoint == "GET /maximo/api/os/mxapiwodetail"
    assert "BMXAA4214E" in str(e) and "gave up after 2 retries" in str(e)


DST = [  # (UTC instant, naive New York wall time)
    (datetime(2024, 3, 10, 6, 59, 59, tzinfo=UTC), "2024-03-10T01:59:59"),  # last EST second
    (datetime(2024, 3, 10, 7, 0, 0, tzinfo=UTC), "2024-03-10T03:00:00"),  # first EDT second
    (datetime(2024, 11, 3, 5, 30, tzinfo=UTC), "2024-11-03T01:30:00"),  # 01:30 EDT (first)
    (datetime(2024, 11, 3, 7, 30, tzinfo=UTC), "2024-11-03T02:30:00"),  # 02:30 EST
]


@pytest.mark.parametrize("naive", [True, False])
def test_source_times_across_dst_map_to_correct_utc(sandbox, naive):
    url, h = sandbox(data={}, naive_times=naive)
    for n, (instant, _) in enumerate(DST):
        h.add("MXAPIWODETAIL", {"wonum": f"D{n}", "siteid": "S", "changedate": instant})
    with connector(url, naive_times=naive) as c:
        rows = [r for p in c.read("work-orders", Window()) for r in p]
        cm = CompiledMapping(c.entities["work-orders"].mapping, NY)
        mapped = {r["wonum"]: (r["changedate"], cm(r).data["updatedAt"]) for r in rows}
        # a window across the spring-forward gap holds exactly the two records either side of it
        gap = Window(DST[0][0], DST[1][0] + timedelta(seconds=1))
        assert sorted(keys(c.read("work-orders", gap))) == [("S", "D0"), ("S", "D1")]
    for n, (instant, wall) in enumerate(DST):
        raw, utc = mapped[f"D{n}"]
        assert raw.startswith(wall) and (naive == (len(raw) == 19))
        assert utc == instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_naive_time_in_the_repeated_hour_maps_to_its_first_occurrence(sandbox):
    """Documented limit: without an offset 01:30 on fall-back day is ambiguous; we read the first
    occurrence (EDT), one hour early for a record written at 01:30 EST. The overlap absorbs it."""
    url, h = sandbox(data={}, naive_times=True)
    h.add("MXAPIWODETAIL", {"wonum": "AMB", "siteid": "S",
                            "changedate": datetime(2024, 11, 3, 6, 30, tzinfo=UTC)})  # fmt: skip
    with connector(url, naive_times=True) as c:
        (row,) = [r for p in c.read("work-orders", Window()) for r in p]
        data = CompiledMapping(c.entities["work-orders"].mapping, NY)(row).data
    assert (
        row["changedate"] == "2024-11-03T01:30:00" and data["updatedAt"] == "2024-11-03T05:30:00Z"
    )


def test_read_keys_lists_only_keys_and_sees_hard_deletes(sandbox):
    url, h = sandbox(size=120)
    with connector(url) as c:
        before = [r for p in c.read_keys("work-orders") for r in p]
        h.delete("MXAPIWODETAIL", ("NASHUA", "1000002"))
        after = [r for p in c.read_keys("work-orders") for r in p]
        sites = [r for p in c.read_keys("stocks") for r in p]
    assert len(before) == 120 and len(after) == 119
    assert set(before[0]) == {"href", "_rowstamp", "siteid", "wonum"}
    assert {"siteid": "NASHUA", "wonum": "1000002"} not in [
        {"siteid": r["siteid"], "wonum": r["wonum"]} for r in after
    ]
    assert len(sites) == h.sandbox.table("MXAPIINVENTORY").base_count


def test_statuses_from_the_synonym_domain(shared):
    url, _ = shared
    with connector(url) as c:
        wo = c.statuses("work-orders")
        po = c.statuses("purchase-orders")
        assert c.statuses("assets") is None
    assert wo is not None and po is not None
    assert {s["code"] for s in wo} == {"WAPPR", "APPR", "INPRG", "WMATL", "COMP", "CLOSE", "CAN"}
    assert {s["key"]: s["name"] for s in po}["HOLD"] == "On Hold"


def test_every_entity_reads(shared):
    url, h = shared
    world = h.sandbox.world
    with connector(url, page_size=500) as c:
        counts = {e: sum(len(p) for p in c.read(e, Window())) for e in c.entities}
        assert c.count("assets") == world.n_assets
    assert counts["work-orders"] == 600 and counts["sites"] == 3
    assert counts["meter-readings"] == world.n_readings and counts["teams"] == world.n_groups


def test_bad_credentials_config_is_named(shared):
    with pytest.raises(ValueError, match="'apikey' is missing"):
        connector(shared[0], apikey="")


def test_first_base_time_is_what_windows_expect():
    assert datetime.fromtimestamp(T0, UTC) == datetime(2024, 1, 1, tzinfo=UTC)
