"""Limble PO items: an item's own ``lastEdited`` (Unix seconds) is a related change of its PO
(``ChangedWhen.related`` through the ``epoch_s`` time kind). An item edit that leaves its PO's
``lastEdited`` alone is read by an incremental run: the PO comes back with the edited item and a
newer version, and the store takes it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import Window
from connectors.limble import CONNECTOR
from connectors.limble.sandbox import start_sandbox
from include.config import ConnectionConfig
from include.mapping.compiled import CompiledMapping
from include.mapping.spec import MappingError, compile_spec
from include.store import Store
from tests.fields.conftest import factory, store, stored, sync  # noqa: F401 - store: a fixture

PO = "purchase-orders"


@pytest.fixture
def limble() -> Iterator[tuple[str, object]]:
    url, handle = start_sandbox(seed=9, size=200, client_id="po-client", secret="po-secret")
    try:
        yield url, handle
    finally:
        handle.stop()


def test_the_epoch_seconds_kind() -> None:
    tz = UTC
    assert compile_spec("t", {"epoch_s": "t"}, tz)({"t": 1757517060}) == "2025-09-10T15:11:00Z"
    assert compile_spec("t", {"epoch_s": "t"}, tz)({"t": "1757517060"}) == "2025-09-10T15:11:00Z"
    assert compile_spec("t", {"epoch_s": "t"}, tz)({"t": 0}) is None
    with pytest.raises(MappingError, match="t: not Unix seconds: 'soon'"):
        compile_spec("t", {"epoch_s": "t"}, tz)({"t": "soon"})
    latest = compile_spec("t", {"latest": ["t", "items.t"], "unit": "epoch_s"}, tz)
    assert latest({"t": 100, "items": [{"t": 1757517060}, {"t": 0}]}) == "2025-09-10T15:11:00Z"


def test_the_po_version_is_the_latest_of_the_po_and_its_items() -> None:
    spec = CONNECTOR.entities[PO]
    assert spec.mapping.changed_with == ("items.lastEdited",)
    assert not spec.changed_when.untracked
    cm = CompiledMapping(spec.mapping, UTC)
    raw = {"poID": 3, "poNumber": 3, "lastEdited": 1757517000, "date": 1757000000, "state": 0,
           "items": [{"poID": 3, "poItemID": 9, "lastEdited": 1757517060}]}  # fmt: skip
    key, _, version, data = cm.row(raw)
    assert data["updatedAt"] == "2025-09-10T15:11:00Z" == version


def test_an_item_edit_is_picked_up_by_an_incremental_run(limble, store: Store) -> None:  # noqa: F811
    url, h = limble
    cfg = ConnectionConfig(id="limble-po", customer="acme", system="limble",
                           airflow_conn_id="unused", entities=[PO])  # fmt: skip
    source = factory(url, {"user": "po-client", "password": "po-secret"})
    sync(store, cfg, PO, source)  # the first run: a full read
    before = stored(store, cfg.id, PO)
    item = h.records("/po/items")[4]
    po_edited = next(p for p in h.records("/po") if p["poID"] == item["poID"])["lastEdited"]
    time.sleep(1.1)  # Limble's times are whole seconds: the edit is after the cursor
    h.update("/po/items", item["poItemID"], qty=item["qty"] + 40)
    assert next(p for p in h.records("/po") if p["poID"] == item["poID"])["lastEdited"] == po_edited
    result = sync(store, cfg, PO, source)  # a scheduled run: incremental from the cursor
    assert result["window"]["start"] is not None, result  # not a full read
    after = stored(store, cfg.id, PO)
    po = after[str(item["poID"])]
    line = next(li for li in po["lineItems"] if li["key"] == str(item["poItemID"]))
    assert line["quantity"] == item["qty"] + 40
    assert po["updatedAt"] > before[str(item["poID"])]["updatedAt"]
    lines = stored(store, cfg.id, f"{PO}.line-items")
    assert lines[str(item["poItemID"])]["quantity"] == item["qty"] + 40


def test_a_window_yields_the_pos_of_items_edited_in_it_once(limble) -> None:
    url, h = limble
    from connectors.base import SourceSettings

    settings = SourceSettings("t", url, {"user": "po-client", "password": "po-secret"}, UTC,
                              page_size=3, options={"retry_base_delay": 0.01})  # fmt: skip
    items = h.records("/po/items")
    edited = {items[1]["poID"], items[-1]["poID"]}
    for it in (items[1], items[-1]):
        h.update("/po/items", it["poItemID"], rate=7)
    h.update("/po", items[-1]["poID"], notesToVendor="both changed")  # its PO too: read once
    now = datetime.now(UTC)
    with CONNECTOR(settings) as c:
        read = [r for page in c.read(PO, Window(now - timedelta(minutes=5), now + timedelta(minutes=1)))
                for r in page]  # fmt: skip
    assert sorted(r["poID"] for r in read) == sorted(edited)
    assert all(any(i["rate"] == 7 for i in r["items"]) for r in read)
