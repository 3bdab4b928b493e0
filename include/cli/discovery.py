"""Where a command outside Airflow finds the store, Airflow and a connection's config: the same
places as the DAG's tasks (include/airflow/glue.py), and it says which one it took.

- `connect_airflow()`: imports Airflow and, when its metadata DB is set up on this host, reads
  Variables and Connections from it (as the ``airflow`` CLI does); otherwise only from
  ``AIRFLOW_VAR_*`` / ``AIRFLOW_CONN_*`` environment variables and configured secrets backends;
- `discover_store()`: ``MILLWRIGHT_STORE_URL`` > Airflow Connection ``millwright_store`` >
  SQLite ``$MILLWRIGHT_HOME/store.db`` (``~/.millwright`` when unset), with where it came from;
- `find_connection()`: one entry of a connections JSON file or of the Airflow Variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from include.airflow import glue
from include.config import VARIABLE_NAME, ConfigError, ConnectionConfig, parse_connections
from include.store.engine import HOME_ENV, URL_ENV, url_from_env
from include.store.probe import DatabaseUnreachable, has_table, shown_url

if TYPE_CHECKING:
    from include.store import Store

_CONTEXT_ENV = "_AIRFLOW_PROCESS_CONTEXT"  # Airflow's own switch: "server" reads the metadata DB


class DiscoveryError(Exception):
    """A store, Airflow or connection that was asked for cannot be used; the message says why."""


@dataclass(frozen=True)
class AirflowChoice:
    """How Variables and Connections are read in this process."""

    metastore: str | None  # the metadata DB's URL (password hidden) when it is read, else None
    reason: str

    def describe(self) -> str:
        if self.metastore:
            return (
                f"Airflow metadata DB {self.metastore} (and AIRFLOW_VAR_*/AIRFLOW_CONN_* "
                "environment variables, secrets backends)"
            )
        return (
            f"no Airflow metadata DB ({self.reason}): Variables and Connections only from "
            "AIRFLOW_VAR_*/AIRFLOW_CONN_* environment variables and secrets backends"
        )


def _metastore_ready(url: str) -> str | None:
    """None when the metadata DB can be read (its ``variable`` table exists), else why not.
    A configured server that does not answer is an error, not a silent fallback."""
    try:
        ready = has_table(url, "variable")
    except DatabaseUnreachable as exc:
        raise DiscoveryError(
            f"the Airflow metadata DB {shown_url(url)} does not answer: {exc.reason}"
        ) from None
    return None if ready else f"{shown_url(url)} is not set up (`airflow db migrate`)"


def connect_airflow() -> AirflowChoice:
    """Import Airflow and choose where its Variables and Connections are read from."""
    home = os.environ.get("AIRFLOW_HOME")
    if home and not Path(home).is_absolute():  # Airflow refuses a relative SQLite path
        os.environ["AIRFLOW_HOME"] = str(Path(home).resolve())
    import airflow.sdk  # noqa: F401 - loads Airflow's configuration (AIRFLOW_HOME, env)
    from airflow.configuration import conf

    url = conf.get("database", "sql_alchemy_conn")
    why_not = _metastore_ready(url)
    if why_not is None:
        os.environ.setdefault(_CONTEXT_ENV, "server")
        return AirflowChoice(metastore=shown_url(url), reason="")
    return AirflowChoice(metastore=None, reason=why_not)


# ---------------------------------------------------------------- the store


@dataclass(frozen=True)
class StoreChoice:
    url: str
    source: str

    def describe(self) -> str:
        return f"{shown_url(self.url)} (from {self.source})"


def _airflow_store_connection() -> object | None:
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(glue.STORE_CONN_ID)
    except AirflowNotFoundException:
        return None


def discover_store() -> StoreChoice:
    """The store the DAG's tasks would use from this host (see `glue.store_url`)."""
    env = os.environ.get(URL_ENV, "").strip()
    if env:
        return StoreChoice(env, f"environment variable {URL_ENV}")
    conn = _airflow_store_connection()
    if conn is not None:
        url = glue._conn_to_sqlalchemy_url(conn)
        return StoreChoice(url, f"Airflow Connection {glue.STORE_CONN_ID}")
    home = os.environ.get(HOME_ENV)
    source = (
        f"the default ${HOME_ENV}/store.db"
        if home
        else f"the default ~/.millwright/store.db: neither {URL_ENV}, the Airflow Connection "
        f"{glue.STORE_CONN_ID} nor {HOME_ENV} is set"
    )
    return StoreChoice(url_from_env(), source)


def open_store(choice: StoreChoice) -> Store:
    from include.store import Store

    store = Store(choice.url)
    store.migrate()
    return store


# ---------------------------------------------------------------- connections


@dataclass(frozen=True)
class FoundConnection:
    cfg: ConnectionConfig
    source: str


def _config_text(config_file: Path | None) -> tuple[str | None, str]:
    if config_file is not None:
        try:
            return config_file.read_text(), f"file {config_file}"
        except OSError as exc:
            raise DiscoveryError(f"cannot read {config_file}: {exc.strerror}") from None
    env = "AIRFLOW_VAR_" + VARIABLE_NAME.upper()
    where = f"environment variable {env}" if os.environ.get(env) else "Airflow"
    return glue.read_variable_text(), f"Airflow Variable {VARIABLE_NAME} ({where})"


def find_connection(connection_id: str, config_file: Path | None = None) -> FoundConnection:
    """The valid config of ``connection_id``; a `DiscoveryError` naming what is wrong otherwise."""
    text, source = _config_text(config_file)
    try:
        entries = parse_connections(text)
    except glue.VariableError as exc:
        raise DiscoveryError(f"{source}: {exc}") from None
    for entry in entries:
        if isinstance(entry, ConnectionConfig) and entry.id == connection_id:
            return FoundConnection(entry, source)
        if isinstance(entry, ConfigError) and entry.connection_id == connection_id:
            raise DiscoveryError(f"{source}: {entry}")
    known = [e.id if isinstance(e, ConnectionConfig) else e.connection_id for e in entries]
    raise DiscoveryError(
        f"connection {connection_id!r} is not in {source} "
        f"(it has: {', '.join(known) or 'no connections'})"
    )
