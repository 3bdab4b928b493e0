"""MaintainX: the organization's custom-field definitions (``GET /customfields/{entity}``) and
the OpenAPI's standard fields describe each entity; custom fields (an ``extraFields`` label with a
space, an expanded related object's field) arrive after one sync; an unknown label is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.maintainx.sandbox import DEFAULT_API_KEY, start_sandbox
from include.config import ConnectionConfig
from include.store import Store
from include.sync import fields
from tests.fields.conftest import factory, stored, sync

WO = "work-orders"


@pytest.fixture(scope="module")
def mx() -> Iterator[str]:
    url, handle = start_sandbox(seed=5, size=150)
    try:
        yield url
    finally:
        handle.stop()


def cfg(custom: dict) -> ConnectionConfig:
    return ConnectionConfig(id="mx2-cf", customer="globex", system="maintainx",
                            airflow_conn_id="unused", entities=[WO], custom_fields=custom)  # fmt: skip


def source(url: str):
    return factory(url, {"api_key": DEFAULT_API_KEY})


def test_describe_lists_standard_fields_and_the_custom_field_definitions(mx):
    with source(mx)(cfg({})) as c:
        wo = {f.name: f for f in c.describe(WO)}
    extra = {f.name: f for f in wo["extraFields"].children}
    assert extra["Cost Center"].type == "oneline" and extra["Cost Center"].custom
    assert "Shutdown Required" in extra
    assert "name" in {f.name for f in wo["location"].children}
    assert {"dueDate", "estimatedTime", "partStatus"} <= set(wo)


def test_custom_fields_arrive_after_one_sync(mx, store: Store):
    c = cfg({WO: {"costCenter": "extraFields.Cost Center", "locationName": "location.name",
                  "shutdown": "extraFields.Shutdown Required", "parts": "partStatus"}})  # fmt: skip
    sync(store, c, WO, source(mx))
    wos = stored(store, c.id, WO)
    assert len(wos) == 150
    assert all(r["customFields"]["costCenter"].startswith("CC-") for r in wos.values())
    assert any(r["customFields"]["locationName"] for r in wos.values())
    assert all(r["customFields"]["shutdown"] is None for r in wos.values())  # defined, unset
    assert all(r["customFields"]["parts"] == "NO_PARTS" for r in wos.values())


def test_an_unknown_label_is_refused(mx, store: Store):
    c = cfg({WO: {"costCenter": "extraFields.Cost Centre"}})
    with pytest.raises(fields.UnknownCustomFields) as err:
        sync(store, c, WO, source(mx))
    assert "extraFields.Cost Center" in str(err.value)
