"""Issue 15 on synced sandbox data: every entity of every system (the Maximo, SAP S/4HANA and
MaintainX sandboxes and a real Tryton server) synced into one SQLite store, four connections,
each read through the API with its own token:

- every record of every entity has every field of the unified model (Makini's fields and ours),
  ``null`` (or ``[]``/``{}``) when the source has no value, never omitted;
- the same ``filter[statusCategory]=open`` on work orders returns exactly the work orders whose
  raw source status is an open one (the test's own list per system, checked against the source
  record served as ``remoteData``), with a per-connection override applied on Maximo;
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
from include.model import ENTITIES, ERP_ENTITIES, MATERIAL_ITEM_ENTITIES, Status
from include.model.timeutil import zone
from include.store import Store
from include.store.tokens import issue_token
from include.sync import streaming
from include.sync.statuses import refresh_statuses
from tests.api.conftest import make_client

SECRET = "s3cret-reads"
TRYTON_PARTS = 40

# raw work-order statuses each system calls open (independent of the connectors' tables);
# Maximo's connection also overrides WMATL (waiting on material) to open
OPEN_RAW = {
    "maximo": {"WAPPR", "APPR", "WSCH", "WMATL"},
    "sap_s4hana": {"CRTD", "REL"},
    "maintainx": {"OPEN"},
    "tryton": {"request", "draft"},
}


# raw purchase-order statuses each system calls approved (SAP: PurchasingProcessingStatus codes)
APPROVED_RAW = {
    "maximo": {"APPR", "INPRG"},
    "sap_s4hana": {"02", "05"},
    "maintainx": {"APPROVED", "PARTIALLY_FULFILLED"},
    "tryton": {"confirmed", "processing"},
}


def _raw_po_status(system: str, raw: dict) -> str | None:
    if system == "sap_s4hana":
        return raw.get("PurchasingProcessingStatus")
    return raw.get("state") if system == "tryton" else raw.get("status")


def _raw_status(system: str, raw: dict) -> str | None:
    if system == "sap_s4hana":
        text = (raw.get("SystemStatusText") or "").split()
        return text[0] if text else None
    if system == "tryton":
        return raw.get("state")
    return raw.get("status")


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple]]:
    """(settings kwargs, config kwargs) per system, the sources running."""
    from connectors.maintainx.sandbox import start_sandbox as start_maintainx
    from connectors.maximo.sandbox import start_sandbox as start_maximo
    from connectors.sap_s4hana.sandbox import start as start_sap
    from connectors.tryton.server import start_tryton

    handles: list[Any] = []
    try:
        url, h = start_maximo(0, apikey=SECRET, size=120)
        handles.append(h)
        maximo = (url, {"apikey": SECRET}, {})
        url, h = start_sap(seed=4, size=120, user="reads", password=SECRET)
        handles.append(h)
        sap = (url, {"user": "reads", "password": SECRET}, {})
        url, h = start_maintainx(seed=5, size=120, api_key=SECRET)
        handles.append(h)
        maintainx = (url, {"api_key": SECRET}, {})
        # a private cache: the seeded template is this branch's seed, whatever others cached
        cache = tmp_path_factory.mktemp("tryton")
        t = start_tryton(cache, "reads_unified", parts=TRYTON_PARTS, fresh=True)
        handles.append(t)
        tryton = (t.url, {"user": t.user, "password": t.password}, {"database": t.db})
        yield {"maximo": maximo, "sap_s4hana": sap, "maintainx": maintainx, "tryton": tryton}
    finally:
        for h in handles:
            h.stop(drop=True) if hasattr(h, "db") else h.stop()


@pytest.fixture(scope="module")
def synced(sources: dict[str, tuple], tmp_path_factory: pytest.TempPathFactory):
    """Every entity of every system synced (full read) into one store; a token per connection."""
    work = tmp_path_factory.mktemp("unified")
    store = Store(f"sqlite:///{work / 'store.db'}")
    store.migrate()
    configs: dict[str, ConnectionConfig] = {}
    tokens: dict[str, str] = {}
    for system, (url, creds, options) in sources.items():
        cid = f"c-{system.replace('_', '-')}"
        extra: dict[str, Any] = {}
        if system == "maximo":
            extra["status_categories"] = {"work-orders": {"WMATL": "open"}}
        cfg = ConnectionConfig(
            id=cid, customer="acme", system=system, airflow_conn_id="unused",
            page_size=100 if system == "maintainx" else 500, options=options, **extra,
        )  # fmt: skip
        configs[cid] = cfg
        settings = SourceSettings(
            cid, url, creds, zone(cfg.source_timezone), page_size=cfg.page_size, options=options
        )
        with get_connector(system)(settings) as connector:
            for entity in cfg.selected_entities():
                summary = streaming.sync_entity(
                    connector, cfg, entity, Window(), work / cid / entity, store, "full",
                    incremental=True, path_factory=Path,
                )  # fmt: skip
                assert summary["quarantined"] == 0, (system, entity, summary)
            refresh_statuses(store, cfg, connector)
        tokens[cid] = issue_token(store.engine, cid)
    client = make_client(store, config_provider=configs.get)
    yield store, client, configs, tokens
    client.close()
    store.close()


def _all(client, token: str, path: str, **params: str) -> list[dict]:
    """Every record of a list route, by cursor."""
    out: list[dict] = []
    cursor = ""
    while cursor is not None:
        r = client.get(
            path,
            params={"per_page": "1000", "cursor": cursor, **params},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, (path, r.text)
        body = r.json()
        out += body["data"]
        cursor = body["meta"]["next_cursor"]
    return out


def _statuses(client, token: str, entity: str) -> list[dict]:
    r = client.get(
        f"/api/eam/statuses/{entity}",
        params={"per_page": "1000"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    return r.json()["data"]


def _served_entities(cfg: ConnectionConfig) -> list[str]:
    connector = get_connector(cfg.system)
    out = []
    for entity in cfg.selected_entities():
        out.append(entity)
        out += list(connector.entities[entity].mapping.children)
    return out


def _list_path(entity: str) -> str:
    if entity in MATERIAL_ITEM_ENTITIES:
        raise AssertionError(f"{entity}: served under its owner")
    ns = "erp" if entity in ("products", "production-orders") else "eam"
    assert ns == "eam" or entity in ERP_ENTITIES
    return f"/api/{ns}/{entity}"


def _owned(client, token: str, entity: str) -> list[dict]:
    """Every material item of ``entity``, through its owners' sub-routes."""
    owner, _ = MATERIAL_ITEM_ENTITIES[entity]
    sub = "children" if owner == "materials" else "materials"
    out = []
    for rec in _all(client, token, _list_path(owner)):
        out += _all(client, token, f"{_list_path(owner)}/{rec['key']}/{sub}")
    return out


