"""Build one Airflow DAG per connection of the ``millwright_connections`` Variable.

Each connection's DAG ``sync__<id>`` has, per entity, a task group ``sync -> reconcile``, where
``sync`` runs extract, map and load at once (include/sync/streaming.py; the default ``pipeline:
streaming``), or ``extract -> map -> load -> reconcile`` as separate tasks (include/sync/pipeline.py;
``pipeline: staged``), plus a ``statuses`` task. Tasks pass summaries (paths and counts) through
XCom; records travel through staging files.

Failure isolation: each DAG is built inside its own try/except and validated; a bad entry becomes a
placeholder DAG of the same id, on the connection's schedule and unpaused, whose description and
doc state the error and whose every run fails with it (the first at once: red in the UI). A missing
or unreadable Variable yields the error DAG ``millwright__config_error`` (failing the same way)
while the connections of the last successfully read Variable keep their DAGs (never "zero
connections": a file that stops producing DAGs makes Airflow mark them stale).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import (
    DAG,
    CronDataIntervalTimetable,
    TaskGroup,
    get_current_context,
    get_parsing_context,
    task,
)
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from connectors.base import Connector, Window
from connectors.registry import get_connector
from include.airflow import glue, runner
from include.airflow import webhooks as wh
from include.config import (
    ConfigError,
    ConnectionConfig,
    VariableError,
    naming,
    parse_connections,
    task_group_id,
)
from include.sync import fields, pipeline, run_status

log = logging.getLogger(__name__)

ERROR_DAG_ID = "millwright__config_error"
TAG = "millwright"
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "millwright",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
}
PLACEHOLDER_START = datetime(2024, 1, 1, tzinfo=UTC)
PLACEHOLDER_SCHEDULE = "0 * * * *"  # an entry without a valid cron; the Variable's error DAG


# ---------------------------------------------------------------- run context


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    run_type: str  # scheduled | manual | backfill | asset_triggered
    start: datetime | None
    end: datetime | None
    conf: dict[str, Any]


def run_info() -> RunInfo:
    ctx = get_current_context()
    dag_run = ctx["dag_run"]
    run_type = getattr(dag_run.run_type, "value", dag_run.run_type)
    return RunInfo(
        run_id=ctx["run_id"],
        run_type=str(run_type),
        start=ctx.get("data_interval_start"),
        end=ctx.get("data_interval_end"),
        conf=dict(dag_run.conf or {}),
    )


def reconcile_due(cfg: ConnectionConfig, run: RunInfo) -> tuple[bool, str]:
    """Whether this run should list source keys: asked for, or a ``reconcile_every`` boundary
    (multiple of the period since the epoch) falls inside a scheduled run's interval."""
    if run.conf.get("reconcile") is True:
        return True, "requested by dag_run.conf"
    if run.run_type != "scheduled" or run.start is None or run.end is None:
        return False, f"{run.run_type} run: reconciliation runs on schedule or with conf reconcile"
    step = cfg.reconcile_delta.total_seconds()
    if int(run.end.timestamp() // step) > int(run.start.timestamp() // step):
        return True, f"a {cfg.reconcile_every} boundary falls in this interval"
    return False, f"not due: reconciliation every {cfg.reconcile_every}"


# ---------------------------------------------------------------- run status (sync_runs)
#
# Every task writes its entity's row in the store's ``sync_runs`` (Airflow 3 tasks may not use
# Airflow's ORM; the store is Millwright's own): ``running`` when its work starts
# (`Store.run_started`, which also closes rows a killed task left ``running``), the load's
# ``success`` with counts (`pipeline.finish_load`), and for a failed attempt the callbacks below:
# ``retrying`` (Airflow runs the task again) or ``failed``, with the failure typed by
# `run_status.classify` and a plain reason. The API reads them (include/admin/status.py).


def _attempt() -> int:
    return int(get_current_context()["ti"].try_number)


@contextmanager
def _source(cfg: ConnectionConfig) -> Iterator[Connector]:
    """The connection's connector. Failing to build it from the Airflow Connection (missing,
    no host, a credential missing) is a `run_status.ConnectionSetupError`: Makini's ``fail``.
    Authentication failures end the task without retries (`AirflowFailException` caused by the
    typed error): the credentials will not fix themselves in minutes, and repeating a wrong
    password gets accounts locked or rate-limited at many sources."""
    try:
        connector = glue.make_connector(cfg)
    except Exception as exc:
        setup = run_status.ConnectionSetupError(str(exc))
        raise AirflowFailException(f"{setup} (not retried)") from setup
    with connector:
        try:
            yield connector
        except Exception as exc:
            if run_status.is_auth_failure(exc) and not isinstance(exc, AirflowFailException):
                raise AirflowFailException(f"{exc} (authentication: not retried)") from exc
            if isinstance(exc, fields.UnknownCustomFields):
                raise AirflowFailException(f"{exc} (fix custom_fields: not retried)") from exc
            raise


def record_failure(cfg: ConnectionConfig, entity: str, retrying: bool, context: Any) -> None:
    """``on_failure_callback`` (``retrying=False``) and ``on_retry_callback`` of the sync DAG's
    tasks: the attempt's outcome into ``sync_runs``. Airflow also runs ``on_failure_callback``
    for a task that died without an exception (no ``exception`` then: `run_status.KILLED`)."""
    ti = context["ti"]
    outcome = run_status.classify(context.get("exception"), glue.secret_values(cfg))
    try:
        store = glue.open_store()
        try:
            store.run_failed(
                cfg.id, entity, context.get("run_id") or ti.run_id,
                task=ti.task_id.rsplit(".", 1)[-1],
                attempt=getattr(ti, "try_number", None), failure=outcome.failure,
                reason=outcome.reason, retrying=retrying,
            )  # fmt: skip
        finally:
            store.close()
    except Exception:  # the store is down: the task's own log has the error
        log.exception("cannot record the failure of %s in the store", ti.task_id)


def _callbacks(cfg: ConnectionConfig, entity: str) -> dict[str, Any]:
    return {
        "on_failure_callback": functools.partial(record_failure, cfg, entity, False),
        "on_retry_callback": functools.partial(record_failure, cfg, entity, True),
    }


# ---------------------------------------------------------------- the sync DAG


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def disconnected_dag(cfg: ConnectionConfig) -> DAG:
    """A disconnected connection's DAG: visible with its history, no schedule; a manual trigger
    (or an unpause) only says that the connection is disconnected."""
    from include.admin.guard import disconnected_dag_spec

    spec = disconnected_dag_spec(cfg.id, cfg.customer, cfg.system)
    with DAG(
        dag_id=cfg.dag_id,
        description=spec["description"],
        doc_md=spec["doc_md"] + "\n" + glue.config_doc(cfg),
        schedule=None,
        start_date=_aware(cfg.start_date),
        catchup=False,
        is_paused_upon_creation=True,
        tags=[cfg.customer, cfg.system, TAG, "disconnected", *cfg.tags],
    ) as dag:

        @task(task_id=spec["task_id"], retries=0)
        def disconnected() -> None:
            log.warning(spec["message"])
            raise AirflowSkipException(spec["message"])

        disconnected()
    return dag


@contextmanager
def _fail_on_quarantine() -> Iterator[None]:
    """Too many quarantined records fail the task for good: retrying cannot help."""
    try:
        yield
    except pipeline.QuarantineThresholdExceeded as exc:
        raise AirflowFailException(str(exc)) from None


def build_sync_dag(cfg: ConnectionConfig) -> DAG:
    """The sync DAG of one valid connection (`disconnected_dag` once it is disconnected).

    Long because its tasks are TaskFlow functions defined inside the DAG's context, closures over
    ``cfg``; each is a few lines calling `runner` or `include.sync`."""
    if cfg.status != "active":
        return disconnected_dag(cfg)
    connector_cls = get_connector(cfg.system)
    entities = runner.sync_entities(cfg)
    # the cron, or with webhooks on, the cron OR the connection's webhook asset
    schedule = wh.schedule(cfg, CronDataIntervalTimetable(cfg.schedule, timezone="UTC"))
    description = f"Sync {cfg.customer} / {cfg.system} ({cfg.id}): {', '.join(entities)}"

    with DAG(
        dag_id=cfg.dag_id,
        description=description,
        doc_md=glue.config_doc(cfg),
        schedule=schedule,
        start_date=_aware(cfg.start_date),
        catchup=False,
        max_active_runs=1,
        is_paused_upon_creation=False,
        tags=[cfg.customer, cfg.system, TAG, *cfg.tags],
        default_args=DEFAULT_ARGS,
    ) as dag:

        def spec_of(entity: str, run: RunInfo) -> runner.RunSpec:
            """This run as the runner sees it; skips entities a re-sync leaves out."""
            only = run.conf.get("entities")
            if only is not None and entity not in only:
                raise AirflowSkipException(f"this run re-syncs only {', '.join(only)}")
            return runner.RunSpec(
                run_id=run.run_id, run_type=run.run_type, interval_start=run.start,
                interval_end=run.end,
                full=run.conf.get("full") is True,  # a re-sync asked for by a settings change
            )  # fmt: skip

        def plan(store: Any, entity: str, run: RunInfo) -> Window:
            return runner.plan(store, cfg, entity, spec_of(entity, run))

        @task(task_id="sync")
        def sync(entity: str) -> dict:
            run = run_info()
            spec = spec_of(entity, run)
            store = glue.open_store()
            try:
                with _fail_on_quarantine():
                    return runner.sync_entity_once(
                        cfg, entity, run=spec, store=store, attempt=_attempt(), source=_source
                    )
            finally:
                store.close()

        @task(task_id="extract")
        def extract(entity: str) -> dict:
            run = run_info()
            store = glue.open_store()
            try:
                window = plan(store, entity, run)
                store.run_started(
                    cfg.id, entity, run.run_id, task="extract", attempt=_attempt(),
                    **runner.window_columns(window),
                )  # fmt: skip
            finally:
                store.close()
            out = glue.staging_dir(cfg.id, entity, run.run_id)
            with _source(cfg) as connector:
                store = glue.open_store()
                try:
                    fields.ensure_known(connector, store, cfg, entity)  # before reading data
                finally:
                    store.close()
                return pipeline.extract(connector, entity, window, out)

        @task(task_id="map")
        def map_(entity: str, extracted: dict) -> dict:
            run = run_info()
            store = glue.open_store()
            try:
                store.run_started(cfg.id, entity, run.run_id, task="map", attempt=_attempt())
                return pipeline.map_pages(
                    connector_cls, cfg, entity, extracted,
                    glue.staging_dir(cfg.id, entity, run.run_id), store, run.run_id,
                    path_factory=glue.to_staging_path,
                )  # fmt: skip
            finally:
                store.close()

        @task(task_id="load", pool=glue.LOAD_POOL)
        def load(entity: str, mapped: dict) -> dict:
            from include.admin.guard import write_guard

            run = run_info()
            spec = connector_cls.entities[entity]
            store = glue.open_store()
            try:
                store.run_started(cfg.id, entity, run.run_id, task="load", attempt=_attempt())
                with _fail_on_quarantine():
                    summary = pipeline.load(
                        store, cfg, entity, mapped, run_id=run.run_id,
                        incremental=spec.incremental, path_factory=glue.to_staging_path,
                        guard=write_guard(cfg.id),  # a disconnect mid-run: nothing more is written
                    )  # fmt: skip
            finally:
                store.close()
            glue.clean_staging(cfg.id, entity, run.run_id)
            return {**summary, "full": bool(mapped.get("full")), "window": mapped.get("window")}

        @task(task_id="reconcile")  # mostly skipped: no pool slot; the store's busy timeout waits
        def reconcile(entity: str, loaded: dict) -> dict:
            spec = connector_cls.entities[entity]
            if not spec.reconcile:
                raise AirflowSkipException(f"{cfg.system} cannot list {entity} keys")
            if loaded.get("full"):
                raise AirflowSkipException("this run read everything: the load reconciled")
            run = run_info()
            due, why = reconcile_due(cfg, run)
            if not due:
                raise AirflowSkipException(why)
            log.info("reconcile %s: %s", entity, why)
            store = glue.open_store()
            try:
                store.run_started(cfg.id, entity, run.run_id, task="reconcile", attempt=_attempt())
                with _source(cfg) as connector:
                    deleted = pipeline.reconcile_from_source(store, cfg, connector, entity)
                store.run_succeeded(
                    cfg.id, entity, run.run_id, task="reconcile", attempt=_attempt(),
                    deleted=deleted,
                )  # fmt: skip
            finally:
                store.close()
            return {"deleted": deleted}

        @task(task_id="statuses")
        def statuses() -> list[str]:
            row, run_id = run_status.STATUSES_ROW, run_info().run_id
            store = glue.open_store()
            try:
                store.run_started(cfg.id, row, run_id, task="statuses", attempt=_attempt())
                with _source(cfg) as connector:
                    done = pipeline.refresh_statuses(store, cfg, connector)
                store.run_succeeded(cfg.id, row, run_id, task="statuses", attempt=_attempt())
                return done
            finally:
                store.close()

        # webhooks: events applied each run; a run the webhook asset started skips the rest
        gate = (
            wh.task_group(cfg, _source, lambda: run_info().run_type, lambda: run_info().run_id)
            if cfg.webhooks_on
            else None
        )
        for entity in entities:
            cb = _callbacks(cfg, entity)
            with TaskGroup(group_id=task_group_id(entity)) as group:
                if cfg.pipeline == "staged":
                    extracted = extract.override(**cb)(entity)
                    loaded = load.override(**cb)(entity, map_.override(**cb)(entity, extracted))
                else:
                    loaded = sync.override(**cb)(entity)
                reconcile.override(**cb)(entity, loaded)
            if gate is not None:
                gate >> group
        statuses_task = statuses.override(**_callbacks(cfg, run_status.STATUSES_ROW))()
        if gate is not None:
            gate >> statuses_task
    return dag


# ---------------------------------------------------------------- placeholders


def placeholder_dag(dag_id: str, message: str, schedule: str | None = None) -> DAG:
    """A DAG that shows ``message`` in the UI and whose every run fails with it: red where
    Airflow users look (the run, the DAG's status, the home page's failed count). Scheduled on
    the connection's own cron (``schedule``; hourly when the entry has no valid one), created
    unpaused, with a start date in the past and no catchup: the scheduler runs the latest
    interval at once, so the first failed run comes with the first parse."""
    with DAG(
        dag_id=dag_id,
        description=f"CONFIG ERROR: {message}"[:1000],
        doc_md=(
            f"### Millwright configuration error\n\n```\n{message}\n```\n\n"
            "Fix the entry in the Airflow Variable `millwright_connections` "
            "(see docs/CONNECTIONS.md); the DAG is rebuilt on the next parse."
        ),
        schedule=CronDataIntervalTimetable(schedule or PLACEHOLDER_SCHEDULE, timezone="UTC"),
        start_date=PLACEHOLDER_START,
        catchup=False,
        max_active_runs=1,
        is_paused_upon_creation=False,
        tags=[TAG, "config-error"],
    ) as dag:

        @task(task_id="config_error", retries=0)
        def config_error() -> None:
            # the reason in plain words, then a failed exit: Airflow logs SystemExit as one
            # line ("Task exited"), where an exception would add a traceback about this file
            log.error("Millwright configuration error: %s", message)
            raise SystemExit(1)

        config_error()
    return dag


# ---------------------------------------------------------------- last good Variable


def _last_good_path():
    return glue.millwright_home() / "connections.last-good.json"


def _save_last_good(text: str) -> None:
    path = _last_good_path()
    try:
        if path.exists() and path.read_text() == text:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only home must not break parsing
        log.warning("cannot keep the last good Variable at %s: %s", path, exc)


def _load_last_good() -> str | None:
    path = _last_good_path()
    return path.read_text() if path.exists() else None


# ---------------------------------------------------------------- entry point


def build_dags(read_text: Callable[[], str | None] = glue.read_variable_text) -> dict[str, DAG]:
    """All DAGs for the dags/ file (only the one a worker runs, via the parsing context)."""
    wanted = get_parsing_context().dag_id
    dags: dict[str, DAG] = {}
    try:
        text = read_text()
        entries = parse_connections(text)
        _save_last_good(text)  # type: ignore[arg-type]  # parse_connections rejected None
    except VariableError as exc:
        cached = _load_last_good()
        entries = parse_connections(cached) if cached else []
        note = (
            f" Keeping the DAGs of the last valid Variable ({len(entries)} entries)."
            if cached
            else " No earlier valid Variable is known: no sync DAGs."
        )
        log.error("%s%s", exc, note)
        if wanted in (None, ERROR_DAG_ID):
            dags[ERROR_DAG_ID] = placeholder_dag(ERROR_DAG_ID, f"{exc}.{note}")
    for entry in entries:
        cid = entry.connection_id if isinstance(entry, ConfigError) else entry.id
        dag_id = naming.dag_id(cid)
        if wanted is not None and wanted != dag_id:
            continue
        try:
            if isinstance(entry, ConfigError):
                raise entry
            dag = build_sync_dag(entry)
            dag.validate()
        except Exception as exc:
            message = str(exc) if isinstance(exc, ConfigError) else f"connection {cid}: {exc}"
            log.error("Millwright: %s", message)
            dag = placeholder_dag(dag_id, message, entry.schedule)
        dags[dag_id] = dag
    return dags
