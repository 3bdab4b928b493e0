"""Changes through related records, on the systems with child or related records (Maximo's
POLINE under MXAPIPO, SAP's A_PurchaseOrderItem under A_PurchaseOrder, MaintainX's PO items and
part locations): through the pipeline (the streaming shape), the real sandboxes, a SQLite store
and the API. Deleting a parent at the source soft-deletes its line items at the next
reconciliation or full read; a source that flags a deletion (SAP's deletion code) takes the lines
with the next incremental run; a change to one line alone (or a line removed) reaches the line
and its PO after the next incremental run, also through ``modified_after``."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from connectors.base import Connector, SourceSettings, Window
from connectors.maintainx import CONNECTOR as MaintainX
from connectors.maintainx.sandbox import DEFAULT_API_KEY
from connectors.maintainx.sandbox import start_sandbox as start_maintainx
from connectors.maintainx.sandbox.data import parse_ms
from connectors.maximo import CONNECTOR as Maximo
from connectors.maximo.sandbox import start_sandbox
from connectors.sap_s4hana import CONNECTOR as Sap
from connectors.sap_s4hana.sandbox import start as start_sap
from include.api import create_app, issue_token
from include.config import ConnectionConfig
from include.model.timeutil import format_utc, utcnow, zone
from include.store import Store, SyncRun
from include.sync import pipeline, streaming

PO, LINES = "purchase-orders", "purchase-orders.line-items"
_runs = itertools.count(1)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'store.db'}")
    s.migrate()
    yield s
    s.close()


def _cfg(system: str) -> ConnectionConfig:
    return ConnectionConfig(
        id=f"{system}-1", customer="acme", system=system, airflow_conn_id="unused",
        entities=[PO, "stocks"] if system == "maintainx" else [PO],
    )  # fmt: skip


def sync_run(
    store: Store, cfg: ConnectionConfig, src: Connector, tmp: Path, full: bool, entity: str = PO,
    at: datetime | None = None,
) -> dict:  # fmt: skip
    """One run of ``entity``: a full read, or a scheduled run planned as the DAG plans it (as if
    it ran ``at``: the clock `full_read_every` is counted on)."""
    now = at or utcnow()
    window = (
        Window()
        if full
        else pipeline.plan_window(
            store, cfg, entity, incremental=True, run_type="scheduled",
            interval_start=now - timedelta(hours=1), interval_end=now + timedelta(seconds=5),
            now=now,
        )
    )  # fmt: skip
    run_id = f"run{next(_runs)}"
    summary = streaming.sync_entity(
        src, cfg, entity, window, tmp / run_id, store, run_id, incremental=True, path_factory=Path
    )
    store.record_run(SyncRun(cfg.id, entity, run_id, format_utc(now), status="success",
                             window_start=format_utc(window.start)))  # fmt: skip
    return summary


def _since() -> str:
    """A ``modified_after`` bound just before now: the sources stamp changes in milliseconds."""
    now = utcnow()
    return format_utc(
        now.replace(microsecond=now.microsecond // 1000 * 1000) - timedelta(milliseconds=1)
    )


def _changed(store: Store, cid: str, entity: str, since: str, **params: str) -> dict[str, dict]:
    """What the API lists for ``entity`` with ``modified_after=since``, by key."""
    api = TestClient(create_app(store, config_provider=lambda c: None))
    r = api.get(
        f"/api/erp/{entity}",
        params={"modified_after": since, "per_page": "100", **params},
        headers={"Authorization": f"Bearer {issue_token(store.engine, cid)}"},
    )
    assert r.status_code == 200, r.text
    return {item["key"]: item for item in r.json()["data"]}


def _lines_of(store: Store, cid: str, po_key: str) -> dict[str, dict]:
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT key FROM records WHERE connection_id = ? AND entity = ? AND parent_key = ?",
            (cid, LINES, po_key),
        ).all()
    return {k: store.get_record(cid, LINES, k) for (k,) in rows}


def _assert_gone_with_parent(store: Store, cid: str, po_key: str) -> None:
    assert store.get_record(cid, PO, po_key)["deleted_at"] is not None
    lines = _lines_of(store, cid, po_key)
    assert lines, "the PO had line items"
    for rec in lines.values():
        assert rec["deleted_at"] is not None and rec["deleted_by"] == "parent"
        assert rec["data"]["deletedAt"] == rec["deleted_at"]


# ---------------------------------------------------------------- Maximo


@pytest.fixture
def maximo() -> Iterator[tuple[Any, Connector]]:
    url, handle = start_sandbox(0, apikey="k-rel", size=200)
    settings = SourceSettings(
        connection_id="maximo-1", host=url, credentials={"apikey": "k-rel"}, timezone=zone("UTC")
    )
    src = Maximo(settings)
    try:
        yield handle, src
    finally:
        src.close()
        handle.stop()


def _maximo_pos(handle: Any, n: int) -> list[tuple[str, str]]:
    table = handle.sandbox.table("MXAPIPO")
    keys = [table.key(table.base(i)) for i in range(n)]
    return [k for k in keys if handle.record("MXAPIPO", k)["poline"]]


@pytest.mark.parametrize("how", ["reconcile", "full read"])
def test_maximo_deleted_po_takes_its_lines(store: Store, maximo, tmp_path: Path, how) -> None:
    handle, src = maximo
    cfg = _cfg("maximo")
    sync_run(store, cfg, src, tmp_path, full=True)
    site, ponum = _maximo_pos(handle, 3)[0]
    po_key = store_key(store, cfg.id, ponum)
    assert handle.delete("MXAPIPO", (site, ponum))
    if how == "reconcile":
        assert pipeline.reconcile_from_source(store, cfg, src, PO) == 1
    else:
        assert sync_run(store, cfg, src, tmp_path, full=True)["deleted"] == 1
    _assert_gone_with_parent(store, cfg.id, po_key)


def test_maximo_line_change_alone_reaches_line_and_po(store: Store, maximo, tmp_path: Path) -> None:
    handle, src = maximo
    cfg = _cfg("maximo")
    sync_run(store, cfg, src, tmp_path, full=True)
    site, ponum = _maximo_pos(handle, 3)[1]
    po_key = store_key(store, cfg.id, ponum)
    since = _since()
    rec = handle.record("MXAPIPO", (site, ponum))
    lines = [dict(li) for li in rec["poline"]]
    lines[0]["orderqty"] = 4242
    # Maximo saves a PO with its lines: the line edit is a change of the PO (its changedate)
    handle.mutate("MXAPIPO", (site, ponum), poline=lines)
    sync_run(store, cfg, src, tmp_path, full=False)
    (line,) = [r for r in _lines_of(store, cfg.id, po_key).values()
               if r["data"]["quantity"] == 4242]  # fmt: skip
    order = store.get_record(cfg.id, PO, po_key)["data"]
    assert order["updatedAt"] > since
    assert 4242 in [li["quantity"] for li in order["lineItems"]]
    # POLINE has no change time of its own: the line carries its PO's, so modified_after finds it
    assert line["data"]["updatedAt"] == order["updatedAt"]
    served = _changed(store, cfg.id, LINES, since)
    assert served[line["key"]]["quantity"] == 4242
    assert {r["purchaseOrderKey"] for r in served.values()} == {po_key}
    assert po_key in _changed(store, cfg.id, PO, since)


def store_key(store: Store, cid: str, number: str) -> str:
    """The stored key of the PO whose orderNo is ``number``."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT key FROM records WHERE connection_id = ? AND entity = ?", (cid, PO)
        ).all()
    (key,) = [k for (k,) in rows if store.get_record(cid, PO, k)["data"].get("orderNo") == number]
    return key


