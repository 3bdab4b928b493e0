"""The one place the product reads Airflow Variables and Connections.

- `read_connections()`: the ``millwright_connections`` Variable, parsed (one round trip per parse);
- `store_url()` / `open_store()`: ``MILLWRIGHT_STORE_URL`` env > Airflow Connection
  ``millwright_store`` > `Store.from_env()` (SQLite under ``MILLWRIGHT_HOME``);
- `source_settings(cfg)` / `make_connector(cfg)`: through the system's hook
  (`include.airflow.hooks`), host and secrets from the connection's Airflow Connection;
- `staging_root()`: ``MILLWRIGHT_STAGING_URL`` or ``file://$MILLWRIGHT_HOME/staging``;
  `clean_staging()` after a run's last task (see `include.sync.staging`).

Secrets only travel in `SourceSettings.credentials`; nothing here logs them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from connectors.base import Connector, SourceSettings
from include.config import (
    VARIABLE_NAME,
    ConfigError,
    ConnectionConfig,
    mask_secrets,
    parse_connections,
)
from include.config import VariableError as VariableError
from include.config.naming import staging_parts
from include.model.timeutil import parse_duration

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from include.store import Store

log = logging.getLogger(__name__)

STORE_CONN_ID = "millwright_store"
LOAD_POOL = os.environ.get("MILLWRIGHT_LOAD_POOL", "millwright_store_writer")
STAGING_MAX_AGE_ENV = "MILLWRIGHT_STAGING_MAX_AGE"
STAGING_MAX_AGE_DEFAULT = "3d"


def millwright_home() -> Path:
    return Path(os.environ.get("MILLWRIGHT_HOME") or Path.home() / ".millwright")


# ---------------------------------------------------------------- the Variable


def read_variable_text() -> str | None:
    """The Variable's raw text, or None when it is not set. Other read failures raise VariableError."""
    from airflow.sdk import Variable

    try:
        return Variable.get(VARIABLE_NAME, default=None)
    except Exception as exc:  # the API/DB is unreachable: never treat that as "no connections"
        raise VariableError(f"cannot read Airflow Variable {VARIABLE_NAME!r}: {exc}") from exc


def read_connections() -> list[ConnectionConfig | ConfigError]:
    """Parse the Variable; raises VariableError when it is missing or unusable."""
    return parse_connections(read_variable_text())


# ---------------------------------------------------------------- the store


def _conn_to_sqlalchemy_url(conn: Any) -> str:
    extra = conn.extra_dejson or {}
    if extra.get("url"):
        return str(extra["url"])
    ctype = (conn.conn_type or "").lower()
    if ctype in ("postgres", "postgresql"):
        auth = ""
        if conn.login:
            auth = quote(conn.login, safe="")
            if conn.password:
                auth += ":" + quote(conn.password, safe="")
            auth += "@"
        port = f":{conn.port}" if conn.port else ""
        return f"postgresql+psycopg://{auth}{conn.host or '127.0.0.1'}{port}/{conn.schema or ''}"
    if ctype == "sqlite":
        return f"sqlite:///{conn.host}"
    return conn.get_uri()


def store_url() -> str | None:
    """``MILLWRIGHT_STORE_URL``, else the ``millwright_store`` Airflow Connection, else None."""
    env = os.environ.get("MILLWRIGHT_STORE_URL")
    if env:
        return env
    try:
        from airflow.sdk import Connection

        conn = Connection.get(STORE_CONN_ID)
    except Exception:  # not defined (AirflowNotFoundException) or no Airflow context
        return None
    return _conn_to_sqlalchemy_url(conn)


def open_store() -> Store:
    """The product store, migrated lazily by the store itself."""
    from include.store import Store

    url = store_url()
    store = Store(url) if url else Store.from_env()
    store.migrate()
    return store


# ---------------------------------------------------------------- sources


def source_settings(cfg: ConnectionConfig) -> SourceSettings:
    """Settings for the connector from the connection's Airflow Connection, through its
    system's hook (`include.airflow.hooks`): host, the credentials under the ONE name each the
    connector reads (``connectors/<system>/connection.yaml``), options. ValueError naming the
    Connection when it is missing or lacks the host or a credential."""
    from include.airflow.hooks import hook_for

    try:
        return hook_for(cfg).source_settings(cfg)
    except ValueError as exc:
        raise ValueError(f"connection {cfg.id}: {exc}") from None


def secret_values(cfg: ConnectionConfig) -> list[str]:
    """The values of the connection's credentials, to mask in a stored failure reason ([] when
    the Airflow Connection cannot be read: nothing to mask)."""
    try:
        return [str(v) for v in source_settings(cfg).credentials.values() if v is not None]
    except Exception:
        return []


WEBHOOK_SECRET_KEYS = ("webhook_secret", "webhook_secret_previous")


def webhook_secrets(cfg: ConnectionConfig, conn: Any | None = None) -> tuple[str, ...]:
    """The secrets that may sign the connection's webhooks: the ``webhook_secret`` extra of its
    Airflow Connection (a string or a list) and ``webhook_secret_previous`` (during a rotation).
    Limble signs with the account's API key: without a ``webhook_secret``, its key is used.
    Read through Airflow's secrets backends and metastore (the api-server's way)."""
    if conn is None:
        from airflow.models.connection import Connection

        conn = Connection.get_connection_from_secrets(cfg.airflow_conn_id)
    extra = conn.extra_dejson or {}
    out: list[str] = []
    for key in WEBHOOK_SECRET_KEYS:
        value = extra.get(key)
        if isinstance(value, str) and value.strip().startswith("["):
            # a form field holding a JSON list (several subscriptions, a rotation)
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        values = value if isinstance(value, list) else [value]
        out += [str(v) for v in values if v not in (None, "")]
    if not out and cfg.webhook_scheme() == "limble":
        key = extra.get("api_key") or extra.get("apikey") or conn.password
        out += [str(key)] if key else []
    return tuple(out)


