"""The demo's Airflow Connections are of each system's type and carry what its connector reads:
built from the demo's own ``airflow connections add`` arguments, each passes the system's check
against its sandbox started the way the demo starts it (Tryton: its database from the schema)."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest

from connectors.connection import ConnFields, check, settings_from
from include.cli import demo

SANDBOX_SYSTEMS = ("maximo", "maintainx", "sap_s4hana")  # Tryton's real server: tests/airflow


def start_sandbox(source: demo.DemoSource):
    """The system's sandbox with the secret the demo gives it (`DemoSource.command`)."""
    if source.system == "maximo":
        from connectors.maximo.sandbox import start_sandbox

        return start_sandbox(size=20, apikey=source.secret)
    if source.system == "maintainx":
        from connectors.maintainx.sandbox import start_sandbox

        return start_sandbox(size=20, api_key=source.secret)
    from connectors.sap_s4hana.sandbox import start

    return start(size=20, user="demo", password=source.secret)


def fields_of(args: list[str]) -> ConnFields:
    """``airflow connections add`` arguments as the Connection's fields."""
    values = dict(zip(args[::2], args[1::2], strict=True))
    return ConnFields(
        host=values.get("--conn-host"), login=values.get("--conn-login"),
        password=values.get("--conn-password"), schema=values.get("--conn-schema"),
        port=int(values["--conn-port"]) if "--conn-port" in values else None,
        extra=json.loads(values.get("--conn-extra", "{}")), conn_type=values["--conn-type"],
    )  # fmt: skip


@pytest.mark.parametrize("source", demo.SOURCES, ids=lambda s: s.id)
def test_demo_connection_of_the_systems_type(source: demo.DemoSource):
    fields = fields_of(source.connection_args(8801))
    assert fields.conn_type == f"millwright_{source.system}"
    settings = settings_from(source.system, fields, connection_id=source.id,
                             timezone=ZoneInfo("UTC"))  # fmt: skip
    assert set(settings.credentials.values()) <= {source.secret, "demo", "admin", "demo-app"}
    if source.system == "tryton":
        assert settings.options == {"database": "demo"}


@pytest.mark.integration
@pytest.mark.parametrize("system", SANDBOX_SYSTEMS)
def test_demo_connection_passes_the_check(system: str):
    source = next(s for s in demo.SOURCES if s.system == system)
    url, handle = start_sandbox(source)
    try:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        fields = fields_of(source.connection_args(port))
        settings = settings_from(system, fields, connection_id=source.id, timezone=ZoneInfo("UTC"))
        assert check(system, settings) is None
    finally:
        handle.stop()