def test_every_record_of_every_entity_has_every_field(synced):
    store, client, configs, tokens = synced
    checked = 0
    for cid, cfg in configs.items():
        for entity in _served_entities(cfg):
            fields = set(ENTITIES[entity].model_fields)
            if entity in MATERIAL_ITEM_ENTITIES:
                rows = _owned(client, tokens[cid], entity)
                assert rows, f"{cfg.system} {entity}: no records synced from the sandbox"
                assert len(rows) == store.count(cid, entity)
                assert all(set(r) == fields for r in rows), (cfg.system, entity)
                checked += len(rows)
                continue
            rows = _all(client, tokens[cid], _list_path(entity))
            assert rows, f"{cfg.system} {entity}: no records synced from the sandbox"
            assert len(rows) == store.count(cid, entity)
            for rec in rows:
                missing = fields - set(rec)
                assert not missing, f"{cfg.system} {entity} {rec['key']}: missing {missing}"
                extra = set(rec) - fields
                assert not extra, f"{cfg.system} {entity} {rec['key']}: unknown {extra}"
            # a detail answer is the same record
            one = client.get(
                f"{_list_path(entity)}/{rows[0]['key']}",
                headers={"Authorization": f"Bearer {tokens[cid]}"},
            )
            assert one.status_code == 200 and set(one.json()["data"]) == fields
            checked += len(rows)
    assert checked > 1000


def test_every_makini_route_answers_on_every_connection(synced):
    """A resource a system does not map is an empty list there, not an error."""
    _, client, configs, tokens = synced
    doc = client.get("/openapi.json").json()
    gets = [p for p, ops in doc["paths"].items() if p.startswith("/api/eam/") and "get" in ops]
    assert len(gets) == 65
    for cid in configs:
        auth = {"Authorization": f"Bearer {tokens[cid]}"}
        for path in gets:
            url = path.replace("{key}", "no-such-key")
            r = client.get(url, headers=auth)
            if path.endswith("{key}"):
                assert r.status_code == 404, (cid, path, r.text)
            else:
                assert r.status_code == 200, (cid, path, r.text)


