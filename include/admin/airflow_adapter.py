"""The one narrow interface through which the admin side reads and changes Airflow state.

- `RestAirflowAdapter`: Airflow's REST API v2 with a JWT from ``POST /auth/token``
  (SimpleAuthManager user or a service account) or a ready token. The product default.
- `MemoryAirflowAdapter`: the same interface over a JSON file (or memory): Millwright's offline
  mode (prepare connections and credits before Airflow runs, then ``airflow variables import``)
  and the test double.

Compare-and-swap: Airflow has no conditional update, so `set_variable_if` reads, compares and
writes under a process lock; callers retry on False (`include.admin.variable` does, then gives
up with `Conflict`). Secrets are sent to Airflow only and never logged.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx

log = logging.getLogger(__name__)


class AirflowError(RuntimeError):
    """Airflow answered with an unexpected error or could not be reached."""


class DagNotFound(AirflowError):
    """The DAG is not (yet) known to Airflow: it appears after the dag-processor parses."""


@dataclass(frozen=True)
class DagState:
    is_paused: bool
    is_stale: bool


@dataclass(frozen=True)
class Credentials:
    """An Airflow Connection's fields. ``password`` and ``extra`` hold secrets."""

    host: str
    login: str | None = None
    password: str | None = field(default=None, repr=False)
    port: int | None = None
    schema: str | None = None
    extra: dict[str, str] = field(default_factory=dict, repr=False)
    conn_type: str | None = None  # None: the system's (``millwright_<system>``)


class AirflowAdapter(Protocol):
    def get_variable(self, key: str) -> str | None: ...
    def set_variable_if(self, key: str, expected: str | None, value: str) -> bool: ...
    def connection_exists(self, conn_id: str) -> bool: ...
    def set_connection(self, conn_id: str, creds: Credentials) -> None: ...
    def delete_connection(self, conn_id: str) -> None: ...
    def test_connection(
        self, conn_id: str, conn_type: str, fields: dict[str, Any]
    ) -> tuple[bool, str]: ...
    def dag_state(self, dag_id: str) -> DagState | None: ...
    def task_ids(self, dag_id: str) -> list[str]: ...
    def set_paused(self, dag_id: str, paused: bool) -> None: ...
    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str: ...
    def delete_dag(self, dag_id: str) -> None: ...


# ---------------------------------------------------------------- REST


_IDEMPOTENT = frozenset({"GET", "PUT", "PATCH", "DELETE"})