# ---------------------------------------------------------------- SAP


@pytest.fixture
def sap() -> Iterator[tuple[Any, Connector]]:
    url, handle = start_sap(size=300, seed=1, server_page_size=200)
    settings = SourceSettings(
        connection_id="sap-1", host=url, credentials={"user": "demo", "password": "demo"},
        timezone=zone("UTC"), options={"retry_base_delay": 0.01, "retry_max_sleep": 1.0},
    )  # fmt: skip
    src = Sap(settings)
    try:
        yield handle, src
    finally:
        src.close()
        handle.stop()


def _sap_po_with_items(handle: Any, nth: int) -> str:
    with_items = sorted({i["PurchaseOrder"] for i in handle.records("A_PurchaseOrderItem")})
    live = {p["PurchaseOrder"] for p in handle.records("A_PurchaseOrder")
            if not p.get("PurchasingDocumentDeletionCode")}  # fmt: skip
    return [p for p in with_items if p in live][nth]


@pytest.mark.parametrize("how", ["reconcile", "full read"])
def test_sap_deleted_po_takes_its_items(store: Store, sap, tmp_path: Path, how) -> None:
    handle, src = sap
    cfg = _cfg("sap_s4hana")
    sync_run(store, cfg, src, tmp_path, full=True)
    po = _sap_po_with_items(handle, 0)
    handle.delete("A_PurchaseOrder", (po,))
    if how == "reconcile":
        assert pipeline.reconcile_from_source(store, cfg, src, PO) == 1
    else:
        assert sync_run(store, cfg, src, tmp_path, full=True)["deleted"] == 1
    _assert_gone_with_parent(store, cfg.id, po)


