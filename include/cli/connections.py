"""Admin CLI for connections and credits (the same `Lifecycle` as the API).

    python -m include.cli.connections [--offline STATE.json] COMMAND ...

Commands: list [--customer C] | show ID | create FILE.json|- | patch ID FILE.json|- | disconnect ID |
reconnect ID | delete-data ID | token ID | claim-token ID | pool-set CUSTOMER N | credits [CUSTOMER] |
reconcile | settle | maintain | config-errors | audit [ID]. Airflow: REST (``MILLWRIGHT_AIRFLOW_URL`` + token or user/password), or the
offline JSON state with ``--offline``. Store: ``MILLWRIGHT_STORE_URL`` (else SQLite in
``MILLWRIGHT_HOME``). Output is JSON; errors go to stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from include.admin.airflow_adapter import Credentials, MemoryAirflowAdapter, RestAirflowAdapter
from include.admin.base import NewConnection
from include.admin.errors import LifecycleError
from include.admin.lifecycle import Lifecycle
from include.api.errors import domain_status
from include.store import Store


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m include.cli.connections", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--offline", type=Path, help="offline Airflow state file (no Airflow needed)")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list").add_argument("--customer")
    for name in ("show", "disconnect", "reconnect", "delete-data", "token", "claim-token"):
        sub.add_parser(name).add_argument("id")
    sub.add_parser("create").add_argument(
        "file", help="JSON body as for POST /api/system/connections"
    )
    patch = sub.add_parser("patch")
    patch.add_argument("id")
    patch.add_argument("file")
    pool = sub.add_parser("pool-set")
    pool.add_argument("customer")
    pool.add_argument("size", type=int)
    sub.add_parser("credits").add_argument("customer", nargs="?")
    sub.add_parser("reconcile")
    sub.add_parser("settle")
    sub.add_parser("maintain")
    sub.add_parser("config-errors")
    sub.add_parser("audit").add_argument("id", nargs="?")
    return p


def _read(path: str) -> Any:
    return json.loads(sys.stdin.read() if path == "-" else Path(path).read_text())


def _new(body: dict[str, Any]) -> NewConnection:
    from include.api.system import CreateIn

    b = CreateIn.model_validate(body)
    c = b.credentials
    creds = None
    if c is not None:
        creds = Credentials(host=c.host, login=c.login, password=c.password, port=c.port,
                            schema=c.db_schema, extra=c.extra, conn_type=c.conn_type)  # fmt: skip
    return NewConnection(
        id=b.id, customer=b.customer, system=b.system, deployment=b.deployment, credentials=creds,
        airflow_conn_id=b.airflow_conn_id, settings=b.config, name=b.name, email=b.email,
        tags=b.tags, user_metadata=[m.model_dump() for m in b.user_metadata],
    )  # fmt: skip


def _check_custom_fields(lc: Lifecycle, cid: str, changes: Any) -> None:
    """A patch that changes ``custom_fields``: the changed entities' paths against the source
    (through the connection's Airflow Connection), else the cached metadata; an unknown path is
    refused naming it; what cannot be checked is a warning (the run's first task checks it)."""
    if not isinstance(changes, dict) or not isinstance(changes.get("custom_fields"), dict):
        return
    from include.admin.base import validate_config
    from include.airflow import glue
    from include.sync import fields

    config = lc.view(cid)["config"]
    old, new = validate_config(config), validate_config({**config, **changes})
    changed = [e for e, cf in new.custom_fields.items() if cf and old.custom_fields.get(e) != cf]
    unknown, why = fields.check_against(glue.make_connector, lc.store, new, changed)
    if why:
        print(f"warning: custom_fields of {why}", file=sys.stderr)
    if unknown:
        raise LifecycleError("; ".join(u.message(new.system) for u in unknown), "custom_fields")


def run(args: argparse.Namespace, lc: Lifecycle, actor: str) -> Any:
    cmd = args.cmd
    if cmd == "list":
        return lc.list(args.customer)
    if cmd == "show":
        return lc.view(args.id)
    if cmd == "create":
        view, token = lc.create(_new(_read(args.file)), actor)
        return {**view, "access_token": token}
    if cmd == "patch":
        changes = _read(args.file)
        _check_custom_fields(lc, args.id, changes)
        return lc.patch(args.id, changes, actor)
    if cmd == "disconnect":
        return lc.disconnect(args.id, actor)
    if cmd == "reconnect":
        view, token = lc.reconnect(args.id, actor)
        return {**view, "access_token": token}
    if cmd == "delete-data":
        return {"purged": lc.delete_data(args.id, actor)}
    if cmd == "token":
        return {"token": lc.new_token(args.id, actor)}
    if cmd == "claim-token":
        return {"token": lc.claim_token(args.id, actor)}
    if cmd == "maintain":
        return lc.maintain(actor)
    if cmd == "config-errors":
        return lc.config_errors()
    if cmd == "pool-set":
        return lc.set_pool(args.customer, args.size, actor)
    if cmd == "credits":
        return lc.credits(args.customer)
    if cmd == "reconcile":
        return lc.reconcile(actor)
    if cmd == "settle":
        return lc.settle_all()
    return lc.audit(args.id)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    airflow = MemoryAirflowAdapter(args.offline) if args.offline else RestAirflowAdapter.from_env()
    store = Store.from_env()
    store.migrate()
    try:
        out = run(args, Lifecycle(store, airflow), f"cli:{getpass.getuser()}")
    except LifecycleError as exc:
        print(f"error ({domain_status(exc)}): {exc.message}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as exc:  # unreadable file, invalid JSON body
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