class RestAirflowAdapter:
    """Airflow REST API v2. ``base_url`` like ``http://localhost:8080``; auth by ``token`` or by
    ``username``/``password`` exchanged at ``POST /auth/token`` (renewed once on a 401)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self._token, self._user, self._password = token, username, password
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> RestAirflowAdapter:
        """``MILLWRIGHT_AIRFLOW_URL`` + ``MILLWRIGHT_AIRFLOW_TOKEN`` or ``_USER``/``_PASSWORD``."""
        return cls(
            os.environ.get("MILLWRIGHT_AIRFLOW_URL", "http://localhost:8080"),
            token=os.environ.get("MILLWRIGHT_AIRFLOW_TOKEN"),
            username=os.environ.get("MILLWRIGHT_AIRFLOW_USER"),
            password=os.environ.get("MILLWRIGHT_AIRFLOW_PASSWORD"),
        )

    def _login(self) -> None:
        if not self._user:
            raise AirflowError("Airflow rejected the token and no username/password is configured")
        r = self._http.post(
            "/auth/token", json={"username": self._user, "password": self._password}
        )
        if r.status_code not in (200, 201):
            raise AirflowError(f"Airflow login as {self._user!r} failed: HTTP {r.status_code}")
        self._token = r.json()["access_token"]

    def _call(
        self, method: str, path: str, *, idempotent: bool | None = None, **kw: Any
    ) -> httpx.Response:
        """One REST call: logs in again once on 401; retries idempotent calls on 5xx (Airflow on
        SQLite answers 500 while another of its processes holds the database lock)."""
        if self._token is None:
            self._login()
        relogged = False
        for attempt in range(4):
            try:
                r = self._http.request(
                    method, path, headers={"Authorization": f"Bearer {self._token}"}, **kw
                )
            except httpx.HTTPError as exc:
                raise AirflowError(f"Airflow {method} {path}: {type(exc).__name__}") from None
            if r.status_code == 401 and not relogged and self._user:
                relogged = True
                self._login()
                continue
            retry = method in _IDEMPOTENT if idempotent is None else idempotent
            if r.status_code >= 500 and retry and attempt < 3:
                log.warning("Airflow %s %s answered %s; retrying", method, path, r.status_code)
                time.sleep(0.5 * 2**attempt)
                continue
            return r
        return r

    @staticmethod
    def _check(r: httpx.Response, what: str, ok: tuple[int, ...] = (200, 201, 204)) -> None:
        if r.status_code not in ok:
            detail = r.text[:300] if r.status_code < 500 else ""
            raise AirflowError(f"Airflow {what}: HTTP {r.status_code} {detail}".strip())

    # Variables
    def get_variable(self, key: str) -> str | None:
        r = self._call("GET", f"/api/v2/variables/{quote(key, safe='')}")
        if r.status_code == 404:
            return None
        self._check(r, f"get Variable {key}")
        return r.json()["value"]

    def set_variable_if(self, key: str, expected: str | None, value: str) -> bool:
        with self._lock:
            if self.get_variable(key) != expected:
                return False
            body = {"key": key, "value": value}
            if expected is None:
                r = self._call("POST", "/api/v2/variables", json=body)
                if r.status_code == 409:
                    return False
            else:
                r = self._call("PATCH", f"/api/v2/variables/{quote(key, safe='')}", json=body)
            self._check(r, f"write Variable {key}")
            return True

    # Connections
    def connection_exists(self, conn_id: str) -> bool:
        """In Airflow's metastore (its REST API), or where the REST API does not look: an
        ``AIRFLOW_CONN_<ID>`` variable or a secrets backend (`defined_outside_metastore`)."""
        r = self._call("GET", f"/api/v2/connections/{quote(conn_id, safe='')}")
        if r.status_code == 404:
            return defined_outside_metastore(conn_id)
        self._check(r, f"get Connection {conn_id}")
        return True

    def set_connection(self, conn_id: str, creds: Credentials) -> None:
        body = {
            "connection_id": conn_id,
            "conn_type": creds.conn_type or "http",
            "host": creds.host,
            "login": creds.login,
            "password": creds.password,
            "port": creds.port,
            "schema": creds.schema,
            "extra": json.dumps(creds.extra) if creds.extra else None,
        }
        # a POST that committed before its 500 answers 409 when repeated: then PATCH
        r = self._call("POST", "/api/v2/connections", json=body, idempotent=True)
        if r.status_code == 409:
            path = f"/api/v2/connections/{quote(conn_id, safe='')}"
            r = self._call("PATCH", path, json=body)
        self._check(r, f"write Connection {conn_id}")

    def delete_connection(self, conn_id: str) -> None:
        r = self._call("DELETE", f"/api/v2/connections/{quote(conn_id, safe='')}")
        self._check(r, f"delete Connection {conn_id}", (200, 204, 404))

    def test_connection(
        self, conn_id: str, conn_type: str, fields: dict[str, Any]
    ) -> tuple[bool, str]:
        """Airflow tests the stored Connection ``conn_id`` with the hook of ``conn_type`` (its
        stored fields, ``fields`` laid over them): ``POST /api/v2/connections/test``. Needs
        ``[core] test_connection = Enabled`` in Airflow (403 otherwise: `AirflowError`)."""
        body: dict[str, Any] = {"connection_id": conn_id, "conn_type": conn_type}
        for key, value in fields.items():
            body[key] = json.dumps(value) if key == "extra" else value
        r = self._call("POST", "/api/v2/connections/test", json=body, idempotent=True)
        if r.status_code == 403 and "disabled" in r.text:
            raise AirflowError(
                "Airflow's connection test is disabled ([core] test_connection = Enabled, "
                "or AIRFLOW__CORE__TEST_CONNECTION=Enabled, turns it on)"
            )
        self._check(r, f"test Connection {conn_id}", (200,))
        out = r.json()
        return bool(out.get("status")), str(out.get("message") or "")

    # DAGs
    def dag_state(self, dag_id: str) -> DagState | None:
        r = self._call("GET", f"/api/v2/dags/{quote(dag_id, safe='')}")
        if r.status_code == 404:
            return None
        self._check(r, f"get DAG {dag_id}")
        body = r.json()
        return DagState(bool(body.get("is_paused")), bool(body.get("is_stale")))

    def task_ids(self, dag_id: str) -> list[str]:
        """The tasks of the DAG as Airflow last parsed it."""
        r = self._call("GET", f"/api/v2/dags/{quote(dag_id, safe='')}/tasks")
        if r.status_code == 404:
            raise DagNotFound(dag_id)
        self._check(r, f"list the tasks of DAG {dag_id}")
        return [str(t["task_id"]) for t in r.json().get("tasks", [])]

    def set_paused(self, dag_id: str, paused: bool) -> None:
        r = self._call(
            "PATCH",
            f"/api/v2/dags/{quote(dag_id, safe='')}",
            params={"update_mask": "is_paused"},
            json={"is_paused": paused},
        )
        if r.status_code == 404:
            raise DagNotFound(dag_id)
        self._check(r, f"pause DAG {dag_id}")

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        r = self._call(
            "POST",
            f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns",
            json={"logical_date": None, "conf": conf},
        )
        if r.status_code == 404:
            raise DagNotFound(dag_id)
        self._check(r, f"trigger DAG {dag_id}")
        return str(r.json()["dag_run_id"])

    def delete_dag(self, dag_id: str) -> None:
        r = self._call("DELETE", f"/api/v2/dags/{quote(dag_id, safe='')}")
        self._check(r, f"delete DAG {dag_id}", (200, 204, 404))


def defined_outside_metastore(conn_id: str) -> bool:
    """Whether Airflow Connection ``conn_id`` is defined outside Airflow's metastore, seen from
    this process: an ``AIRFLOW_CONN_<ID>`` environment variable, or a secrets backend Airflow is
    configured with here (when Airflow is importable, as inside its api-server, where the plugin
    runs). Airflow's REST API lists only the metastore's."""
    if os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}"):
        return True
    try:
        from airflow.configuration import ensure_secrets_loaded
        from airflow.secrets.metastore import MetastoreBackend
    except ImportError:  # a client without Airflow: the environment is all it can see
        return False
    for backend in ensure_secrets_loaded():
        if isinstance(backend, MetastoreBackend):  # the REST API has answered for it
            continue
        try:
            if backend.get_connection(conn_id) is not None:
                return True
        except Exception:  # noqa: BLE001 - an unreachable backend: not seen, as in Airflow
            continue
    return False


# ---------------------------------------------------------------- offline / memory


class MemoryAirflowAdapter:
    """Airflow state in memory, persisted to ``path`` (JSON) when given. DAGs "exist" once
    `register_dag` is called (what Airflow's parse does); unknown DAGs raise `DagNotFound`."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.state: dict[str, Any] = {"variables": {}, "connections": {}, "dags": {}, "runs": []}
        if path is not None and path.exists():
            self.state = json.loads(path.read_text())

    def _save(self) -> None:
        if self.path is not None:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.state, indent=2))
            os.replace(tmp, self.path)

    def register_dag(
        self, dag_id: str, *, paused: bool = True, stale: bool = False,
        tasks: list[str] | None = None,
    ) -> None:  # fmt: skip
        """What a parse does: the DAG exists (with ``tasks``); a re-parse keeps its pause state."""
        with self._lock:
            known = self.state["dags"].get(dag_id)
            if known is not None:
                paused = known["is_paused"]
            self.state["dags"][dag_id] = {
                "is_paused": paused, "is_stale": stale, "tasks": list(tasks or []),
            }  # fmt: skip
            self._save()

    def get_variable(self, key: str) -> str | None:
        return self.state["variables"].get(key)

    def set_variable_if(self, key: str, expected: str | None, value: str) -> bool:
        with self._lock:
            if self.state["variables"].get(key) != expected:
                return False
            self.state["variables"][key] = value
            self._save()
            return True

    def connection_exists(self, conn_id: str) -> bool:
        return conn_id in self.state["connections"]

    def test_connection(
        self, conn_id: str, conn_type: str, fields: dict[str, Any]
    ) -> tuple[bool, str]:
        """What Airflow's test does: the system's check on the stored Connection."""
        from connectors.connection import ConnFields, check, form_for_conn_type, settings_from
        from include.model.timeutil import zone

        stored = self.state["connections"].get(conn_id)
        f = form_for_conn_type(conn_type)
        if stored is None or f is None:
            return False, f"Airflow Connection {conn_id!r} or conn type {conn_type!r} not found"
        values = {
            **stored,
            **fields,
            "extra": {**stored.get("extra", {}), **fields.get("extra", {})},
        }
        conn = ConnFields(
            host=values["host"], login=values.get("login"), password=values.get("password"),
            schema=values.get("schema"), port=values.get("port"), extra=values["extra"],
            conn_type=conn_type, conn_id=conn_id,
        )  # fmt: skip
        try:
            settings = settings_from(f.system, conn, connection_id=conn_id, timezone=zone("UTC"))
        except ValueError as exc:
            return False, str(exc)
        reason = check(f.system, settings)
        return (True, "connected") if reason is None else (False, reason)

    def set_connection(self, conn_id: str, creds: Credentials) -> None:
        with self._lock:
            self.state["connections"][conn_id] = {
                "conn_type": creds.conn_type or "http", "host": creds.host, "login": creds.login,
                "password": creds.password, "port": creds.port, "schema": creds.schema,
                "extra": dict(creds.extra),
            }  # fmt: skip
            self._save()

    def delete_connection(self, conn_id: str) -> None:
        with self._lock:
            self.state["connections"].pop(conn_id, None)
            self._save()

    def dag_state(self, dag_id: str) -> DagState | None:
        d = self.state["dags"].get(dag_id)
        return DagState(d["is_paused"], d["is_stale"]) if d else None

    def task_ids(self, dag_id: str) -> list[str]:
        d = self.state["dags"].get(dag_id)
        if d is None:
            raise DagNotFound(dag_id)
        return list(d.get("tasks", []))

    def set_paused(self, dag_id: str, paused: bool) -> None:
        with self._lock:
            if dag_id not in self.state["dags"]:
                raise DagNotFound(dag_id)
            self.state["dags"][dag_id]["is_paused"] = paused
            self._save()

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        with self._lock:
            if dag_id not in self.state["dags"]:
                raise DagNotFound(dag_id)
            run_id = f"manual__{len(self.state['runs']) + 1}"
            self.state["runs"].append({"dag_id": dag_id, "run_id": run_id, "conf": conf})
            self._save()
            return run_id

    def delete_dag(self, dag_id: str) -> None:
        with self._lock:
            self.state["dags"].pop(dag_id, None)
            self._save()