def webhook_sources(configs: Any, ttl: float = 30.0, miss_ttl: float = 2.0) -> Any:
    """The receiver's provider (`include.api.webhooks.SourceProvider`): a connection's scheme,
    status and secrets from the Variable (``configs``: the API's config provider) and its Airflow
    Connection, cached ``ttl`` seconds per connection. A connection the cached configs do not
    know (or know without webhooks) makes them re-read the Variable first, at most once per
    ``miss_ttl`` seconds, and that miss is cached only ``miss_ttl``: a connection created or
    reconnected a moment ago is received at once, not answered 404 for the caches' minute."""
    import threading
    import time

    from connectors.registry import get_connector
    from include.api.webhooks import WebhookSource

    lock = threading.Lock()
    cache: dict[str, tuple[float, Any]] = {}

    def build(cid: str) -> WebhookSource | None:
        cfg = configs(cid)
        refresh = getattr(configs, "refresh", None)
        if (cfg is None or not cfg.webhooks_on) and refresh is not None:
            refresh(miss_ttl)
            cfg = configs(cid)
        if cfg is None or not cfg.webhooks_on:
            return None
        try:
            secrets = webhook_secrets(cfg)
        except Exception as exc:  # not found, or Airflow unreachable: nothing verifies
            log.warning("webhooks %s: no secret readable (%s)", cid, type(exc).__name__)
            secrets = ()
        wh = cfg.webhooks
        spec = getattr(get_connector(cfg.system), "webhooks", None)
        return WebhookSource(cid, cfg.status, cfg.webhook_scheme(), secrets,
                             wh.seconds("tolerance"), wh.header, spec)  # fmt: skip

    def provide(cid: str) -> WebhookSource | None:
        now = time.monotonic()
        with lock:
            hit = cache.get(cid)
            if hit and now - hit[0] < (ttl if hit[1] is not None else miss_ttl):
                return hit[1]
        src = build(cid)
        with lock:
            cache[cid] = (now, src)
        return src

    return provide


def make_connector(cfg: ConnectionConfig) -> Connector:
    """The connection's connector, from its system's hook (what the tasks read with)."""
    from include.airflow.hooks import hook_for

    try:
        return hook_for(cfg).get_conn(cfg)
    except ValueError as exc:
        raise ValueError(f"connection {cfg.id}: {exc}") from None


# ---------------------------------------------------------------- staging


def staging_root() -> ObjectStoragePath:
    from airflow.sdk import ObjectStoragePath

    url = os.environ.get("MILLWRIGHT_STAGING_URL") or f"file://{millwright_home() / 'staging'}"
    return ObjectStoragePath(url)


def staging_dir(connection_id: str, entity: str, run_id: str) -> ObjectStoragePath:
    cid, entity_dir, run_dir = staging_parts(connection_id, entity, run_id)
    return staging_root() / cid / entity_dir / run_dir


def to_staging_path(text: str) -> ObjectStoragePath:
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(text)


def staging_max_age() -> float:
    """Seconds after which an unheld run directory is removed by any successful run:
    ``MILLWRIGHT_STAGING_MAX_AGE`` (``90s``, ``15m``, ``12h``, ``3d``; default 3 days)."""
    text = os.environ.get(STAGING_MAX_AGE_ENV, "").strip() or STAGING_MAX_AGE_DEFAULT
    try:
        seconds = parse_duration(text).total_seconds()
    except ValueError as exc:
        raise ValueError(f"{STAGING_MAX_AGE_ENV}: {exc}") from None
    if seconds <= 0:
        raise ValueError(f"{STAGING_MAX_AGE_ENV}: must be more than 0, got {text!r}")
    return seconds


def remove_staging(path: ObjectStoragePath) -> None:
    """Remove one run directory (a failed run whose staging a retry cannot use)."""
    if path.exists():
        path.rmdir(recursive=True)


def clean_staging(connection_id: str, entity: str, run_id: str) -> None:
    """After a run's last task for ``entity`` succeeded: remove its staging, the staging of the
    connection and entity's runs no process holds any more (a killed run), and run directories
    older than `staging_max_age` (`include.sync.staging.clean_after_success`)."""
    from include.sync import staging

    staging.clean_after_success(
        staging_root(), *staging_parts(connection_id, entity, run_id), max_age=staging_max_age()
    )


def config_doc(cfg: ConnectionConfig) -> str:
    """Markdown for a DAG's doc_md: the connection's config. Validation refuses secret-looking
    option keys; their values are masked here anyway (defence in depth: the doc is serialized
    with the DAG and shown in the UI)."""
    body = json.dumps(mask_secrets(cfg.model_dump(mode="json")), indent=2)
    return (
        f"### Millwright connection `{cfg.id}`\n\n"
        f"Customer **{cfg.customer}**, system **{cfg.system}** ({cfg.deployment}), "
        f"credentials in Airflow Connection `{cfg.airflow_conn_id}`.\n\n"
        f"```json\n{body}\n```\n"
    )
