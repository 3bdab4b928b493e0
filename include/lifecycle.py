"""Connection lifecycle: create, change, disconnect, reconnect, purge; credits; audit. No HTTP.

The store's registry (include/store/registry.py) is the source of truth for status and credits; the
``millwright_connections`` Variable and Airflow follow it through an `AirflowAdapter`. Airflow
steps that cannot happen yet (a DAG not parsed yet, Airflow briefly down) are kept as ``pending``
operations on the registry row and retried by `settle` (after every change, on listings, and by
``python -m include.cli_connections settle``). See docs/LIFECYCLE.md.
"""

from __future__ import annotations

import functools
import json
import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from include.airflow_adapter import AirflowAdapter, AirflowError, Credentials, DagNotFound
from include.api.status import sync_summary
from include.config import (
    VARIABLE_NAME,
    ConnectionConfig,
    VariableError,
    parse_connections,
    task_group_id,
)
from include.credits import CostTable, load_costs
from include.model import ENTITIES
from include.store import Conn, Store
from include.store import registry as db
from include.store.tokens import issue_token, revoke_tokens

log = logging.getLogger(__name__)
CAS_ATTEMPTS = 8
PATCHABLE = (
    "entities", "custom_fields", "schedule", "name", "tags", "options", "page_size", "overlap",
    "source_timezone", "reconcile_every", "quarantine_threshold",
)  # fmt: skip
RESYNC_ALL = ("options", "source_timezone")


class LifecycleError(Exception):
    """A refused operation: HTTP-like ``status``, a message naming what is wrong, the field."""

    status = 400

    def __init__(self, message: str, field: str = "request", status: int | None = None) -> None:
        super().__init__(message)
        self.message, self.field = message, field
        if status is not None:
            self.status = status


class NotFound(LifecycleError):
    status = 404


class Conflict(LifecycleError):
    status = 409


class OutOfCredits(LifecycleError):
    status = 402


class AirflowUnavailable(LifecycleError):
    status = 503


class ConnectionNotActive(RuntimeError):
    """Raised inside a load transaction when the connection is no longer active."""


# ---------------------------------------------------------------- the load guard


def write_guard(connection_id: str) -> Callable[[Conn], None]:
    """For ``Store.load_batch(guard=...)``: inside the load's write transaction, raise
    `ConnectionNotActive` unless the registry says the connection is active. Connections not in
    the registry yet (added by hand, not reconciled) may load. On PostgreSQL the row is read
    ``FOR SHARE`` so a concurrent disconnect waits for the load or the load sees it."""

    return functools.partial(_active_or_refuse, connection_id)  # picklable: map workers load too


def _active_or_refuse(connection_id: str, conn: Conn) -> None:
    status = db.registry_status(conn, connection_id)
    if status is not None and status != "active":
        raise ConnectionNotActive(f"connection {connection_id} is {status}: load refused")


# ---------------------------------------------------------------- requests


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


# ---------------------------------------------------------------- the service


