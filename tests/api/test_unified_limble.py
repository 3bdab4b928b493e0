"""Issue 15 on Limble, beside the four systems of tests/api/test_unified_systems.py: every entity
of two Limble connections (two sandboxes, different data) synced into one SQLite store and read
through the API, each with its own token:

- every record of every entity (material items through their owners' routes) has every field of
  the unified model;
- ``filter[statusCategory]=open`` on work orders returns exactly the tasks whose raw completion
  flag (``status``, served as ``remoteData``) is 0 (Incomplete), and on service requests exactly
  the Pending work request submissions; each connection's answer is its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.base import SourceSettings, Window
from connectors.registry import get_connector
from include.config import ConnectionConfig
from include.model import ENTITIES, MATERIAL_ITEM_ENTITIES
from include.model.timeutil import zone
from include.store import Store
from include.store.tokens import issue_token
from include.sync import streaming
from include.sync.statuses import refresh_statuses
from tests.api.conftest import make_client
from tests.api.test_unified_systems import _all, _list_path, _owned

SECRET = "s3cret-limble"
SOURCES = {"c-limble-a": (3, 120), "c-limble-b": (9, 70)}  # connection: (sandbox seed, tasks)


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    from connectors.limble.sandbox import start_sandbox

    work = tmp_path_factory.mktemp("unified-limble")
    store = Store(f"sqlite:///{work / 'store.db'}")
    store.migrate()
    handles: dict[str, Any] = {}
    configs: dict[str, ConnectionConfig] = {}
    tokens: dict[str, str] = {}
    try:
        for cid, (seed, size) in SOURCES.items():
            url, handles[cid] = start_sandbox(seed=seed, size=size, client_id="reads",
                                              secret=SECRET)  # fmt: skip
            cfg = configs[cid] = ConnectionConfig(
                id=cid, customer="acme", system="limble", airflow_conn_id="unused", page_size=50
            )
            settings = SourceSettings(cid, url, {"user": "reads", "password": SECRET},
                                      zone(cfg.source_timezone), page_size=cfg.page_size)  # fmt: skip
            with get_connector("limble")(settings) as connector:
                for entity in cfg.selected_entities():
                    summary = streaming.sync_entity(
                        connector, cfg, entity, Window(), work / cid / entity, store, "full",
                        incremental=True, path_factory=Path,
                    )  # fmt: skip
                    assert summary["quarantined"] == 0, (cid, entity, summary)
                assert "work-orders" in refresh_statuses(store, cfg, connector)  # as the DAG does
            tokens[cid] = issue_token(store.engine, cid)
        client = make_client(store, config_provider=configs.get)
        yield store, client, configs, tokens, handles
        client.close()
    finally:
        for h in handles.values():
            h.stop()
        store.close()


def test_every_record_of_every_limble_entity_has_every_field(synced) -> None:
    store, client, configs, tokens, _ = synced
    for cid, cfg in configs.items():
        entities = cfg.selected_entities()
        entities += [
            c for e in entities for c in get_connector("limble").entities[e].mapping.children
        ]
        assert len(entities) == 25  # every resource Limble has (docs/API.md, the matrix)
        for entity in entities:
            fields = set(ENTITIES[entity].model_fields)
            if entity in MATERIAL_ITEM_ENTITIES:
                rows = _owned(client, tokens[cid], entity)
            else:
                rows = _all(client, tokens[cid], _list_path(entity))
            assert rows, f"{cid} {entity}: no records synced from the sandbox"
            assert len(rows) == store.count(cid, entity), (cid, entity)
            assert all(set(r) == fields for r in rows), (cid, entity)


def test_status_category_filter_on_limble_work_orders_and_requests(synced) -> None:
    _, client, configs, tokens, handles = synced
    answers = {}
    for cid in configs:
        token, h = tokens[cid], handles[cid]
        every = _all(client, token, "/api/eam/work-orders", include_remote_data="true")
        assert {r["key"] for r in every} == {
            str(t["taskID"]) for t in h.records("/tasks") if not t["template"]}  # fmt: skip
        expected = {r["key"] for r in every if r["remoteData"]["status"] == 0}
        assert 0 < len(expected) < len(every), (cid, len(expected), len(every))
        got = _all(client, token, "/api/eam/work-orders", **{"filter[statusCategory]": "open"})
        assert {r["key"] for r in got} == expected, cid
        assert all(r["status"] == "Incomplete" and r["statusCategory"] == "open" for r in got)
        done = _all(client, token, "/api/eam/work-orders",
                    **{"filter[statusCategory]": "completed"})  # fmt: skip
        assert {r["key"] for r in done} == {r["key"] for r in every} - expected
        answers[cid] = expected
        pending = {str(r["workRequestSubmissionId"])
                   for r in h.records("/work-requests/work-request-submissions")
                   if r["status"] == "Pending"}  # fmt: skip
        got = _all(client, token, "/api/eam/service-requests", **{"filter[statusCategory]": "open"})
        assert pending and {r["key"] for r in got} == pending, cid
    assert answers["c-limble-a"] != answers["c-limble-b"]  # each token reads its own connection


def test_the_status_route_lists_the_raw_statuses_records_carry_with_their_category(synced) -> None:
    _, client, configs, tokens, handles = synced
    for cid in configs:
        r = client.get("/api/eam/statuses/work-orders", params={"per_page": 100},
                       headers={"Authorization": f"Bearer {tokens[cid]}"})  # fmt: skip
        assert r.status_code == 200, r.text
        rows = r.json()["data"]
        by_code = {r["code"]: r["statusCategory"] for r in rows}
        assert by_code["Incomplete"] == "open" and by_code["Complete"] == "completed"
        carried = {r["status"] for r in _all(client, tokens[cid], "/api/eam/work-orders")}
        assert carried <= set(by_code), carried - set(by_code)
        # the customer's own statuses are listed too (what statusKey names)
        assert {str(s["statusID"]) for s in handles[cid].records("/statuses")} <= set(by_code)
