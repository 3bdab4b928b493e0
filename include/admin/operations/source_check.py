"""Before create or reconnect saves anything: the source must accept the credentials.

The same test as Airflow's Test button (``hook.test_connection()``): the connector's `check()`,
one cheap authenticated call (`connectors.connection.check`). Credentials that came with the
request are tested here; a stored Airflow Connection is tested by Airflow itself
(`AirflowAdapter.test_connection`: ``POST /api/v2/connections/test`` with the system's
connection type, which needs ``[core] test_connection = Enabled``), since Airflow's REST API
never hands its secrets out. A refusal raises `SourceRefused` with the source's plain reason.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from connectors.connection import ConnFields, check, form, settings_from
from include.admin.airflow_adapter import AirflowError, Credentials
from include.admin.base import AdminContext
from include.admin.errors import AirflowUnavailable, SourceRefused
from include.config import ConnectionConfig
from include.model.timeutil import zone


def typed(system: str, creds: Credentials) -> Credentials:
    """The credentials with the system's connection type when none was given."""
    return creds if creds.conn_type else replace(creds, conn_type=form(system).conn_type)


def option_fields(cfg: ConnectionConfig) -> dict[str, Any]:
    """The connection config's options that the system's form reads from a Connection field
    (Tryton's ``database`` from ``schema``...), as Connection fields for Airflow's test."""
    f = form(cfg.system)
    out: dict[str, Any] = {}
    for option, source in f.options.items():
        if option in cfg.options and cfg.options[option] not in (None, ""):
            if source in ("host", "login", "password", "schema", "port"):
                out[source] = cfg.options[option]
            else:
                out.setdefault("extra", {})[source] = str(cfg.options[option])
    return out


def check_source(ctx: AdminContext, cfg: ConnectionConfig, creds: Credentials | None) -> None:
    """Refuse (`SourceRefused`, field ``credentials``) unless the source accepts the
    credentials: ``creds`` when given, else the stored Airflow Connection."""
    if creds is not None:
        fields = ConnFields(
            host=creds.host, login=creds.login, password=creds.password, schema=creds.schema,
            port=creds.port, extra=creds.extra, conn_type=typed(cfg.system, creds).conn_type,
            conn_id=cfg.airflow_conn_id,
        )  # fmt: skip
        try:
            settings = settings_from(
                cfg.system, fields, connection_id=cfg.id, timezone=zone(cfg.source_timezone),
                page_size=cfg.page_size, options=cfg.options,
            )  # fmt: skip
        except ValueError as exc:
            raise SourceRefused(f"credentials: {exc}", "credentials") from None
        reason = check(cfg.system, settings)
    else:
        conn_type = form(cfg.system).conn_type
        try:
            ok, message = ctx.airflow.test_connection(
                cfg.airflow_conn_id, conn_type, option_fields(cfg)
            )
        except AirflowError as exc:
            raise AirflowUnavailable(
                f"cannot test Airflow Connection {cfg.airflow_conn_id!r}: {exc}"
            ) from None
        reason = None if ok else message
    if reason is not None:
        raise SourceRefused(f"credentials: the connection test failed: {reason}", "credentials")