def test_sap_deletion_flag_takes_the_items_incrementally(store: Store, sap, tmp_path: Path) -> None:
    handle, src = sap
    cfg = _cfg("sap_s4hana")
    sync_run(store, cfg, src, tmp_path, full=True)
    po = _sap_po_with_items(handle, 1)
    since = _since()
    handle.update("A_PurchaseOrder", (po,), {"PurchasingDocumentDeletionCode": "L"},
                  at=datetime.now(UTC))  # fmt: skip
    summary = sync_run(store, cfg, src, tmp_path, full=False)
    assert summary["full"] is False
    _assert_gone_with_parent(store, cfg.id, po)
    assert all(r["updated_at"] >= since for r in _lines_of(store, cfg.id, po).values())


def _sap_item(handle: Any, po: str) -> dict:
    return min((i for i in handle.records("A_PurchaseOrderItem") if i["PurchaseOrder"] == po),
               key=lambda i: int(i["PurchaseOrderItem"]))  # fmt: skip


def test_sap_item_change_alone_reaches_item_and_po(store: Store, sap, tmp_path: Path) -> None:
    """A_PurchaseOrderItem has no change time: SAP saves the PO with its items, so an item edit
    moves the header's LastChangeDateTime; the next incremental run re-reads that PO and its
    items, and both show through ``modified_after`` (the item with its PO's change time)."""
    handle, src = sap
    cfg = _cfg("sap_s4hana")
    sync_run(store, cfg, src, tmp_path, full=True)
    po = _sap_po_with_items(handle, 2)
    item = _sap_item(handle, po)
    before = store.get_record(cfg.id, PO, po)["data"]
    stamp = handle.get("A_PurchaseOrder", po)["LastChangeDateTime"]
    since = _since()
    handle.update("A_PurchaseOrderItem", (po, item["PurchaseOrderItem"]),
                  {"OrderQuantity": "77.000"})  # fmt: skip
    assert handle.get("A_PurchaseOrder", po)["LastChangeDateTime"] != stamp  # SAP saves the PO
    summary = sync_run(store, cfg, src, tmp_path, full=False)
    assert summary["full"] is False
    order = _changed(store, cfg.id, PO, since)[po]
    assert order["updatedAt"] > since > before["updatedAt"]
    lines = {li["lineNo"]: li for li in order["lineItems"]}
    assert lines[item["PurchaseOrderItem"]]["quantity"] == 77.0
    served = _changed(store, cfg.id, LINES, since)
    assert {r["purchaseOrderKey"] for r in served.values()} == {po}  # that PO's items only
    (line,) = [r for r in served.values() if r["lineNo"] == item["PurchaseOrderItem"]]
    assert line["quantity"] == 77.0 and line["updatedAt"] == order["updatedAt"]


def test_sap_item_deleted_alone_is_soft_deleted(store: Store, sap, tmp_path: Path) -> None:
    """Deleting one item saves its PO: the next incremental run re-reads the PO, and the item
    it no longer lists is soft-deleted, visible to ``modified_after`` with include_deleted."""
    handle, src = sap
    cfg = _cfg("sap_s4hana")
    sync_run(store, cfg, src, tmp_path, full=True)
    po = next(
        p
        for n in range(10)
        if len(_lines_of(store, cfg.id, p := _sap_po_with_items(handle, n))) > 1
    )
    item = _sap_item(handle, po)
    since = _since()
    handle.delete("A_PurchaseOrderItem", (po, item["PurchaseOrderItem"]))
    assert sync_run(store, cfg, src, tmp_path, full=False)["full"] is False
    lines = _lines_of(store, cfg.id, po)
    gone = [r for r in lines.values() if r["data"]["lineNo"] == item["PurchaseOrderItem"]]
    assert len(gone) == 1 and gone[0]["deleted_by"] == "reconcile"
    assert all(r["deleted_at"] is None for r in lines.values() if r not in gone)
    assert gone[0]["key"] not in _changed(store, cfg.id, LINES, since)
    assert _changed(store, cfg.id, LINES, since, include_deleted="true")[gone[0]["key"]][
        "deletedAt"
    ]


# ---------------------------------------------------------------- MaintainX


