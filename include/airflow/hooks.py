"""One Airflow hook per source system, generated from the connector registry.

Each system's form (``connectors/<system>/connection.yaml``, `connectors.connection`) becomes a
hook class here, ``MillwrightMaximoHook`` for conn type ``millwright_maximo`` and so on, and
an entry of the provider info (`include.airflow.provider`). Nothing is listed per system: a new
connector folder with its ``connection.yaml`` gets its hook and its Connection form.

- `hook_for(cfg)`: the hook of a Millwright connection (its system's class, its Airflow
  Connection); ``hook.get_conn(cfg)`` is the connector the tasks read with;
- ``hook.test_connection()``: what Airflow's Test button and ``POST /api/v2/connections/test``
  call: the connector's `check()` (one cheap authenticated call), ``(False, reason)`` with the
  source's plain reason otherwise.

A Connection of another type (an older ``http`` one) is read by the system's rules too: the
hook is chosen by the Millwright connection's system, not by the Connection's type.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from airflow.sdk import BaseHook

from connectors.base import Connector, SourceSettings
from connectors.connection import ConnFields, check, form, forms, settings_from
from connectors.registry import get_connector
from include.airflow.provider import class_name
from include.config import ConnectionConfig
from include.model.timeutil import zone


def conn_fields(conn: Any) -> ConnFields:
    """An Airflow Connection's fields as the connectors read them (no Airflow types below)."""
    return ConnFields(
        host=conn.host, login=conn.login, password=conn.password, schema=conn.schema,
        port=conn.port, extra=conn.extra_dejson or {}, conn_type=conn.conn_type,
        conn_id=conn.conn_id,
    )  # fmt: skip


class MillwrightHook(BaseHook):
    """The base of the generated hooks: a source system's Airflow Connection -> its connector."""

    system: ClassVar[str] = ""
    conn_name_attr = "millwright_conn_id"
    default_conn_name = "millwright_default"
    conn_type = ""
    hook_name = ""

    def __init__(self, millwright_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.millwright_conn_id = millwright_conn_id

    def fields(self) -> ConnFields:
        """The Airflow Connection's fields; ValueError naming the Connection when it is missing."""
        try:
            conn = self.get_connection(self.millwright_conn_id)
        except Exception as exc:
            raise ValueError(
                f"Airflow Connection {self.millwright_conn_id!r} not found ({exc})"
            ) from None
        return conn_fields(conn)

    def source_settings(
        self, cfg: ConnectionConfig | None = None, *, name_connection: bool = True
    ) -> SourceSettings:
        """The connector's settings: the Connection's host, credentials (one name each, by the
        system's form) and options, with the Millwright connection's config when given (its
        time zone, page size and ``options``, which win over the Connection's)."""
        fields = self.fields()
        if not name_connection:  # Airflow's test runs on a transient, randomly named copy
            fields = replace(fields, conn_id=None)
        if cfg is None:
            return settings_from(
                self.system, fields, connection_id=self.millwright_conn_id, timezone=zone("UTC")
            )
        return settings_from(
            self.system, fields, connection_id=cfg.id, timezone=zone(cfg.source_timezone),
            page_size=cfg.page_size, options=cfg.options, custom_paths=cfg.custom_paths(),
        )  # fmt: skip

    def get_conn(self, cfg: ConnectionConfig | None = None) -> Connector:
        """The system's connector on this Connection (close it, or use it as a context)."""
        return get_connector(self.system)(self.source_settings(cfg))

    def test_connection(self) -> tuple[bool, str]:
        """The connector's `check()`: one cheap authenticated call to the source."""
        try:
            settings = self.source_settings(name_connection=False)
        except ValueError as exc:
            return False, str(exc)
        reason = check(self.system, settings)
        if reason is not None:
            return False, reason
        return True, f"{form(self.system).label}: connected to {settings.host}"


def _make(system: str) -> type[MillwrightHook]:
    f = form(system)
    doc = f"Airflow hook for {f.label} (conn type ``{f.conn_type}``), generated from its form."
    return type(
        class_name(system),
        (MillwrightHook,),
        {"system": system, "conn_type": f.conn_type, "hook_name": f.label, "__doc__": doc,
         "__module__": __name__},
    )  # fmt: skip


HOOKS: dict[str, type[MillwrightHook]] = {f.system: _make(f.system) for f in forms(strict=False)}
globals().update({cls.__name__: cls for cls in HOOKS.values()})


def hook_class(system: str) -> type[MillwrightHook]:
    if system not in HOOKS:
        form(system)  # a folder whose connection.yaml is missing or wrong: FormError says why
        raise KeyError(f"no hook for system {system!r}; known: {', '.join(HOOKS)}")
    return HOOKS[system]


def hook_for(cfg: ConnectionConfig) -> MillwrightHook:
    """The hook of a Millwright connection: its system's class on its Airflow Connection."""
    return hook_class(cfg.system)(millwright_conn_id=cfg.airflow_conn_id)


class HookSourceAccess:
    """`include.admin.base.SourceAccess` through the connections' hooks: what lets the
    lifecycle DAG's pass act at a source with the stored credentials (e.g. remove a
    disconnected connection's webhook subscriptions)."""

    def connector(self, cfg: ConnectionConfig) -> Connector:
        return hook_for(cfg).get_conn(cfg)

    def extra(self, cfg: ConnectionConfig) -> dict[str, Any]:
        return dict(hook_for(cfg).fields().extra)