def test_the_same_status_category_filter_on_four_systems(synced):
    _, client, configs, tokens = synced
    assert {c.system for c in configs.values()} == set(OPEN_RAW)
    for cid, cfg in configs.items():
        token = tokens[cid]
        every = _all(client, token, "/api/eam/work-orders", include_remote_data="true")
        expected = {
            r["key"]
            for r in every
            if _raw_status(cfg.system, r["remoteData"]) in OPEN_RAW[cfg.system]
        }
        assert 0 < len(expected) < len(every), (cfg.system, len(expected), len(every))
        got = _all(client, token, "/api/eam/work-orders", **{"filter[statusCategory]": "open"})
        assert {r["key"] for r in got} == expected, cfg.system
        assert all(r["statusCategory"] == "open" for r in got)
        # every record's category is its raw status's, and the raw status is kept
        table = cfg.status_category_table("work-orders")
        assert table is not None
        for r in every:
            assert r["statusCategory"] == table.get(r["status"]), (cfg.system, r["status"])
        # sortable like any field (NULLs last)
        page = client.get(
            "/api/eam/work-orders",
            params={"sort[statusCategory]": "0", "per_page": "1000"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()["data"]
        cats = [r["statusCategory"] for r in page if r["statusCategory"] is not None]
        assert cats == sorted(cats)
        # the override: Maximo's WMATL is open on this connection only
        if cfg.system == "maximo":
            assert any(r["status"] == "WMATL" for r in got)


def test_the_same_status_category_filter_on_purchase_orders(synced):
    _, client, configs, tokens = synced
    for cid, cfg in configs.items():
        every = _all(client, tokens[cid], "/api/eam/purchase-orders", include_remote_data="true")
        expected = {
            r["key"]
            for r in every
            if _raw_po_status(cfg.system, r["remoteData"]) in APPROVED_RAW[cfg.system]
        }
        assert 0 < len(expected) < len(every), (cfg.system, len(expected), len(every))
        got = _all(
            client,
            tokens[cid],
            "/api/eam/purchase-orders",
            **{"filter[statusCategory]": "approved"},
        )
        assert {r["key"] for r in got} == expected, cfg.system


def test_status_routes_list_each_raw_status_with_its_category(synced):
    _, client, configs, tokens = synced
    for cid, cfg in configs.items():
        table = cfg.status_category_table("work-orders") or {}
        rows = _statuses(client, tokens[cid], "work-orders")
        assert rows, cfg.system
        for row in rows:
            assert row["statusCategory"] == table.get(row["code"]), (cfg.system, row)
            assert set(row) == set(Status.model_fields), (cfg.system, row)
        codes = {row["code"] for row in rows}
        assert OPEN_RAW[cfg.system] & codes
    maximo = next(c for c, cfg in configs.items() if cfg.system == "maximo")
    rows = _statuses(client, tokens[maximo], "work-orders")
    assert {r["code"]: r["statusCategory"] for r in rows}["WMATL"] == "open"


def test_sap_service_requests_by_status_category(synced):
    """SAP's maintenance notifications as service requests: the processing phase (remoteData's
    NotifProcessingPhase; 1 Outstanding and 2 Postponed are open) decides the category the
    filter and the status route use."""
    _, client, configs, tokens = synced
    cid = next(c for c, cfg in configs.items() if cfg.system == "sap_s4hana")
    every = _all(client, tokens[cid], "/api/eam/service-requests", include_remote_data="true")
    expected = {r["key"] for r in every if r["remoteData"]["NotifProcessingPhase"] in {"1", "2"}}
    assert 0 < len(expected) < len(every)
    got = _all(client, tokens[cid], "/api/eam/service-requests",
               **{"filter[statusCategory]": "open"})  # fmt: skip
    assert {r["key"] for r in got} == expected
    rows = {r["code"]: r["statusCategory"] for r in _statuses(client, tokens[cid],
                                                               "service-requests")}  # fmt: skip
    assert rows == {"Outstanding": "open", "Postponed": "open", "In Process": "in_progress",
                    "Completed": "closed"}  # fmt: skip
