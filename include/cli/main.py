"""The ``millwright`` command (``make install`` puts it in ``.venv/bin``; see README "The CLI").

Data (JSON, tables) goes to stdout; logs, the store in use and errors go to stderr. A command that
touches Airflow or the store points its stdout file descriptor at stderr while it runs and writes
its data to the original one, so a library's print or log line never lands in piped output.
Exit codes: 0 ok, 1 failure (the message names what is wrong), 2 usage.
"""

from __future__ import annotations

import functools
import getpass
import json
import logging
import os
import runpy
import sys
from argparse import Namespace
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import IO, Any, TypeVar

import click

log = logging.getLogger("include.cli")

_F = TypeVar("_F", bound=Callable[..., Any])
_CONFIG_HELP = (
    "connections JSON file (the Variable's format) to read the connection from instead of the "
    "Airflow Variable millwright_connections"
)
_QUIET_LIBRARIES = ("alembic", "airflow", "httpx", "httpcore", "urllib3", "uvicorn.access")


# ---------------------------------------------------------------- output and logging


class _Out:
    """The data stream: the process's original stdout once `claim` has run."""

    stream: IO[str] | None = None

    @classmethod
    def claim(cls) -> None:
        """Keep the original stdout for data; everything else written to fd 1 goes to stderr."""
        if cls.stream is not None:
            return
        sys.stdout.flush()
        try:
            fd = os.dup(sys.stdout.fileno())
            os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):  # not a real file (an in-process runner)
            cls.stream = sys.stdout
            return
        cls.stream = os.fdopen(fd, "w", encoding="utf-8")

    @classmethod
    def data(cls, obj: Any, *, lines: bool = False) -> None:
        stream = cls.stream or sys.stdout
        if lines:
            for item in obj:
                stream.write(json.dumps(item, default=str) + "\n")
        else:
            stream.write(json.dumps(obj, indent=2, default=str) + "\n")
        stream.flush()


