"""Issue 15 on synced Fiix data (the sibling of test_unified_systems.py's four systems): every
entity of the Fiix sandbox synced into one SQLite store over two connections, each read through
the API with its own token:

- every record of every entity (material items through their owners) has every field of the
  unified model;
- ``filter[statusCategory]=open`` on work orders returns exactly the work orders whose raw Fiix
  status (the ``dv_intWorkOrderStatusID`` display value, served as ``remoteData``) is an open
  one by the test's own list; the second connection overrides "On Hold" to open, on it alone;
- the same on service requests (open = still "Requested") and purchase orders (approved);
- ``statuses/work-orders`` lists each raw status with its category.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.base import SourceSettings, Window
from connectors.registry import get_connector
from include.config import ConnectionConfig
from include.config.coverage import system_coverage
from include.model import ENTITIES, MATERIAL_ITEM_ENTITIES, Status
from include.model.timeutil import zone
from include.store import Store
from include.store.tokens import issue_token
from include.sync import streaming
from include.sync.statuses import refresh_statuses
from tests.api.conftest import make_client

KEYS = ("app-u", "access-u", "secret-u")
# Fiix's default work-order statuses this test calls open (independent of the connector's table)
OPEN_RAW = {"Requested", "Assigned", "Open"}
APPROVED_RAW = {"Approved", "Sent", "Partially Received"}
PLAIN, OVERRIDE = "c-fiix", "c-fiix-hold"


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    from connectors.fiix.sandbox import start_sandbox

    url, handle = start_sandbox(seed=6, size=150, keys=KEYS)
    work = tmp_path_factory.mktemp("unified-fiix")
    store = Store(f"sqlite:///{work / 'store.db'}")
    store.migrate()
    creds = dict(zip(("app_key", "access_key", "secret_key"), KEYS, strict=True))
    configs: dict[str, ConnectionConfig] = {}
    tokens: dict[str, str] = {}
    try:
        for cid, extra in ((PLAIN, {}), (OVERRIDE, {"work-orders": {"On Hold": "open"}})):
            cfg = ConnectionConfig(id=cid, customer="acme", system="fiix", airflow_conn_id="unused",
                                   page_size=40, status_categories=extra)  # fmt: skip
            configs[cid] = cfg
            settings = SourceSettings(cid, url, creds, zone(cfg.source_timezone), page_size=40)
            with get_connector("fiix")(settings) as connector:
                for entity in cfg.selected_entities():
                    summary = streaming.sync_entity(
                        connector, cfg, entity, Window(), work / cid / entity, store, "full",
                        incremental=True, path_factory=Path,
                    )  # fmt: skip
                    assert summary["quarantined"] == 0, (entity, summary)
                refresh_statuses(store, cfg, connector)
            tokens[cid] = issue_token(store.engine, cid)
        client = make_client(store, config_provider=configs.get)
        yield store, client, configs, tokens
        client.close()
    finally:
        store.close()
        handle.stop()


def _all(client: Any, token: str, path: str, **params: str) -> list[dict]:
    out: list[dict] = []
    cursor = ""
    while cursor is not None:
        r = client.get(path, params={"per_page": "1000", "cursor": cursor, **params},
                       headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert r.status_code == 200, (path, r.text)
        body = r.json()
        out += body["data"]
        cursor = body["meta"]["next_cursor"]
    return out


def test_every_record_of_every_fiix_entity_has_every_field(synced: tuple) -> None:
    store, client, configs, tokens = synced
    token = tokens[PLAIN]
    connector = get_connector("fiix")
    served = list(configs[PLAIN].selected_entities())
    served += [c for e in served for c in connector.entities[e].mapping.children]
    checked = 0
    for entity in served:
        fields = set(ENTITIES[entity].model_fields)
        if entity in MATERIAL_ITEM_ENTITIES:
            owner, _ = MATERIAL_ITEM_ENTITIES[entity]
            sub = "children" if owner == "materials" else "materials"
            rows = []
            for rec in _all(client, token, f"/api/eam/{owner}"):
                rows += _all(client, token, f"/api/eam/{owner}/{rec['key']}/{sub}")
        else:
            rows = _all(client, token, f"/api/eam/{entity}")
        assert rows, f"fiix {entity}: no records synced from the sandbox"
        assert len(rows) == store.count(PLAIN, entity), entity
        for rec in rows:
            assert set(rec) == fields, (entity, rec["key"], set(rec) ^ fields)
        checked += len(rows)
    # every resource the coverage matrix calls mapped for Fiix was served, none empty
    mapped = {c["resource"] for c in system_coverage("fiix") if c["coverage"] == "mapped"}
    assert set(served) == mapped and checked > 500


def test_the_status_category_filter_on_fiix_work_orders(synced: tuple) -> None:
    _, client, configs, tokens = synced
    for cid, open_raw in ((PLAIN, OPEN_RAW), (OVERRIDE, OPEN_RAW | {"On Hold"})):
        token = tokens[cid]
        every = _all(client, token, "/api/eam/work-orders", include_remote_data="true")
        expected = {r["key"] for r in every
                    if r["remoteData"]["dv_intWorkOrderStatusID"] in open_raw}  # fmt: skip
        assert 0 < len(expected) < len(every), (cid, len(expected), len(every))
        got = _all(client, token, "/api/eam/work-orders", **{"filter[statusCategory]": "open"})
        assert {r["key"] for r in got} == expected, cid
        assert all(r["statusCategory"] == "open" for r in got)
        table = configs[cid].status_category_table("work-orders")
        assert table is not None
        for r in every:
            assert r["status"] == r["remoteData"]["dv_intWorkOrderStatusID"]
            assert r["statusCategory"] == table.get(r["status"]), (cid, r["status"])
    # the override is that connection's alone
    plain = _all(
        client, tokens[PLAIN], "/api/eam/work-orders", **{"filter[statusCategory]": "open"}
    )
    held = _all(
        client, tokens[OVERRIDE], "/api/eam/work-orders", **{"filter[statusCategory]": "open"}
    )
    assert any(r["status"] == "On Hold" for r in held)
    assert not any(r["status"] == "On Hold" for r in plain)


def test_the_status_category_filter_on_fiix_requests_and_orders(synced: tuple) -> None:
    _, client, _, tokens = synced
    token = tokens[PLAIN]
    every = _all(client, token, "/api/eam/service-requests", include_remote_data="true")
    expected = {
        r["key"] for r in every if r["remoteData"]["dv_intWorkOrderStatusID"] == "Requested"
    }
    assert 0 < len(expected) < len(every)
    got = _all(client, token, "/api/eam/service-requests", **{"filter[statusCategory]": "open"})
    assert {r["key"] for r in got} == expected
    every = _all(client, token, "/api/eam/purchase-orders", include_remote_data="true")
    expected = {r["key"] for r in every
                if r["remoteData"]["dv_intPurchaseOrderStatusID"] in APPROVED_RAW}  # fmt: skip
    assert 0 < len(expected) < len(every)
    got = _all(client, token, "/api/eam/purchase-orders", **{"filter[statusCategory]": "approved"})
    assert {r["key"] for r in got} == expected


def test_fiix_status_routes_list_each_raw_status_with_its_category(synced: tuple) -> None:
    _, client, configs, tokens = synced
    for cid in (PLAIN, OVERRIDE):
        table = configs[cid].status_category_table("work-orders") or {}
        r = client.get("/api/eam/statuses/work-orders", params={"per_page": "1000"},
                       headers={"Authorization": f"Bearer {tokens[cid]}"})  # fmt: skip
        assert r.status_code == 200, r.text
        rows = r.json()["data"]
        assert {row["code"] for row in rows} >= OPEN_RAW
        for row in rows:
            assert set(row) == set(Status.model_fields)
            assert row["statusCategory"] == table.get(row["code"]) is not None, (cid, row)
        on_hold = next(row for row in rows if row["code"] == "On Hold")
        assert on_hold["statusCategory"] == ("open" if cid == OVERRIDE else "on_hold")
