"""The webhook wiring as Airflow sees it: the connection's DAG on cron OR its asset, the asset's
watcher an event trigger whose poll all connections share, the ``webhooks`` task group gating the
sync tasks; the trigger's shared poll against a real store."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.airflow.conftest import ROOT

pytestmark = pytest.mark.airflow
VAR_ENV = "AIRFLOW_VAR_MILLWRIGHT_CONNECTIONS"


def conn(cid: str, **kw: object) -> dict:
    return {"id": cid, "customer": "acme", "system": "maintainx", "airflow_conn_id": f"mw_{cid}",
            "entities": ["work-orders", "assets"], **kw}  # fmt: skip


@pytest.fixture
def bag(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # noqa: ANN201
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("MILLWRIGHT_HOME", str(tmp_path / "mw"))
    monkeypatch.delenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", raising=False)
    variable = [conn("wh-a", webhooks={}), conn("wh-b", webhooks={"tolerance": "2m"}),
                conn("plain")]  # fmt: skip
    monkeypatch.setenv(VAR_ENV, json.dumps(variable))
    out = DagBag(dag_folder=str(ROOT / "dags"))
    assert out.import_errors == {}
    return out


def test_schedule_asset_watcher_and_task_group(bag) -> None:
    from airflow.sdk import AssetOrTimeSchedule, CronDataIntervalTimetable

    from include.airflow.webhooks import InboxTrigger, asset_uri

    a, b, plain = bag.dags["sync__wh-a"], bag.dags["sync__wh-b"], bag.dags["sync__plain"]
    assert isinstance(plain.timetable, CronDataIntervalTimetable)
    assert "webhooks.apply" not in plain.task_ids
    assert isinstance(a.timetable, AssetOrTimeSchedule)
    assert isinstance(a.timetable.timetable, CronDataIntervalTimetable)  # the cron stays
    asset = a.timetable.asset_condition
    assert asset.uri == asset_uri("wh-a")
    [watcher] = asset.watchers
    trigger = watcher.trigger
    assert isinstance(trigger, InboxTrigger) and trigger.connection_id == "wh-a"
    asset_b = b.timetable.asset_condition
    trigger_b = asset_b.watchers[0].trigger
    # one poll for both connections, each its own trigger (and asset)
    assert trigger.shared_stream_key() == trigger_b.shared_stream_key()
    assert trigger.serialize() != trigger_b.serialize()
    gate = a.get_task("webhooks.poll_due")
    sync_tasks = [t for t in a.task_ids if t.endswith(".sync") or t == "statuses"]
    assert len(sync_tasks) == 3
    assert set(gate.get_flat_relative_ids(upstream=False)) >= set(sync_tasks)
    assert not a.get_task("webhooks.apply").upstream_task_ids  # applies in every run
    assert gate.ignore_downstream_trigger_rules


def test_the_shared_poll_signals_each_connection_its_own_events(tmp_path, monkeypatch) -> None:
    from include.airflow.webhooks import InboxTrigger
    from include.store import Store
    from include.store.inbox import Inbox, NewEvent

    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("MILLWRIGHT_STORE_URL", url)
    store = Store(url)
    store.migrate()
    Inbox(store.engine).add([NewEvent("wh-a", "1", "{}"), NewEvent("wh-b", "2", "{}"),
                             NewEvent("wh-b", "3", "{}")])  # fmt: skip
    a = InboxTrigger("wh-a", poll_interval=0.05)
    b = InboxTrigger("wh-b", poll_interval=0.05)
    kwargs = a.serialize()[1]

    async def run() -> tuple[list, list]:
        # the triggerer's fan-out: one stream, broadcast to both filters
        queues: list[asyncio.Queue] = [asyncio.Queue(), asyncio.Queue()]

        async def pump() -> None:
            async for raw in InboxTrigger.open_shared_stream(kwargs):
                for q in queues:
                    q.put_nowait(raw)

        async def feed(q: asyncio.Queue):  # noqa: ANN202
            while True:
                yield await q.get()

        task = asyncio.create_task(pump())
        got_a = await asyncio.wait_for(anext(a.filter_shared_stream(feed(queues[0]))), 10)
        got_b = await asyncio.wait_for(anext(b.filter_shared_stream(feed(queues[1]))), 10)
        # a new event for wh-a is signalled again (a higher id)
        Inbox(store.engine).add([NewEvent("wh-a", "4", "{}")])
        stream_a = a.filter_shared_stream(feed(queues[0]))
        again = await asyncio.wait_for(anext(stream_a), 10)
        task.cancel()
        return [got_a.payload, again.payload], [got_b.payload]

    got_a, got_b = asyncio.run(run())
    assert got_a[0]["connection_id"] == "wh-a" and got_a[0]["pending"] == 1
    assert got_a[1]["pending"] == 2 and got_a[1]["max_id"] > got_a[0]["max_id"]
    assert got_b[0] == {"connection_id": "wh-b", "max_id": got_b[0]["max_id"], "pending": 2}
    store.close()


def test_alerts_go_through_the_notifier_past_the_thresholds(monkeypatch) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from include.airflow.alerts import AlertNotifier, send_alert
    from include.airflow.webhooks import alert_reason
    from include.config import ConnectionConfig

    got: list[dict] = []

    class H(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            got.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv(
        "MILLWRIGHT_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook"
    )
    cfg = ConnectionConfig.model_validate(conn("wh-a", webhooks={"alert_failed": 2,
                                                                 "alert_lag": "1m"}))  # fmt: skip
    ok = {"failed": 0, "retrying": 0, "oldest_pending_age_s": 5.0}
    assert alert_reason(cfg, ok, 0) is None
    assert alert_reason(cfg, {**ok, "failed": 1}, 1) is None  # below the threshold
    assert alert_reason(cfg, {**ok, "failed": 5}, 0) is None  # no new failure in this run
    why = alert_reason(cfg, {**ok, "failed": 1, "retrying": 1}, 1)
    assert why == "2 events failed in the last hour"
    late = alert_reason(cfg, {**ok, "oldest_pending_age_s": 61.0}, 0)
    assert late and "61 s old" in late
    assert issubclass(
        AlertNotifier, __import__("airflow.sdk", fromlist=["BaseNotifier"]).BaseNotifier
    )
    send_alert("wh-a", why, {"failed": 1})
    server.shutdown()
    assert got and got[0]["connection_id"] == "wh-a" and why in got[0]["text"]
