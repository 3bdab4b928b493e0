"""The connector against the sandbox: paging, windows, snapshots, limits, faults, errors, fields."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from connectors.base import SourceError, Window
from connectors.maintainx.sandbox import start_sandbox
from connectors.maintainx.sandbox.data import GROUP, parse_ms
from include.mapping import CompiledMapping
from include.model import list_adapter
from tests.connectors.maintainx.helpers import connector

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sandbox():
    url, handle = start_sandbox(seed=7, size=3000)
    yield url, handle
    handle.stop()


def _ids(pages) -> list[int]:
    return [r["id"] for page in pages for r in page]


def test_cursor_paging_reads_every_work_order_once(sandbox):
    url, handle = sandbox
    with connector(url, page_size=200) as c:
        pages = list(c.read("work-orders", Window()))
    ids = _ids(pages)
    assert len(pages) == 15 and all(len(p) == 200 for p in pages)
    assert len(ids) == len(set(ids)) == 3000
    stamps = [r["updatedAt"] for p in pages for r in p]
    assert stamps == sorted(stamps)  # sort=updatedAt


def test_adjacent_windows_split_a_shared_timestamp_without_loss_or_duplicates(sandbox):
    url, handle = sandbox
    coll = handle.world.collections["/workorders"]
    boundary_ms = coll.base_updated(700)  # GROUP records share exactly this updatedAt
    sharing = [i for i in range(690, 720) if coll.base_updated(i) == boundary_ms]
    assert len(sharing) == GROUP
    b = datetime.fromtimestamp(boundary_ms / 1000, UTC)
    w1 = Window(b - timedelta(days=3), b)
    w2 = Window(b, b + timedelta(days=3))
    with connector(url, page_size=5) as c:  # small pages: the boundary group spans pages
        first, second = _ids(c.read("work-orders", w1)), _ids(c.read("work-orders", w2))
    assert not set(first) & set(second)
    boundary_ids = {coll.id_of(i) for i in sharing}
    assert boundary_ids <= set(second) and not boundary_ids & set(first)
    lo, hi = parse_ms(handle.record("/workorders", first[0])["updatedAt"]), boundary_ms
    expected = {
        coll.id_of(i)
        for i in range(coll.size)
        if b.timestamp() * 1000 - 3 * 86_400_000
        <= coll.updated_ms(i)
        < b.timestamp() * 1000 + 3 * 86_400_000  # fmt: skip
    }
    assert set(first) | set(second) == expected and lo < hi


def test_changed_record_moves_to_the_window_of_its_new_updated_at(sandbox):
    url, handle = sandbox
    rid = handle.world.collections["/workorders"].id_of(5)
    before = datetime.now(UTC) - timedelta(seconds=1)
    handle.change("/workorders", rid, title="Changed title")
    with connector(url) as c:
        recent = [r for p in c.read("work-orders", Window(before, datetime.now(UTC) + timedelta(seconds=1))) for r in p]  # fmt: skip
    assert [r["id"] for r in recent] == [rid] and recent[0]["title"] == "Changed title"


@pytest.mark.parametrize(("entity", "count_path"), [("locations", "/locations"), ("vendors", "/vendors"), ("users", "/users")])  # fmt: skip
def test_snapshots_read_everything_whatever_the_window(sandbox, entity, count_path):
    url, handle = sandbox
    now = datetime.now(UTC)
    with connector(url, page_size=4) as c:
        ids = _ids(c.read(entity, Window(now - timedelta(minutes=5), now)))
    assert len(ids) == len(set(ids)) == handle.world.collections[count_path].size
    assert not c.entities[entity].incremental


def test_rate_limit_remaining_zero_waits_until_reset():
    url, handle = start_sandbox(size=200, rate_limit=3, rate_window=1.0)
    try:
        with connector(url, page_size=20) as c:
            t0 = time.monotonic()
            ids = _ids(c.read("work-orders", Window()))  # 10 pages, 3 requests per second
            elapsed = time.monotonic() - t0
            assert len(set(ids)) == 200
            assert c.http.rate_limit_waits >= 3 and c.http.retries == 0  # never hit a 429
            assert elapsed >= 2.0, elapsed
    finally:
        handle.stop()


def test_injected_429_500_and_truncated_bodies_end_in_success():
    url, handle = start_sandbox(size=1000, fail_429=0.2, fail_500=0.2, truncate=0.2, seed=3)
    try:
        with connector(url, page_size=50, retries=12) as c:
            c.http.policy = type(c.http.policy)(max_retries=12, base_delay=0.01, max_sleep=0.05)
            ids = _ids(c.read("work-orders", Window()))
            assert sorted(ids) == sorted(set(ids)) and len(ids) == 1000
            assert c.http.retries > 3
    finally:
        handle.stop()


def test_persistent_failure_raises_source_error_naming_system_endpoint_status():
    url, handle = start_sandbox(size=50, fail_500=1.0)
    try:
        with connector(url, retries=2) as c:
            c.http.policy = type(c.http.policy)(max_retries=2, base_delay=0.01, max_sleep=0.02)
            with pytest.raises(SourceError) as err:
                list(c.read("assets", Window()))
        assert err.value.system == "maintainx" and err.value.status == 500
        assert err.value.endpoint == "GET /v1/assets" and "maintainx" in str(err.value)
    finally:
        handle.stop()


def test_bad_key_is_401_at_once(sandbox):
    url, _ = sandbox
    with connector(url, key="wrong-key") as c, pytest.raises(SourceError) as err:
        list(c.read("work-orders", Window()))
    assert err.value.status == 401 and c.http.retries == 0
    assert "wrong-key" not in str(err.value)


def test_bad_settings_are_clear_errors(sandbox):
    url, _ = sandbox
    with pytest.raises(ValueError, match="api_key"):
        connector(url, key="")
    with pytest.raises(ValueError, match="organization_id"):
        connector(url, organization_id="acme")
    with pytest.raises(ValueError, match="unsupported entity 'widgets'"):
        list(connector(url).read("widgets", Window()))
    with connector(url, organization_id=999) as c, pytest.raises(SourceError) as err:
        list(c.read("vendors", Window()))
    assert err.value.status == 403 and "x-organization-id" in str(err.value)


def test_records_match_the_sandbox_source_field_by_field(sandbox):
    url, handle = sandbox
    with connector(url, organization_id=4242) as c:
        wos = {r["id"]: r for p in c.read("work-orders", Window()) for r in p}
        pos = [r for p in c.read("purchase-orders", Window()) for r in p]
        stocks = [r for p in c.read("stocks", Window()) for r in p]
        teams = [r for p in c.read("teams", Window()) for r in p]
    for rid in list(wos)[::997]:
        src = handle.record("/workorders", rid)
        got = wos[rid]
        for field in ("id", "title", "status", "priority", "updatedAt", "createdAt", "dueDate", "locationId", "assignees", "categories", "asset"):  # fmt: skip
            assert got[field] == src[field], field
    po = pos[3]
    src = handle.record("/purchaseorders", po["id"])
    assert [i["id"] for i in po["items"]] == [i["id"] for i in src["items"]]
    assert all(i["purchaseOrderId"] == po["id"] for i in po["items"])
    part = handle.record("/parts", stocks[0]["partId"])
    assert stocks[0]["availableQuantity"] == part["locations"][0]["availableQuantity"]
    assert sum(len(t["members"]) for t in teams) == handle.world.collections["/users"].size


def test_mapped_records_validate_and_references_join(sandbox):
    url, _ = sandbox
    tz = ZoneInfo("UTC")
    keys: dict[str, set[str]] = {}
    mapped: dict[str, list[dict]] = {}
    with connector(url) as c:
        for entity, spec in c.entities.items():
            cm = CompiledMapping(spec.mapping, tz)
            rows = [cm(r).data for p in c.read(entity, Window()) for r in p]
            list_adapter(entity).validate_python(rows)
            mapped[entity] = rows
            keys[entity] = {r["key"] for r in rows}
    for wo in mapped["work-orders"][:500]:
        assert wo["locationKey"] in keys["locations"]
        assert wo.get("assetKey") is None or wo["assetKey"] in keys["assets"]
        assert wo["laborAssignedKey"] in keys["users"]
        assert wo.get("teamKey") is None or wo["teamKey"] in keys["teams"]
    for s in mapped["stocks"]:
        assert s["materialKey"] in keys["materials"] and s["locationKey"] in keys["locations"]
    for po in mapped["purchase-orders"]:
        assert po["vendorKey"] in keys["vendors"]
    assert all(k in keys["assets"] for pm in mapped["pm"] for k in pm["assetKeys"])
    assert all(r["meterKey"] in keys["meters"] for r in mapped["meter-readings"])


def test_two_sandboxes_are_separate():
    url_a, a = start_sandbox(seed=1, size=100)
    url_b, b = start_sandbox(seed=2, size=100, api_key="other-key")
    try:
        rid = a.world.collections["/workorders"].id_of(0)
        a.change("/workorders", rid, title="only in A")
        with connector(url_a) as ca, connector(url_b, key="other-key") as cb:
            ra = {r["id"]: r for p in ca.read("work-orders", Window()) for r in p}
            rb = {r["id"]: r for p in cb.read("work-orders", Window()) for r in p}
        assert ra[rid]["title"] == "only in A" and rb[rid]["title"] != "only in A"
        with connector(url_b) as wrong, pytest.raises(SourceError):
            list(wrong.read("vendors", Window()))  # A's key is not valid on B
    finally:
        a.stop()
        b.stop()


def test_throughput_100k_work_orders(capsys):
    url, handle = start_sandbox(size=100_000)
    try:
        with connector(url) as c:
            t0 = time.perf_counter()
            n = sum(len(p) for p in c.read("work-orders", Window()))
            rate = n / (time.perf_counter() - t0)
        assert n == 100_000
        with capsys.disabled():
            print(f"\nmaintainx: 100,000 work orders read at {rate:,.0f} records/s")
        assert rate > 500  # a floor only: sandbox and client share one process and two busy cores
    finally:
        handle.stop()
