"""A connection's `SourceSettings` from the parts of an Airflow Connection (host, schema, port,
login, password, extra): the same rules wherever those parts come from (the Airflow Connection
in a task, the credentials of an admin API create before the Connection exists)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from connectors.base import SourceSettings
from include.config.connection import ConnectionConfig
from include.model.timeutil import zone


def host_url(host: str | None, schema: str | None, port: int | None, conn_id: str = "") -> str:
    """Base URL from host (with or without a scheme), schema (http/https) and port."""
    host = (host or "").strip().rstrip("/")
    if not host:
        raise ValueError(f"Airflow Connection {conn_id!r} has no host")
    if "://" not in host:
        scheme = schema if schema in ("http", "https") else "http"
        host = f"{scheme}://{host}"
    parts = urlsplit(host)
    if port and parts.port is None:
        parts = parts._replace(netloc=f"{parts.netloc}:{port}")
    return urlunsplit(parts)


def credentials(
    extra: Mapping[str, Any] | None, login: str | None, password: str | None
) -> dict[str, str]:
    """Every extra (``apikey``, ``client_secret``...), login (also as ``user``) and password
    (also as ``apikey``/``api_key``) unless an extra sets them, as strings."""
    creds = {k: str(v) for k, v in (extra or {}).items() if v is not None}
    if login:
        creds.setdefault("login", login)
        creds.setdefault("user", login)
    if password:
        creds.setdefault("password", password)
        creds.setdefault("apikey", password)  # the names connectors use for a key
        creds.setdefault("api_key", password)
    return creds


def settings_for(cfg: ConnectionConfig, host: str, creds: Mapping[str, str]) -> SourceSettings:
    """The connector's settings for ``cfg`` (its custom fields' paths to request included)."""
    return SourceSettings(
        connection_id=cfg.id,
        host=host,
        credentials=dict(creds),
        timezone=zone(cfg.source_timezone),
        page_size=cfg.page_size,
        options=dict(cfg.options),
        custom_paths=cfg.custom_paths(),
    )
