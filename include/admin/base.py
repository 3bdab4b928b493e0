"""What every lifecycle operation works with: `AdminContext` (the store, the Airflow adapter, the
credit cost table, the settle lock), connection requests (`NewConnection`) and their checks."""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from include.admin.airflow_adapter import AirflowAdapter, AirflowError, Credentials
from include.admin.credits import CostTable, load_costs
from include.admin.errors import AirflowUnavailable, LifecycleError, NotFound
from include.config import ConnectionConfig
from include.store import Store
from include.store import registry as db
from include.store.engine import Conn


class SourceAccess(Protocol):
    """A connection's source through its stored Airflow Connection, secrets included. Only a
    process inside Airflow has one (the lifecycle DAG's task opens the Connection's hook,
    include/airflow/hooks.py); the admin API never reads a stored secret."""

    def connector(self, cfg: ConnectionConfig) -> Any:
        """The connector on the Connection (a context manager: it is closed after use)."""
        ...

    def extra(self, cfg: ConnectionConfig) -> dict[str, Any]:
        """The Connection's extra."""
        ...


@dataclass
class AdminContext:
    """The services an operation uses. ``costs``: a fixed cost table (else read from Airflow);
    ``source``: access to the sources' stored credentials (only inside Airflow, else None)."""

    store: Store
    airflow: AirflowAdapter
    fixed_costs: CostTable | None = None
    settle_lock: threading.Lock = field(default_factory=threading.Lock)
    source: SourceAccess | None = None

    def costs(self) -> CostTable:
        if self.fixed_costs is not None:
            return self.fixed_costs
        try:
            return load_costs(self.airflow.get_variable)
        except AirflowError as exc:
            raise AirflowUnavailable(f"cannot read the credit cost table: {exc}") from None

    def row(self, conn: Conn, cid: str, *, for_update: bool = False) -> dict[str, Any]:
        """The registry row of ``cid``, else `NotFound`."""
        row = db.get(conn, cid, for_update=for_update)
        if row is None:
            raise NotFound(f"connection {cid!r} not found", "id")
        return row

    def conn_exists(self, conn_id: str) -> bool:
        try:
            return self.airflow.connection_exists(conn_id)
        except AirflowError as exc:
            raise AirflowUnavailable(str(exc)) from None


@dataclass
class NewConnection:
    customer: str
    system: str
    deployment: str = "cloud"
    credentials: Credentials | None = None
    airflow_conn_id: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    name: str | None = None
    email: str | None = None
    tags: list[str] = field(default_factory=list)
    user_metadata: list[dict[str, str]] = field(default_factory=list)
    id: str | None = None


def _describe(exc: ValidationError) -> tuple[str, str]:
    errs = exc.errors()
    loc = ".".join(str(p) for p in errs[0]["loc"]) if errs and errs[0]["loc"] else "config"
    msg = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'config'}: "
        f"{e['msg'].removeprefix('Value error, ')}"
        for e in errs
    )
    return msg, loc


def validate_config(entry: dict[str, Any]) -> ConnectionConfig:
    try:
        return ConnectionConfig.model_validate(entry)
    except ValidationError as exc:
        msg, loc = _describe(exc)
        raise LifecycleError(msg, loc) from None


def new_id(system: str) -> str:
    return f"{system.replace('_', '-')}-{secrets.token_hex(4)}"


_GENERATION = re.compile(r"^(?P<base>.+)-(?P<n>[0-9]+)$")
MAX_ID = 63  # include.config.connection.SLUG


def successor_id(old_id: str, is_successor: bool, taken: set[str]) -> str:
    """A reconnect's new id, readable as the old one's next generation: ``acme-maximo-us`` ->
    ``acme-maximo-us-2``, and ``acme-maximo-us-2`` (itself a reconnect) -> ``acme-maximo-us-3``;
    the next free number when that id is ``taken`` (by the registry or the Variable)."""
    m = _GENERATION.match(old_id) if is_successor else None
    base, n = (m["base"], int(m["n"])) if m else (old_id, 1)
    while True:
        n += 1
        suffix = f"-{n}"
        cid = base[: MAX_ID - len(suffix)] + suffix
        if cid not in taken:
            return cid


def fresh_start_date() -> str:
    """A new DAG's ``start_date``: this minute, UTC (its first full sync is triggered, so no
    past interval is scheduled on top of it)."""
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:00")
