"""Operator commands: ``python -m include.cli ...`` (also ``millwright ...``, include/cli/main.py)

- ``validate-config FILE``: check a ``millwright_connections`` JSON file; exit 1 naming each error;
- ``schema``: print the JSON Schema of the Variable;
- ``quarantine list --connection ID [--entity E]``: the records that failed mapping/validation;
- ``quarantine reprocess --connection ID [--entity E]``: map them again with the current mapping
  and load the ones that now pass (after a mapping or config fix); ``millwright quarantine
  reprocess`` reads them again from the source first.

The quarantine commands need the connection's config: ``--config FILE``, else the environment
variable ``AIRFLOW_VAR_MILLWRIGHT_CONNECTIONS``, else ``airflow variables get``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from include.config import (
    VARIABLE_NAME,
    ConfigError,
    ConnectionConfig,
    VariableError,
    json_schema,
    parse_connections,
)
from include.model.timeutil import format_utc, utcnow
from include.sync import pipeline

if TYPE_CHECKING:
    from connectors.base import Connector
    from include.store import Store


def validate_file(path: Path, out: TextIO | None = None) -> int:
    """One line per entry (valid ones to ``out``, default stdout; errors to stderr); 1 if any
    entry, or the file itself, is invalid."""
    out = out or sys.stdout
    try:
        entries = parse_connections(path.read_text())
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
        return 1
    except VariableError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 1
    errors = [e for e in entries if isinstance(e, ConfigError)]
    for entry in entries:
        if isinstance(entry, ConfigError):
            print(f"ERROR {entry}", file=sys.stderr)
        else:
            print(f"ok    {entry.id} ({entry.customer}, {entry.system}) -> DAG {entry.dag_id}",
                  file=out)  # fmt: skip
    print(f"{len(entries) - len(errors)} valid, {len(errors)} invalid", file=out)
    return 1 if errors else 0


def check_custom_fields(
    path: Path, store: Store, source: Callable[[ConnectionConfig], Any], out: TextIO | None = None
) -> int:
    """The custom fields of every valid entry of ``path`` against its source's metadata: read
    now with ``source(config)`` and cached in ``store``, else the store's cache. Unknown paths are
    errors naming the path, the entity and the closest fields (1); an entry that can be checked
    neither way is a warning."""
    from include.sync import fields

    out = out or sys.stdout
    entries = [e for e in parse_connections(path.read_text()) if isinstance(e, ConnectionConfig)]
    bad = 0
    for cfg in entries:
        wanted = [e for e, cf in cfg.custom_fields.items() if cf]
        if not wanted:
            continue
        how = "the source"
        try:
            with source(cfg) as connector:
                meta = fields.refresh(connector, store, cfg, wanted)
            unknown, unchecked = fields.check(cfg.custom_fields, meta), []
        except Exception as exc:  # no Airflow Connection, source down: the cache may know
            unknown, unchecked = fields.check_cached(store, cfg)
            how = f"the cached metadata (the source: {exc})"
        for u in unknown:
            print(f"ERROR connection {cfg.id}: {u.message(cfg.system)}", file=sys.stderr)
        if unchecked:
            print(f"WARN  connection {cfg.id}: custom_fields of {', '.join(unchecked)} not "
                  f"checked: {how.removeprefix('the cached metadata ')}, nothing cached",
                  file=sys.stderr)  # fmt: skip
        elif not unknown:
            print(f"ok    {cfg.id}: custom_fields checked against {how}", file=out)
        bad += bool(unknown)
    return 1 if bad else 0


def _config_text(config: Path | None) -> str:
    if config is not None:
        return config.read_text()
    env = os.environ.get("AIRFLOW_VAR_" + VARIABLE_NAME.upper())
    if env:
        return env
    out = subprocess.run(
        ["airflow", "variables", "get", VARIABLE_NAME], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise VariableError(f"cannot read Airflow Variable {VARIABLE_NAME!r}: {out.stderr.strip()}")
    return out.stdout


def find_connection(connection_id: str, config: Path | None) -> ConnectionConfig:
    for entry in parse_connections(_config_text(config)):
        if isinstance(entry, ConnectionConfig) and entry.id == connection_id:
            return entry
        if isinstance(entry, ConfigError) and entry.connection_id == connection_id:
            raise entry
    raise SystemExit(f"connection {connection_id!r} is not in {VARIABLE_NAME}")


def reprocess(
    store: Store,
    cfg: ConnectionConfig,
    entity: str | None = None,
    connector: Connector | None = None,
) -> dict:
    """Map the open quarantined records again with the current mapping and config; load the ones
    that pass now (`Store.load_batch` resolves their entries, as a sync run's load does).

    With ``connector``, the records are read again from the source (a full read of each entity
    with open entries, keeping only their keys): a fixed source clears them, and an entry whose
    record the source no longer has is resolved as ``gone``. Without one (or for an entry without
    a key, which cannot be found again), the stored raw record is mapped again."""
    from connectors.base import Window
    from connectors.registry import get_connector

    connector_cls = get_connector(cfg.system)
    now = format_utc(utcnow()) or ""
    items = store.quarantine_list(cfg.id, entity, limit=1_000_000)
    gone = 0
    for ent in sorted({i["entity"] for i in items}):
        cm = pipeline.compile_mapping(connector_cls, cfg, ent)
        mine = [i for i in items if i["entity"] == ent]
        stored = [i for i in mine if connector is None or not i["remote_key"]]
        wanted: dict[str, list[int]] = {}
        for i in mine if connector is not None else []:
            if i["remote_key"]:
                wanted.setdefault(i["remote_key"], []).append(i["id"])
        if wanted and connector is not None:
            found: set[str] = set()
            for page in connector.read(ent, Window()):
                again = [raw for raw in page if cm.key_of(raw) in wanted]
                found.update(cm.key_of(raw) for raw in again)
                if again:
                    _load(store, cfg, pipeline.map_page(ent, cm, again).rows, now)
            missing = [qid for key, ids in wanted.items() if key not in found for qid in ids]
            gone += store.quarantine_resolve(missing, now) if missing else 0
        for item in stored:
            result = pipeline.map_page(ent, cm, [item["raw"]])
            if not result.quarantine:
                _load(store, cfg, result.rows, now)
                store.quarantine_resolve([item["id"]], now)  # keyless: not resolved by key
    left = store.quarantine_list(cfg.id, entity, limit=1_000_000)
    return {
        "connection": cfg.id,
        "source": "source" if connector is not None else "stored",
        "reprocessed": len(items) - len(left) - gone,
        "gone": gone,
        "still_failing": len(left),
    }


def _load(store: Store, cfg: ConnectionConfig, rows: dict, now: str) -> None:
    for target, batch in rows.items():
        if batch:
            store.load_batch(
                cfg.id, target, batch, synced_at=now,
                stamp_changes=pipeline.stamps_changes(cfg, target),
            )  # fmt: skip


def _quarantine(args: argparse.Namespace) -> int:
    from include.airflow.glue import open_store

    store = open_store()
    try:
        if args.action == "list":
            items = store.quarantine_list(args.connection, args.entity, limit=args.limit)
            for item in items:
                print(json.dumps(item, default=str))
            print(f"{len(items)} quarantined record(s)", file=sys.stderr)
            return 0
        cfg = find_connection(args.connection, args.config)
        result = reprocess(store, cfg, args.entity)
        print(json.dumps(result))
        return 0 if result["still_failing"] == 0 else 2
    finally:
        store.close()


def _fill_fields(url: str | None) -> int:
    from include.model import ENTITIES, record_defaults
    from include.model.nested import NESTED_FIELDS, fill_record
    from include.store import Store

    store = Store(url) if url else Store.from_env()
    try:
        store.migrate()
        for entity in ENTITIES:
            print(f"{entity}: {store.fill_missing_fields(entity, record_defaults(entity))}")
        for entity in NESTED_FIELDS:
            fill = functools.partial(fill_record, entity)
            print(f"{entity} nested objects: {store.rewrite_records(entity, fill)}")
    finally:
        store.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m include.cli", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate-config", help="validate a millwright_connections JSON file")
    v.add_argument("file", type=Path)
    sub.add_parser("schema", help="print the JSON Schema of the Variable")
    q = sub.add_parser("quarantine", help="list or re-process quarantined records")
    q.add_argument("action", choices=["list", "reprocess"])
    q.add_argument("--connection", required=True)
    q.add_argument("--entity")
    q.add_argument("--limit", type=int, default=100)
    q.add_argument("--config", type=Path, help="JSON file with the Variable's content")
    f = sub.add_parser(
        "fill-fields",
        help="add the fields a stored record lacks (stores written before every record carried "
        "every field of its model), empty, for every entity; and the sub-fields a nested object "
        "Makini declares lacks (include/model/nested.py)",
    )
    f.add_argument("--store", help="store URL (default: MILLWRIGHT_STORE_URL or the default)")
    args = parser.parse_args(argv)
    if args.command == "fill-fields":
        return _fill_fields(args.store)
    if args.command == "validate-config":
        return validate_file(args.file)
    if args.command == "schema":
        print(json.dumps(json_schema(), indent=2))
        return 0
    return _quarantine(args)


if __name__ == "__main__":
    sys.exit(main())