class Lifecycle:
    def __init__(
        self, store: Store, airflow: AirflowAdapter, costs: CostTable | None = None
    ) -> None:
        self.store, self.airflow, self._costs = store, airflow, costs
        self._settle_lock = threading.Lock()

    # -- helpers ----------------------------------------------------------------------------

    def costs(self) -> CostTable:
        if self._costs is not None:
            return self._costs
        try:
            return load_costs(self.airflow.get_variable)
        except AirflowError as exc:
            raise AirflowUnavailable(f"cannot read the credit cost table: {exc}") from None

    def _row(self, conn: Conn, cid: str, *, for_update: bool = False) -> dict[str, Any]:
        row = db.get(conn, cid, for_update=for_update)
        if row is None:
            raise NotFound(f"connection {cid!r} not found", "id")
        return row

    def _variable(self) -> tuple[str | None, list[Any]]:
        try:
            text = self.airflow.get_variable(VARIABLE_NAME)
        except AirflowError as exc:
            raise AirflowUnavailable(str(exc)) from None
        if text is None:
            return None, []
        try:
            entries = json.loads(text)
        except json.JSONDecodeError:
            entries = None
        if not isinstance(entries, list):
            raise Conflict(
                f"Airflow Variable {VARIABLE_NAME!r} is not a JSON array; fix it before changing "
                "connections",
                "variable",
            )
        return text, entries

    def _mutate_variable(
        self, fn: Callable[[list[Any]], list[Any]], conn: Conn | None = None
    ) -> None:
        """Read, change and write the Variable under the store's Variable lock (other Millwright
        processes wait: `registry.lock_variable`), and compare-and-swap against writers that
        do not take it (a person in the Airflow UI): re-read and retry when it changed in between.
        ``conn``: the caller's open write transaction, which then holds the lock until it ends."""
        if conn is None:
            with self.store.write() as own:
                return self._mutate_variable(fn, own)
        db.lock_variable(conn)
        for _ in range(CAS_ATTEMPTS):
            text, entries = self._variable()
            new = fn(entries)
            try:
                if self.airflow.set_variable_if(VARIABLE_NAME, text, json.dumps(new, indent=2)):
                    return
            except AirflowError as exc:
                raise AirflowUnavailable(str(exc)) from None
        raise Conflict(f"Airflow Variable {VARIABLE_NAME!r} keeps changing; try again", "variable")

    def credit_state(self, conn: Conn, customer: str) -> dict[str, Any]:
        size = db.pool_size(conn, customer)
        pool = size if size is not None else self.costs().default_pool
        used = db.used(conn, customer)
        return {
            "customer": customer,
            "pool": pool,
            "pool_is_default": size is None,
            "used": used,
            "available": max(pool - used, 0),
        }

    def _charge(self, conn: Conn, customer: str, cost: int) -> None:
        state = self.credit_state(conn, customer)
        if state["used"] + cost > state["pool"]:
            raise OutOfCredits(
                f"customer {customer!r} needs {cost} credits but has {state['available']} "
                f"available ({state['used']} of {state['pool']} in use)",
                "credits",
            )

    # -- create ---------------------------------------------------------------------------------

    def create(self, req: NewConnection, actor: str) -> tuple[dict[str, Any], str]:
        """Validate, charge, store credentials and config, issue the first token; the DAG is
        unpaused and a full sync triggered once Airflow has parsed it. Returns (view, token)."""
        cid = req.id or new_id(req.system)
        conn_id = req.airflow_conn_id or f"millwright_{cid}"
        entry = {
            **req.settings,
            "id": cid,
            "customer": req.customer,
            "system": req.system,
            "deployment": req.deployment,
            "airflow_conn_id": conn_id,
            "tags": req.tags,
            **({"name": req.name} if req.name else {}),
        }
        cfg = validate_config(entry)
        if req.credentials is None and not self._conn_exists(conn_id):
            raise LifecycleError(
                f"credentials: required (Airflow Connection {conn_id!r} does not exist)",
                "credentials",
            )
        return self._create(cfg, req, actor, predecessor=None)

    def _conn_exists(self, conn_id: str) -> bool:
        try:
            return self.airflow.connection_exists(conn_id)
        except AirflowError as exc:
            raise AirflowUnavailable(str(exc)) from None

    def _create(
        self, cfg: ConnectionConfig, req: NewConnection, actor: str, predecessor: str | None
    ) -> tuple[dict[str, Any], str]:
        entry = cfg.model_dump(mode="json", exclude_defaults=True)
        entry.update(id=cfg.id, customer=cfg.customer, system=cfg.system)
        entry["deployment"], entry["status"] = cfg.deployment, "active"
        _, entries = self._variable()
        if any(isinstance(e, dict) and e.get("id") == cfg.id for e in entries):
            raise Conflict(f"connection id {cfg.id!r} already exists in the Variable", "id")
        cost = self.costs().cost(cfg.system, cfg.deployment)
        at = db.now()
        with self.store.write() as conn:
            db.lock_customer(conn, cfg.customer)
            if db.get(conn, cfg.id) is not None:
                raise Conflict(f"connection id {cfg.id!r} already exists", "id")
            self._charge(conn, cfg.customer, cost)
            db.insert(conn, {
                "id": cfg.id, "customer": cfg.customer, "system": cfg.system,
                "deployment": cfg.deployment, "credits": cost, "status": "active",
                "source": "api", "name": req.name or cfg.name, "email": req.email,
                "config": entry, "user_metadata": req.user_metadata, "reason": None,
                "pending": [{"op": "unpause"}, {"op": "trigger", "conf": {"full": True}}],
                "predecessor": predecessor, "successor": None, "created_at": at,
                "connected_at": at, "disconnected_at": None, "purged_at": None,
            })  # fmt: skip
            token = issue_token(conn, cfg.id)
            db.add_audit(conn, actor, "reconnect" if predecessor else "create", cfg.id,
                         cfg.customer, {"credits": cost, "predecessor": predecessor})  # fmt: skip
            created_conn = False
            try:
                if req.credentials is not None:
                    created_conn = not self._conn_exists(cfg.airflow_conn_id)
                    self.airflow.set_connection(cfg.airflow_conn_id, req.credentials)
                self._mutate_variable(lambda es: [*es, entry], conn)
            except (AirflowError, LifecycleError) as exc:
                if created_conn:
                    self._quietly(self.airflow.delete_connection, cfg.airflow_conn_id)
                if isinstance(exc, LifecycleError):
                    raise
                raise AirflowUnavailable(str(exc)) from None
        self.settle(cfg.id)
        return self.view(cfg.id), token

    @staticmethod
    def _quietly(fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except AirflowError as exc:
            log.warning("compensation failed: %s", exc)

    # -- change ---------------------------------------------------------------------------------

    def patch(self, cid: str, changes: dict[str, Any], actor: str) -> dict[str, Any]:
        """Change settings; re-sync (full) the entities the change affects."""
        unknown = sorted(set(changes) - set(PATCHABLE))
        if unknown:
            raise LifecycleError(f"{unknown[0]}: cannot be changed here", unknown[0])
        with self.store.read() as conn:
            row = self._row(conn, cid)
        if row["status"] != "active":
            raise Conflict(f"connection {cid} is {row['status']}: only active ones change", "id")
        old = validate_config(row["config"])
        new = validate_config({**row["config"], **changes})
        entry = {**row["config"], **changes}
        affected = _affected(old, new)

        def replace(es: list[Any]) -> list[Any]:
            if not any(isinstance(e, dict) and e.get("id") == cid for e in es):
                raise Conflict(f"connection {cid} is not in the Variable any more", "id")
            return [entry if isinstance(e, dict) and e.get("id") == cid else e for e in es]

        self._mutate_variable(replace)
        with self.store.write() as conn:
            pending = row["pending"]
            if affected:
                pending = [
                    *pending,
                    {"op": "trigger", "conf": {"entities": affected, "full": True}},
                ]
            db.update(conn, cid, config=entry, name=new.name or row["name"], pending=pending)
            db.add_audit(conn, actor, "patch", cid, row["customer"],
                         {"changed": sorted(changes), "resync": affected})  # fmt: skip
        self.settle(cid)
        return self.view(cid)

    def new_token(self, cid: str, actor: str) -> str:
        with self.store.write() as conn:
            row = self._row(conn, cid, for_update=True)
            if row["status"] != "active":
                raise Conflict(f"connection {cid} is {row['status']}: no tokens", "id")
            db.add_audit(conn, actor, "token", cid, row["customer"], {})
            return issue_token(conn, cid)

    def metadata(self, cid: str) -> list[dict[str, str]]:
        with self.store.read() as conn:
            return self._row(conn, cid)["user_metadata"]

    def set_metadata(self, cid: str, items: list[dict[str, str]], actor: str) -> list[dict]:
        """Add or replace items by key."""
        with self.store.write() as conn:
            row = self._row(conn, cid, for_update=True)
            merged = {m["key"]: m for m in row["user_metadata"]}
            merged.update({m["key"]: {"key": m["key"], "value": m["value"]} for m in items})
            out = list(merged.values())
            db.update(conn, cid, user_metadata=out)
            db.add_audit(conn, actor, "metadata", cid, row["customer"], {"keys": len(items)})
        return out

    # -- disconnect / reconnect / purge ---------------------------------------------------------

    def disconnect(self, cid: str, actor: str) -> dict[str, Any]:
        """Tokens revoked and credits returned in one transaction; the Variable entry turns
        ``disconnected`` (no schedule) and the DAG is paused (now, or as soon as Airflow can)."""
        with self.store.write() as conn:
            row = self._row(conn, cid, for_update=True)
            if row["status"] not in ("active", "refused"):
                raise Conflict(f"connection {cid} is already {row['status']}", "id")
            returned = row["credits"] if row["status"] == "active" else 0
            pending = [
                *row["pending"],
                {"op": "variable_status", "status": "disconnected"},
                {"op": "pause"},
            ]
            pending = [p for p in pending if p["op"] not in ("unpause", "trigger")]
            db.update(conn, cid, status="disconnected", disconnected_at=db.now(), pending=pending)
            revoked = revoke_tokens(conn, cid)
            db.add_audit(conn, actor, "disconnect", cid, row["customer"],
                         {"credits_returned": returned, "tokens_revoked": revoked})  # fmt: skip
        self.settle(cid)
        return self.view(cid)

    def reconnect(self, cid: str, actor: str) -> tuple[dict[str, Any], str]:
        """A NEW connection (new id and token) with the old one's system, config, credentials."""
        with self.store.read() as conn:
            row = self._row(conn, cid)
        if row["status"] != "disconnected":
            raise Conflict(
                f"connection {cid} is {row['status']}: only disconnected connections reconnect",
                "id",
            )
        old = validate_config(row["config"])
        if not self._conn_exists(old.airflow_conn_id):
            raise Conflict(f"Airflow Connection {old.airflow_conn_id!r} is gone", "credentials")
        new_cid = new_id(old.system)
        cfg = validate_config({**row["config"], "id": new_cid, "status": "active"})
        req = NewConnection(
            customer=old.customer, system=old.system, deployment=old.deployment,
            name=row["name"], email=row["email"], user_metadata=row["user_metadata"],
        )  # fmt: skip
        view, token = self._create(cfg, req, actor, predecessor=cid)
        with self.store.write() as conn:
            db.update(conn, cid, successor=new_cid)
        return view, token

    def delete_data(self, cid: str, actor: str) -> dict[str, int]:
        """Purge a disconnected connection's stored data and tokens; then it leaves the Variable,
        its Airflow Connection (when nothing else uses it) and, once stale, its DAG metadata."""
        with self.store.write() as conn:
            row = self._row(conn, cid, for_update=True)
            if row["status"] == "active":
                raise Conflict(f"connection {cid} is active: disconnect it first", "id")
            if row["status"] == "purged":
                raise Conflict(f"connection {cid} was already purged", "id")
            counts = db.purge_connection_data(conn, cid)
            conn_id = row["config"].get("airflow_conn_id")
            pending = [
                *row["pending"],
                {"op": "variable_remove"},
                {"op": "delete_connection", "conn_id": conn_id},
                {"op": "delete_dag"},
            ]
            db.update(conn, cid, status="purged", purged_at=db.now(), pending=pending)
            db.add_audit(conn, actor, "delete_data", cid, row["customer"], {"purged": counts})
        self.settle(cid)
        return counts

    # -- credits ----------------------------------------------------------------------------------

    def set_pool(self, customer: str, size: int, actor: str) -> dict[str, Any]:
        if not isinstance(customer, str) or not customer.strip():
            raise LifecycleError("customer: must be a non-empty string", "customer")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise LifecycleError("pool: must be an integer >= 0", "pool")
        with self.store.write() as conn:
            db.lock_customer(conn, customer)
            db.set_pool(conn, customer, size)
            db.add_audit(conn, actor, "pool_set", None, customer, {"pool": size})
            return self.credit_state(conn, customer)

    def credits(self, customer: str | None = None) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            names = [customer] if customer else db.customers(conn)
            return [self.credit_state(conn, c) for c in names]

    # -- reconcile hand-made Variable entries ----------------------------------------------------

    def reconcile(self, actor: str) -> dict[str, list[str]]:
        """Register Variable entries not in the registry: charge credits, or refuse with a
        recorded reason (the entry is then set ``disconnected``). An entry a data engineer set
        ``disconnected`` by hand is disconnected here too (tokens revoked, credits returned)."""
        text, _ = self._variable()
        try:
            entries = parse_connections(text if text is not None else "[]")
        except VariableError as exc:
            raise Conflict(str(exc), "variable") from None
        out: dict[str, list[str]] = {"registered": [], "refused": [], "disconnected": []}
        costs = self.costs()
        for cfg in entries:
            if not isinstance(cfg, ConnectionConfig):
                continue
            with self.store.read() as conn:
                row = db.get(conn, cfg.id)
            if row is not None:
                if row["status"] == "active" and cfg.status == "disconnected":
                    self.disconnect(cfg.id, actor)
                    out["disconnected"].append(cfg.id)
                continue
            status, reason, pending = cfg.status, None, []
            cost = costs.cost(cfg.system, cfg.deployment)
            with self.store.write() as conn:
                db.lock_customer(conn, cfg.customer)
                if status == "active":
                    try:
                        self._charge(conn, cfg.customer, cost)
                    except OutOfCredits as exc:
                        status, reason = "refused", exc.message
                        pending = [{"op": "variable_status", "status": "disconnected"}]
                at = db.now()
                db.insert(conn, {
                    "id": cfg.id, "customer": cfg.customer, "system": cfg.system,
                    "deployment": cfg.deployment, "credits": cost, "status": status,
                    "source": "variable", "name": cfg.name, "email": None,
                    "config": cfg.model_dump(mode="json", exclude_defaults=True)
                    | {"id": cfg.id, "customer": cfg.customer, "system": cfg.system,
                       "airflow_conn_id": cfg.airflow_conn_id},
                    "user_metadata": [], "reason": reason, "pending": pending,
                    "predecessor": None, "successor": None, "created_at": at,
                    "connected_at": at if status == "active" else None,
                    "disconnected_at": None if status == "active" else at, "purged_at": None,
                })  # fmt: skip
                db.add_audit(conn, actor, "reconcile", cfg.id, cfg.customer,
                             {"status": status, "reason": reason, "credits": cost})  # fmt: skip
            out["refused" if status == "refused" else "registered"].append(cfg.id)
            self.settle(cfg.id)
        return out

    # -- Airflow follow-up --------------------------------------------------------------------

    def settle(self, cid: str) -> list[dict[str, Any]]:
        """Run the row's pending Airflow operations in order; stop at the first that cannot run
        yet and keep it (with the reason) and the rest. Returns what is still pending."""
        with self._settle_lock:
            with self.store.read() as conn:
                row = db.get(conn, cid)
            if row is None:
                return []
            pending = list(row["pending"])
            done = 0
            for op in pending:
                try:
                    if not self._run_op(row, op):
                        break
                except (AirflowError, LifecycleError) as exc:
                    msg = exc.message if isinstance(exc, LifecycleError) else str(exc)
                    pending[done] = {**op, "waiting": msg[:300]}
                    break
                done += 1
            rest = pending[done:]
            if rest != row["pending"]:
                with self.store.write() as conn:
                    db.update(conn, cid, pending=rest)
            return rest

    def settle_all(self) -> dict[str, list[dict[str, Any]]]:
        with self.store.read() as conn:
            ids = [r["id"] for r in db.list_all(conn) if r["pending"]]
        return {cid: rest for cid in ids if (rest := self.settle(cid))}

    def _run_op(self, row: dict[str, Any], op: dict[str, Any]) -> bool:
        cid, dag_id, kind = row["id"], f"sync__{row['id']}", op["op"]
        if kind == "variable_status":

            def set_status(es: list[Any]) -> list[Any]:
                return [
                    {**e, "status": op["status"]} if isinstance(e, dict) and e.get("id") == cid
                    else e
                    for e in es
                ]  # fmt: skip

            self._mutate_variable(set_status)
        elif kind == "variable_remove":
            self._mutate_variable(
                lambda es: [e for e in es if not (isinstance(e, dict) and e.get("id") == cid)]
            )
        elif kind in ("pause", "unpause"):
            try:
                self.airflow.set_paused(dag_id, kind == "pause")
            except DagNotFound:
                if kind == "pause" and row["status"] == "purged":
                    return True
                raise AirflowError(f"DAG {dag_id} is not parsed yet") from None
        elif kind == "trigger":
            conf = op.get("conf") or {}
            try:
                self._check_parsed(dag_id, conf.get("entities") or [])
                self.airflow.trigger(dag_id, conf)
            except DagNotFound:
                raise AirflowError(f"DAG {dag_id} is not parsed yet") from None
        elif kind == "delete_connection":
            conn_id = op.get("conn_id")
            if conn_id and not self._conn_in_use(conn_id, cid):
                self.airflow.delete_connection(conn_id)
        elif kind == "delete_dag":
            state = self.airflow.dag_state(dag_id)
            if state is not None:
                if not state.is_stale:
                    raise AirflowError(f"waiting for Airflow to re-parse and mark {dag_id} stale")
                self.airflow.delete_dag(dag_id)
        return True

    def _check_parsed(self, dag_id: str, entities: list[str]) -> None:
        """A re-sync of ``entities`` waits until Airflow has parsed the DAG with a task group for
        each: triggered earlier (right after a settings change added an entity), the run would
        have no task for it and would succeed without syncing it."""
        if not entities:
            return
        groups = {t.split(".", 1)[0] for t in self.airflow.task_ids(dag_id)}
        missing = [e for e in entities if task_group_id(e) not in groups]
        if missing:
            raise AirflowError(
                f"waiting for Airflow to re-parse {dag_id} with tasks for {', '.join(missing)}"
            )

    def _conn_in_use(self, conn_id: str, cid: str) -> bool:
        with self.store.read() as conn:
            rows = db.list_all(conn)
        if any(
            r["id"] != cid
            and r["status"] != "purged"
            and r["config"].get("airflow_conn_id") == conn_id
            for r in rows
        ):
            return True
        _, entries = self._variable()
        return any(
            isinstance(e, dict) and e.get("id") != cid and e.get("airflow_conn_id") == conn_id
            for e in entries
        )

    # -- reads ------------------------------------------------------------------------------------

    def view(self, cid: str) -> dict[str, Any]:
        with self.store.read() as conn:
            return _view(conn, self._row(conn, cid))

    def list(self, customer: str | None = None) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            return [_view(conn, r) for r in db.list_all(conn, customer)]

    def audit(self, cid: str | None = None) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            if cid is not None:
                self._row(conn, cid)
            return db.audit_entries(conn, cid)

    def export(self, cid: str, entity: str | None, include_deleted: bool) -> Iterator[bytes]:
        """Stored records as NDJSON (the unified JSON of each), by entity then key. Checks run
        before the first byte."""
        if entity is not None and entity not in ENTITIES:
            raise LifecycleError(f"entity: unknown entity {entity!r}", "entity")
        with self.store.read() as conn:
            row = self._row(conn, cid)
        if row["status"] == "purged":
            raise Conflict(f"connection {cid} was purged: no data left", "id")
        return db.export_lines(self.store.engine, cid, entity, include_deleted)


def _affected(old: ConnectionConfig, new: ConnectionConfig) -> list[str]:
    if any(getattr(old, f) != getattr(new, f) for f in RESYNC_ALL):
        return new.selected_entities()
    before = set(old.selected_entities())
    out = {e for e in new.selected_entities() if e not in before}
    for e in set(old.custom_fields) | set(new.custom_fields):
        if old.custom_fields.get(e) != new.custom_fields.get(e):
            out.add(e.split(".")[0])
    return sorted(e for e in out if e in new.selected_entities())


def _view(conn: Conn, row: dict[str, Any]) -> dict[str, Any]:
    """Makini's connection object plus Millwright's fields."""
    cid, cfg = row["id"], row["config"]
    counts = db.live_counts(conn, cid)
    last_sync = db.last_success(conn, cid)
    return {
        "key": cid,
        "name": row["name"] or cid,
        "email": row["email"],
        "status": row["status"],
        "integration_name": row["system"],
        "scopes": ",".join(cfg.get("entities") or ["*"]),
        "tags": cfg.get("tags", []),
        "user_metadata": row["user_metadata"],
        "created_at": row["created_at"],
        "connected_at": row["connected_at"],
        "disconnected_at": row["disconnected_at"],
        "purged_at": row["purged_at"],
        "customer": row["customer"],
        "system": row["system"],
        "deployment": row["deployment"],
        "credits": row["credits"],
        "source": row["source"],
        "reason": row["reason"],
        "pending": [{k: v for k, v in p.items() if k != "conf"} for p in row["pending"]],
        "predecessor": row["predecessor"],
        "successor": row["successor"],
        "dag_id": f"sync__{cid}",
        "config": cfg,
        "last_sync": last_sync,
        **sync_summary(conn, cid, None),  # sync_status, sync_error (include/api/status.py)
        "counts": counts,
    }


def disconnected_dag_spec(connection_id: str, customer: str, system: str) -> dict[str, str]:
    """What the DAG of a disconnected connection shows (for include/dag_factory.py): no schedule,
    one task that only logs/skips with ``message``."""
    message = (
        f"connection {connection_id} ({customer} / {system}) is disconnected: nothing to sync. "
        "Reconnect it (POST /api/system/connections/{id}/reconnect) to sync again."
    )
    return {
        "description": f"DISCONNECTED: {customer} / {system} ({connection_id})",
        "doc_md": f"### Millwright connection `{connection_id}` is disconnected\n\n{message}\n",
        "task_id": "disconnected",
        "message": message,
    }