@pytest.fixture
def maintainx() -> Iterator[tuple[Any, Connector]]:
    url, handle = start_maintainx(0, size=200)
    settings = SourceSettings(
        connection_id="maintainx-1", host=url, credentials={"api_key": DEFAULT_API_KEY},
        timezone=zone("UTC"), page_size=200,
    )  # fmt: skip
    src = MaintainX(settings)
    try:
        yield handle, src
    finally:
        src.close()
        handle.stop()


def _mx_po(handle: Any, nth: int, min_items: int = 1) -> dict:
    coll = handle.world.collections["/purchaseorders"]
    pos = (handle.record("/purchaseorders", coll.id_of(i)) for i in range(coll.size))
    return [p for p in pos if len(p["items"]) >= min_items][nth]


def test_maintainx_item_change_alone_reaches_item_and_po(
    store: Store, maintainx, tmp_path: Path
) -> None:
    """A MaintainX PO item has no updatedAt; it is edited through its PO, whose updatedAt moves:
    the next incremental run re-reads that PO, and the PO and the item show through
    ``modified_after`` (the item dated by its PO)."""
    handle, src = maintainx
    cfg = _cfg("maintainx")
    sync_run(store, cfg, src, tmp_path, full=True)
    po = _mx_po(handle, 1)
    items = [dict(i) for i in po["items"]]
    items[0]["quantityOrdered"] = 777
    since = _since()
    handle.change("/purchaseorders", po["id"], items=items)
    assert sync_run(store, cfg, src, tmp_path, full=False)["full"] is False
    order = _changed(store, cfg.id, PO, since)[str(po["id"])]
    assert order["updatedAt"] > since
    assert 777 in [li["quantity"] for li in order["lineItems"]]
    served = _changed(store, cfg.id, LINES, since)
    assert {r["purchaseOrderKey"] for r in served.values()} == {str(po["id"])}
    assert served[str(items[0]["id"])]["quantity"] == 777
    assert served[str(items[0]["id"])]["updatedAt"] == order["updatedAt"]


def test_maintainx_item_removed_is_soft_deleted(store: Store, maintainx, tmp_path: Path) -> None:
    handle, src = maintainx
    cfg = _cfg("maintainx")
    sync_run(store, cfg, src, tmp_path, full=True)
    po = _mx_po(handle, 0, min_items=2)
    since = _since()
    handle.change("/purchaseorders", po["id"], items=po["items"][1:])
    assert sync_run(store, cfg, src, tmp_path, full=False)["full"] is False
    gone = str(po["items"][0]["id"])
    assert store.get_record(cfg.id, LINES, gone)["deleted_by"] == "reconcile"
    assert gone not in _changed(store, cfg.id, LINES, since)
    assert _changed(store, cfg.id, LINES, since, include_deleted="true")[gone]["deletedAt"]


@pytest.mark.parametrize("how", ["reconcile", "full read"])
def test_maintainx_deleted_po_takes_its_lines(
    store: Store, maintainx, tmp_path: Path, how: str
) -> None:
    handle, src = maintainx
    cfg = _cfg("maintainx")
    sync_run(store, cfg, src, tmp_path, full=True)
    po = _mx_po(handle, 2)
    since = _since()
    handle.delete("/purchaseorders", po["id"])
    if how == "reconcile":
        assert pipeline.reconcile_from_source(store, cfg, src, PO) == 1
    else:
        assert sync_run(store, cfg, src, tmp_path, full=True)["deleted"] == 1
    _assert_gone_with_parent(store, cfg.id, str(po["id"]))
    gone = _changed(store, cfg.id, LINES, since, include_deleted="true")
    assert {str(i["id"]) for i in po["items"]} <= set(gone)


def test_maintainx_part_location_quantity_reaches_stocks(
    store: Store, maintainx, tmp_path: Path
) -> None:
    """A per-location quantity edited on the part moves the part's updatedAt: the next
    incremental run of stocks carries it, visible through ``modified_after``. Quantities moved
    by work orders or fulfilments are not documented to date the part: stocks are declared
    ``untracked`` and re-read in full every ``full_read_every``."""
    handle, src = maintainx
    cfg = _cfg("maintainx")
    sync_run(store, cfg, src, tmp_path, full=True, entity="stocks")
    assert not pipeline.full_read_due(store, cfg, "stocks", utcnow())
    assert pipeline.full_read_due(store, cfg, "stocks", utcnow() + cfg.full_read_delta)
    parts = handle.world.collections["/parts"]
    part = handle.record("/parts", parts.id_of(3))
    locations = [dict(loc) for loc in part["locations"]]
    locations[-1]["availableQuantity"] = 4321
    since = _since()
    handle.change("/parts", part["id"], locations=locations)
    assert sync_run(store, cfg, src, tmp_path, full=False, entity="stocks")["full"] is False
    served = _changed(store, cfg.id, "stocks", since)
    key = f"{part['id']}:{locations[-1]['locationId']}"
    assert served[key]["quantity"] == 4321
    assert {k.split(":")[0] for k in served} == {str(part["id"])}  # that part's rows only


