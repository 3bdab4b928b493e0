"""The provider info and the generated hooks, in-process: every system has its connection type,
the provider info passes Airflow's own schemas, and a sync task's connector comes from the hook
with one credential name per system, for a Connection of the system's type and an older ``http``
one alike (read from ``AIRFLOW_CONN_*`` as Airflow reads it)."""

from __future__ import annotations

import json

import pytest

from connectors.registry import systems
from include.config import ConnectionConfig

pytestmark = pytest.mark.airflow


def test_provider_info_passes_airflows_schemas():
    import jsonschema
    from airflow.providers_manager import _read_schema_from_resources_or_local_file

    from include.airflow.provider import get_provider_info

    info = get_provider_info()
    jsonschema.validate(
        info, _read_schema_from_resources_or_local_file("provider_info.schema.json")
    )
    behaviours = _read_schema_from_resources_or_local_file(
        "customized_form_field_behaviours.schema.json"
    )
    types = {c["connection-type"]: c for c in info["connection-types"]}
    assert sorted(types) == [f"millwright_{s}" for s in systems()]
    for c in types.values():
        b = c["ui-field-behaviour"]
        jsonschema.validate({"hidden_fields": b["hidden-fields"], "relabeling": b["relabeling"],
                             "placeholders": b["placeholders"]}, behaviours)  # fmt: skip
    assert types["millwright_maximo"]["conn-fields"]["api_root"] == {
        "label": "API root",
        "description": "Path of the JSON API on the server (default /maximo/api).",
        "schema": {"type": ["string", "null"]},
    }
    assert types["millwright_maximo"]["ui-field-behaviour"]["placeholders"]["api_root"] == (
        "/maximo/api"
    )


def test_a_hook_per_system_importable_by_its_name():
    from airflow._shared.module_loading import import_string
    from airflow.sdk import BaseHook

    from include.airflow.provider import get_provider_info

    for c in get_provider_info()["connection-types"]:
        cls = import_string(c["hook-class-name"])
        assert issubclass(cls, BaseHook)
        assert (cls.conn_type, cls.hook_name) == (c["connection-type"], c["hook-name"])
        assert cls.conn_name_attr == "millwright_conn_id"


def _cfg(system: str, conn_id: str, **kw) -> ConnectionConfig:
    return ConnectionConfig.model_validate(
        {
            "id": f"c-{system}",
            "customer": "acme",
            "system": system,
            "airflow_conn_id": conn_id,
            **kw,
        }
    )


@pytest.mark.parametrize(
    ("system", "conn", "credentials", "options"),
    [
        ("maximo", {"conn_type": "millwright_maximo", "host": "https://mx.example",
                    "password": "k1", "extra": {"api_root": "/maxrest/api"}},
         {"apikey": "k1"}, {"api_root": "/maxrest/api"}),
        ("maximo", {"conn_type": "http", "host": "127.0.0.1", "port": 8801, "password": "k2"},
         {"apikey": "k2"}, {}),
        ("maintainx", {"conn_type": "http", "host": "https://api.example",
                       "extra": {"api_key": "k3"}}, {"api_key": "k3"}, {}),
        ("sap_s4hana", {"conn_type": "millwright_sap_s4hana", "host": "https://s4.example",
                        "login": "COMM", "password": "p", "extra": {"sap_client": "100"}},
         {"user": "COMM", "password": "p"}, {"sap_client": "100"}),
        ("tryton", {"conn_type": "millwright_tryton", "host": "https://erp.example",
                    "schema": "prod", "login": "admin", "password": "p"},
         {"user": "admin", "password": "p"}, {"database": "prod"}),
    ],
)  # fmt: skip
def test_tasks_get_their_connector_from_the_hook(
    monkeypatch: pytest.MonkeyPatch, system, conn, credentials, options
):
    from include.airflow import glue

    monkeypatch.setenv("AIRFLOW_CONN_MW_HOOK_T", json.dumps(conn))
    cfg = _cfg(system, "mw_hook_t", page_size=50)
    settings = glue.source_settings(cfg)
    assert dict(settings.credentials) == credentials
    assert dict(settings.options) == options
    assert settings.page_size == 50 and settings.connection_id == cfg.id
    assert sorted(glue.secret_values(cfg)) == sorted(credentials.values())
    with glue.make_connector(cfg) as connector:
        assert connector.system == system and connector.settings == settings


def test_a_missing_connection_or_credential_is_named(monkeypatch: pytest.MonkeyPatch):
    from include.airflow import glue

    with pytest.raises(
        ValueError, match="connection c-maximo: Airflow Connection 'mw_none' not found"
    ):
        glue.source_settings(_cfg("maximo", "mw_none"))
    monkeypatch.setenv("AIRFLOW_CONN_MW_NOKEY", json.dumps(
        {"conn_type": "millwright_sap_s4hana", "host": "https://s4.example", "login": "u"}))  # fmt: skip
    with pytest.raises(ValueError, match="Airflow Connection 'mw_nokey' has no Password"):
        glue.make_connector(_cfg("sap_s4hana", "mw_nokey"))


def test_the_config_options_win_over_the_connection(monkeypatch: pytest.MonkeyPatch):
    from include.airflow import glue

    monkeypatch.setenv("AIRFLOW_CONN_MW_T", json.dumps({"conn_type": "millwright_tryton",
        "host": "h", "schema": "a", "login": "u", "password": "p"}))  # fmt: skip
    cfg = _cfg("tryton", "mw_t", options={"database": "b"})
    assert glue.source_settings(cfg).options == {"database": "b"}