def _configure_logging(verbosity: int) -> None:
    """Our loggers at INFO (DEBUG with -v, WARNING with -q) to stderr; libraries at WARNING.
    Called after Airflow is imported: Airflow's import installs a root handler on stdout."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    ours = {0: logging.INFO, 1: logging.DEBUG}.get(verbosity, logging.WARNING)
    for name in ("include", "connectors"):
        logging.getLogger(name).setLevel(ours)
    for name in _QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def _say(message: str) -> None:
    click.echo(f"millwright: {message}", err=True)


def _fail(message: str) -> None:
    _say(f"error: {message}")
    sys.exit(1)


def _command(*, airflow: bool) -> Callable[[_F], _F]:
    """Wrap a command: claim stdout for data, import Airflow (when the command reads Variables,
    Connections or the store), quiet libraries, and turn any error into exit 1 with a message."""

    def wrap(fn: _F) -> _F:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            verbosity = click.get_current_context().find_root().params.get("verbosity") or 0
            _Out.claim()
            try:
                if airflow:
                    from include.cli import discovery

                    choice = discovery.connect_airflow()
                    _configure_logging(verbosity)
                    _say(f"airflow: {choice.describe()}")
                else:
                    _configure_logging(verbosity)
                return fn(*args, **kwargs)
            except (click.ClickException, click.exceptions.Exit, SystemExit):
                raise
            except Exception as exc:
                if verbosity > 0:
                    log.exception("%s failed", fn.__name__)
                _fail(_describe(exc))

        return run  # type: ignore[return-value]

    return wrap


def _describe(exc: BaseException) -> str:
    from include.cli.discovery import DiscoveryError

    if isinstance(exc, DiscoveryError | ValueError | KeyError | OSError):
        return str(exc).strip("'\"") if isinstance(exc, KeyError) else str(exc)
    return f"{type(exc).__name__}: {exc}"


def _open_store() -> Any:
    from include.cli import discovery

    choice = discovery.discover_store()
    _say(f"store: {choice.describe()}")
    return discovery.open_store(choice)


# ---------------------------------------------------------------- the command tree


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "verbosity", flag_value=1, help="debug logs (and tracebacks) on stderr")
@click.option("-q", "verbosity", flag_value=-1, help="warnings and errors only on stderr")
@click.version_option(package_name="millwright", prog_name="millwright")
def main(verbosity: int | None) -> None:
    """Millwright: sync industrial systems into one unified store and serve it.

    Data goes to stdout, logs and errors to stderr. The store is found as the DAG's tasks find
    it: MILLWRIGHT_STORE_URL, else the Airflow Connection millwright_store, else SQLite under
    MILLWRIGHT_HOME (~/.millwright); every command that uses it says which on stderr.
    """


# -------------------------------- sync


@main.command()
@click.argument("connection")
@click.option("--entity", "-e", "entities", multiple=True, metavar="ENTITY",
              help="sync only this entity (repeatable); default: every entity the DAG syncs")  # fmt: skip
@click.option("--full", is_flag=True,
              help="read everything instead of the incremental window; a full read also "
                   "soft-deletes stored records the source no longer has")  # fmt: skip
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help=_CONFIG_HELP)  # fmt: skip
@click.option("--run-id", help="run id (default manual__cli_<UTC time>); the id of a failed "
                               "run resumes from its staging files")  # fmt: skip
@_command(airflow=True)
def sync(
    connection: str, entities: tuple[str, ...], full: bool, config_file: Path | None,
    run_id: str | None,
) -> None:  # fmt: skip
    """Sync CONNECTION once, outside Airflow: the DAG's sync task for each entity.

    The window is a manual run's: [cursor - overlap, now), or everything on the first run or
    with --full. The config comes from the Airflow Variable millwright_connections (or
    --config FILE), the source's host and secrets from the connection's Airflow Connection (in
    Airflow's metadata DB, an AIRFLOW_CONN_<ID> environment variable or a secrets backend).
    Prints a JSON summary per entity; exit 1 when any entity failed.
    """
    from include.airflow import glue, runner
    from include.cli import discovery
    from include.model.timeutil import utcnow

    found = discovery.find_connection(connection, config_file)
    cfg = found.cfg
    _say(f"connection {cfg.id}: {cfg.system} ({cfg.customer}) from {found.source}")
    if cfg.status != "active":
        raise ValueError(f"connection {cfg.id} is {cfg.status}: reconnect it before a sync")
    syncable = runner.sync_entities(cfg)
    unknown = [e for e in entities if e not in syncable]
    if unknown:
        raise click.BadParameter(
            f"connection {cfg.id} does not sync {', '.join(unknown)} (it syncs: "
            f"{', '.join(syncable)})",
            param_hint="--entity",
        )
    run = runner.RunSpec(
        run_id=run_id or f"manual__cli_{utcnow().strftime('%Y-%m-%dT%H:%M:%S.%fZ')}", full=full
    )
    glue.source_settings(cfg)  # the source's Airflow Connection exists: fail before any entity
    store = _open_store()
    results: dict[str, Any] = {}
    try:
        for entity in entities or syncable:
            results[entity] = _sync_one(runner, cfg, entity, run, store)
    finally:
        store.close()
    failed = [e for e, r in results.items() if "error" in r]
    _Out.data({"connection": cfg.id, "run_id": run.run_id, "entities": results})
    if failed:
        _fail(f"{len(failed)} of {len(results)} entities failed: {', '.join(failed)}")


def _sync_one(runner: Any, cfg: Any, entity: str, run: Any, store: Any) -> dict[str, Any]:
    """One entity's summary, or ``{"error": ...}`` after saying what failed."""
    from include.sync import pipeline

    try:
        return runner.sync_entity_once(cfg, entity, run=run, store=store)
    except pipeline.QuarantineThresholdExceeded as exc:  # the good records were loaded
        from include.airflow import glue

        _record_failure(store, cfg, entity, run, exc)
        _say(f"{entity}: {exc}")
        glue.remove_staging(glue.staging_dir(cfg.id, entity, run.run_id))  # a retry cannot help
        return {"error": str(exc), "quarantine_threshold_exceeded": True}
    except Exception as exc:
        log.debug("%s failed", entity, exc_info=True)
        _record_failure(store, cfg, entity, run, exc)
        message = _describe(exc)
        kept = _drop_staging(cfg, entity, run)
        hint = f" (the source was read completely: --run-id {run.run_id} reuses it)" if kept else ""
        _say(f"{entity} failed: {message}{hint}")
        return {"error": message}


def _record_failure(store: Any, cfg: Any, entity: str, run: Any, exc: BaseException) -> None:
    """The failed run into `sync_runs`, as the DAG's failure callback records it, so the API's
    sync status shows it (``fail`` for authentication, ``error`` otherwise)."""
    from include.airflow import glue
    from include.sync import run_status

    outcome = run_status.classify(exc, glue.secret_values(cfg))
    try:
        store.run_failed(
            cfg.id, entity, run.run_id, task="sync", attempt=1, failure=outcome.failure,
            reason=outcome.reason, retrying=False,
        )  # fmt: skip
    except Exception as err:  # the store is down: say so, the summary still has the error
        _say(f"{entity}: could not record the failure in the store: {err}")


def _drop_staging(cfg: Any, entity: str, run: Any) -> bool:
    """After a failure: keep the staging files only when a retry can use them (the source was
    read completely, as the DAG's retry would); True when kept."""
    from include.airflow import glue
    from include.sync import streaming

    out = glue.staging_dir(cfg.id, entity, run.run_id)
    if (out / streaming.MARKER).exists():
        return True
    glue.remove_staging(out)
    return False


# -------------------------------- sandbox


def _sandbox_modules() -> dict[str, str]:
    """System -> the module that serves it (a sandbox, or Tryton's real server)."""
    from connectors.registry import systems

    out = {}
    for system in systems():
        for module in (f"connectors.{system}.sandbox", f"connectors.{system}.server"):
            if find_spec(module) is not None and (
                module.endswith(".server") or find_spec(f"{module}.__main__") is not None
            ):
                out[system] = module
                break
    return out


@main.command(
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.argument("system")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def sandbox(system: str, args: tuple[str, ...]) -> None:
    """Serve SYSTEM's sandbox (or Tryton's real server) until interrupted.

    ARGS go to the sandbox: `millwright sandbox maximo --help` lists them (port, seed, size,
    API key, injected faults...). Systems: the connectors with a sandbox in this checkout.
    """
    modules = _sandbox_modules()
    if system not in modules:
        raise click.BadParameter(
            f"no sandbox for {system!r}; available: {', '.join(sorted(modules))}",
            param_hint="SYSTEM",
        )
    sys.argv = [f"millwright sandbox {system}", *args]
    runpy.run_module(modules[system], run_name="__main__", alter_sys=True)


# -------------------------------- connections


@main.group()
@click.option("--offline", type=click.Path(dir_okay=False, path_type=Path),
              help="offline Airflow state file (no Airflow needed)")  # fmt: skip
@click.pass_context
def connections(ctx: click.Context, offline: Path | None) -> None:
    """Create, change, disconnect, reconnect connections; tokens and credits.

    The same operations as the admin API (/api/system/*). Airflow is reached through its REST
    API (MILLWRIGHT_AIRFLOW_URL + MILLWRIGHT_AIRFLOW_TOKEN or _USER/_PASSWORD), or --offline.
    Output is JSON.
    """
    ctx.obj = {"offline": offline}


def _lifecycle_command(name: str, **params: Any) -> Callable[..., None]:
    @_command(airflow=True)
    def run(**kwargs: Any) -> None:
        from include.admin.airflow_adapter import MemoryAirflowAdapter, RestAirflowAdapter
        from include.admin.errors import LifecycleError
        from include.admin.lifecycle import Lifecycle
        from include.api.errors import domain_status
        from include.cli import connections as cli_connections

        offline = click.get_current_context().find_object(dict)["offline"]
        airflow = MemoryAirflowAdapter(offline) if offline else RestAirflowAdapter.from_env()
        store = _open_store()
        try:
            out = cli_connections.run(
                Namespace(cmd=name, **kwargs), Lifecycle(store, airflow), f"cli:{getpass.getuser()}"
            )
        except LifecycleError as exc:
            raise ValueError(f"({domain_status(exc)}) {exc.message}") from None
        finally:
            store.close()
        _Out.data(out)

    run.__name__ = name.replace("-", "_")
    return run


_ID = click.argument("id")
_FILE = click.argument("file", metavar="FILE.json|-")
_LIFECYCLE: dict[str, tuple[str, list[Callable[[Any], Any]]]] = {
    "list": ("List connections (of one customer).", [click.option("--customer")]),
    "show": ("Show one connection.", [_ID]),
    "create": ("Create a connection from a JSON body (as POST /api/system/connections; - reads "
               "stdin): credentials, config, credits, first token, first full sync.", [_FILE]),
    "patch": ("Change a connection's settings (JSON body; - reads stdin).", [_FILE, _ID]),
    "disconnect": ("Disconnect: token dead at once, DAG paused, credits back, history kept.", [_ID]),
    "reconnect": ("Reconnect a disconnected connection: a new token.", [_ID]),
    "delete-data": ("Purge a disconnected connection's records.", [_ID]),
    "token": ("Issue a new application token for a connection.", [_ID]),
    "claim-token": ("Show, once, the first token of a connection registered from a hand-added "
                    "Variable entry.", [_ID]),
    "pool-set": ("Set a customer's credit pool.",
                 [click.argument("size", type=int), click.argument("customer")]),
    "credits": ("Credit pools and their use.", [click.argument("customer", required=False)]),
    "reconcile": ("Register connections added to the Variable by hand.", []),
    "settle": ("Run the pending Airflow steps (unpause, first sync, pause...) now.", []),
    "maintain": ("One pass of the lifecycle DAG now: register hand-added entries, settle.", []),
    "config-errors": ("What the Variable gets wrong (whole, or per entry).", []),
    "audit": ("The audit log (of one connection).", [click.argument("id", required=False)]),
}  # fmt: skip
for _name, (_help, _decorators) in _LIFECYCLE.items():
    _fn = _lifecycle_command(_name)
    for _decorate in _decorators:
        _fn = _decorate(_fn)
    connections.command(_name, help=_help)(_fn)


# -------------------------------- quarantine


@main.group()
def quarantine() -> None:
    """List and re-process records that failed mapping or validation."""


@quarantine.command("list")
@click.option("--connection", required=True)
@click.option("--entity")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@_command(airflow=True)
def quarantine_list(connection: str, entity: str | None, limit: int) -> None:
    """Quarantined records of a connection, one JSON object per line, with the reason."""
    store = _open_store()
    try:
        items = store.quarantine_list(connection, entity, limit=limit)
    finally:
        store.close()
    _Out.data(items, lines=True)
    _say(f"{len(items)} quarantined record(s)")


@quarantine.command("reprocess")
@click.option("--connection", required=True)
@click.option("--entity")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              help=_CONFIG_HELP)  # fmt: skip
@click.option("--stored", is_flag=True,
              help="map the stored raw records again instead of reading them from the source")  # fmt: skip
@_command(airflow=True)
def quarantine_reprocess(
    connection: str, entity: str | None, config_file: Path | None, stored: bool
) -> None:
    """Read the quarantined records again from the source (a full read of each entity that has
    some, keeping only theirs), map them with the current mapping and config, and load the ones
    that pass now; a record the source no longer has is resolved as gone. Exit 1 when some
    still fail."""
    from include.cli import discovery
    from include.cli.tools import reprocess

    found = discovery.find_connection(connection, config_file)
    store = _open_store()
    try:
        if stored:
            result = reprocess(store, found.cfg, entity)
        else:
            from include.airflow import glue

            with glue.make_connector(found.cfg) as connector:
                result = reprocess(store, found.cfg, entity, connector)
    finally:
        store.close()
    _Out.data(result)
    if result["still_failing"]:
        _fail(f"{result['still_failing']} record(s) still fail; see `quarantine list`")


# -------------------------------- config


@main.command("validate-config")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--offline", is_flag=True,
              help="check custom_fields against the store's cached source metadata only "
                   "(default: read each source's metadata, cache it, fall back to the cache)")  # fmt: skip