def test_maintainx_undated_quantity_reaches_modified_after_with_the_periodic_full_read(
    store: Store, maintainx, tmp_path: Path
) -> None:
    """A quantity that moves without moving the part's updatedAt (stocks' ``untracked``
    quantity) is missed by incremental runs; the scheduled run that reads stocks in full
    (``full_read_every``) finds it, and the store dates it by its write: ``modified_after``
    (and cursor paging) through the API then lists that stock row and only it, while the sync
    cursor stays at the source's time. The next full re-read, with nothing new, lists
    nothing."""
    handle, src = maintainx
    cfg = _cfg("maintainx")
    sync_run(store, cfg, src, tmp_path, full=True, entity="stocks")
    cursor = store.get_cursor(cfg.id, "stocks")
    parts = handle.world.collections["/parts"]
    part = handle.record("/parts", parts.id_of(5))
    locations = [dict(loc) for loc in part["locations"]]
    locations[0]["availableQuantity"] = 9876
    # the source does not date it: the part keeps its updatedAt
    handle.change("/parts", part["id"], at_ms=parse_ms(part["updatedAt"]), locations=locations)
    assert handle.record("/parts", part["id"])["updatedAt"] == part["updatedAt"]
    key = f"{part['id']}:{locations[0]['locationId']}"
    since = _since()

    assert sync_run(store, cfg, src, tmp_path, full=False, entity="stocks")["full"] is False
    assert store.get_record(cfg.id, "stocks", key)["data"]["quantity"] != 9876  # undated: missed

    due = utcnow() + cfg.full_read_delta
    summary = sync_run(store, cfg, src, tmp_path, full=False, entity="stocks", at=due)
    assert summary["full"] is True and summary["updated"] == 1
    served = _changed(store, cfg.id, "stocks", since)
    assert set(served) == {key}
    assert served[key]["quantity"] == 9876 and served[key]["updatedAt"] > since
    assert set(_changed(store, cfg.id, "stocks", since, cursor="")) == {key}
    assert store.get_cursor(cfg.id, "stocks") == cursor  # the source's time, not the stamp

    since = _since()
    again = sync_run(
        store, cfg, src, tmp_path, full=False, entity="stocks", at=due + cfg.full_read_delta
    )
    assert again["full"] is True and again["updated"] == 0
    assert _changed(store, cfg.id, "stocks", since) == {}
    assert _changed(store, cfg.id, "stocks", served[key]["updatedAt"]) == {}


# ---------------------------------------------------------------- full_read_every


def test_untracked_fields_force_a_periodic_full_read(store: Store) -> None:
    """Tryton's products serve a quantity the source cannot date: a scheduled run reads them in
    full once the last successful full read is ``full_read_every`` old; materials never."""

    cfg = ConnectionConfig(
        id="erp", customer="acme", system="tryton", airflow_conn_id="unused",
        options={"database": "x"}, full_read_every="12h",
    )  # fmt: skip
    now = datetime(2024, 6, 2, 12, tzinfo=UTC)
    for entity in ("products", "materials"):
        store.advance_cursor(cfg.id, entity, "2024-06-02T11:00:00Z")

    def window(entity: str, run_type: str = "scheduled") -> Window:
        return pipeline.plan_window(
            store, cfg, entity, incremental=True, run_type=run_type,
            interval_start=now - timedelta(hours=1), interval_end=now, now=now,
        )  # fmt: skip

    def full_run(entity: str, at: datetime, status: str = "success") -> None:
        store.record_run(SyncRun(cfg.id, entity, f"r-{at.isoformat()}", format_utc(at),
                                 status=status))  # fmt: skip

    assert window("products").is_full  # never read in full
    full_run("products", now - timedelta(hours=3))
    assert not window("products").is_full  # 3 h ago: incremental
    assert not window("products", "manual").is_full
    store.advance_cursor(cfg.id, "products", "2024-06-02T11:30:00Z")
    later = now + timedelta(hours=10)
    assert pipeline.full_read_due(store, cfg, "products", later)  # 13 h after the full read
    full_run("products", later - timedelta(hours=1), status="failed")
    assert pipeline.full_read_due(store, cfg, "products", later)  # a failed one does not count
    assert not pipeline.full_read_due(store, cfg, "materials", later)  # no untracked fields
    assert not window("materials").is_full