@_command(airflow=False)
def validate_config(file: Path, offline: bool) -> None:
    """Check a millwright_connections JSON file: one line per entry; exit 1 naming each error.

    Custom fields are checked against each source's own metadata: a path the source does not
    have is an error naming it, its entity and the closest fields."""
    from include.cli.tools import check_custom_fields, validate_file

    if validate_file(file, out=_Out.stream) != 0:
        sys.exit(1)
    entries = json.loads(file.read_text())
    if not any(isinstance(e, dict) and e.get("custom_fields") for e in entries):
        return
    source = _offline if offline else _airflow_source()
    store = _open_store()
    try:
        code = check_custom_fields(file, store, source, out=_Out.stream)
    finally:
        store.close()
    if code:
        sys.exit(1)


def _offline(cfg: Any) -> Any:
    raise RuntimeError("--offline")


def _airflow_source() -> Any:
    """Each connection's source from its Airflow Connection (as `millwright sync` opens it)."""
    from include.cli import discovery

    try:
        _say(f"airflow: {discovery.connect_airflow().describe()}")
    except Exception as exc:  # no Airflow here: environment variables may still define them
        _say(f"airflow: not set up ({exc}); AIRFLOW_CONN_* variables only")
    from include.airflow import glue

    return glue.make_connector


@main.command()
@_command(airflow=False)
def schema() -> None:
    """Print the JSON Schema of the millwright_connections Variable."""
    from include.config import json_schema

    _Out.data(json_schema())


# -------------------------------- api


@main.group()
def api() -> None:
    """The unified API, standalone (it also runs inside Airflow's api-server)."""


@api.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="processes (threads are per process)")  # fmt: skip
@click.option("--read-only", is_flag=True, help="the read API alone: no admin API or dashboard")
@click.option("--log-level", default="warning", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))  # fmt: skip
@_command(airflow=True)
def api_serve(host: str, port: int, workers: int, read_only: bool, log_level: str) -> None:
    """Serve the API with uvicorn on the store the DAGs load (said on stderr)."""
    from include.cli import discovery
    from include.cli.serve import main as serve

    choice = discovery.discover_store()
    _say(f"store: {choice.describe()}")
    os.environ["MILLWRIGHT_STORE_URL"] = choice.url  # worker processes read it too
    argv = ["--host", host, "--port", str(port), "--workers", str(workers)]
    serve([*argv, "--log-level", log_level, *(["--read-only"] if read_only else [])])


if __name__ == "__main__":
    main()
