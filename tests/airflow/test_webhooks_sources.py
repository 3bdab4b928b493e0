"""Where the receiver's settings come from: the Variable's config (scheme, tolerance) and the
connection's Airflow Connection (the secrets, a rotation, Limble's API key); what events name."""

from __future__ import annotations

import json

import pytest

from include.config import ConnectionConfig, parse_connections
from include.webhooks.spec import LIMBLE, EventTarget, targets

pytestmark = pytest.mark.airflow


def cfg(**kw: object) -> ConnectionConfig:
    entry = {"id": "c1", "customer": "acme", "system": "maintainx", "airflow_conn_id": "mw_c1",
             "webhooks": {}, **kw}  # fmt: skip
    [out] = parse_connections(json.dumps([entry]))
    assert isinstance(out, ConnectionConfig), out
    return out


def test_sources_from_config_and_airflow_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    from include.airflow import glue

    extra = {
        "webhook_secret": '["new-secret", "other-sub-secret"]',
        "webhook_secret_previous": "old",
    }
    monkeypatch.setenv("AIRFLOW_CONN_MW_C1", json.dumps(
        {"conn_type": "http", "host": "http://x", "password": "api-key", "extra": extra}))  # fmt: skip
    configs = {"c1": cfg(webhooks={"tolerance": "2m"}), "off": cfg(id="off", webhooks=None),
               "gone": cfg(id="gone", status="disconnected")}  # fmt: skip
    provide = glue.webhook_sources(configs.get)
    src = provide("c1")
    assert (src.scheme, src.status, src.tolerance) == ("maintainx", "active", 120.0)
    assert src.secrets == ("new-secret", "other-sub-secret", "old")
    assert "new-secret" not in repr(src)  # never in a log line
    assert provide("off") is None and provide("nope") is None
    assert provide("gone").status == "disconnected"


def test_a_connection_created_a_moment_ago_is_received_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The API caches the Variable a minute and the receiver its sources 30 s: a connection
    just created (or reconnected: a new id) is not in the cached configs. Its first event makes
    them re-read the Variable (found: received, not 404); unknown ids cost at most one read per
    ``miss_ttl``, and a miss is remembered only that long."""
    import time

    from include.airflow import glue
    from include.api.app import cached_config_provider

    monkeypatch.setenv("AIRFLOW_CONN_MW_C1", json.dumps(
        {"conn_type": "http", "host": "http://x", "password": "k",
         "extra": {"webhook_secret": "s"}}))  # fmt: skip
    entries, reads = [cfg()], []

    def read() -> list:
        reads.append(1)
        return list(entries)

    configs = cached_config_provider(read, ttl=60.0)
    provide = glue.webhook_sources(configs, miss_ttl=0.2)
    assert provide("c1").secrets == ("s",) and len(reads) == 1
    entries.append(cfg(id="c1-2"))  # the reconnect's new id, within the configs' minute
    time.sleep(0.25)
    assert provide("c1-2").connection_id == "c1-2"  # one re-read, and it is found
    assert len(reads) == 2
    for n in range(50):  # unknown ids: no read each
        assert provide(f"nope-{n}") is None
    assert len(reads) <= 3
    entries.append(cfg(id="c3"))
    time.sleep(0.25)  # the miss of c3, if any, is forgotten after miss_ttl
    assert provide("c3").connection_id == "c3"


def test_limble_signs_with_the_api_key_and_config_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    from include.airflow import glue

    monkeypatch.setenv("AIRFLOW_CONN_MW_C1", json.dumps(
        {"conn_type": "http", "host": "http://x", "password": "limble-key"}))  # fmt: skip
    c = cfg(webhooks={"scheme": "limble"})
    assert glue.webhook_secrets(c) == ("limble-key",)
    assert glue.webhook_secrets(cfg()) == ()  # MaintainX: a subscription secret is required
    for bad, msg in [
        ({"scheme": "svix"}, "unknown scheme"),
        ({"retention": "24h"}, "72h"),
        ({"tolerance": "0s"}, "positive"),
        ({"header": "x y"}, "header name"),
    ]:
        [err] = parse_connections(
            json.dumps(
                [
                    {
                        "id": "c1",
                        "customer": "a",
                        "system": "maintainx",
                        "airflow_conn_id": "x",
                        "webhooks": bad,
                    }
                ]
            )
        )
        assert msg in str(err), (bad, str(err))


def test_what_events_name() -> None:
    from connectors.maintainx import CONNECTOR

    ents = dict.fromkeys(["work-orders", "materials", "stocks", "assets", "purchase-orders"])
    spec = CONNECTOR.webhooks
    assert targets(spec, {"workOrderId": 7, "orgId": 1, "newWorkOrder": {"assetId": 3}}, ents) == [
        EventTarget("work-orders", "7")]  # fmt: skip
    assert targets(spec, {"partId": 5}, ents) == [
        EventTarget("materials", "5"), EventTarget("stocks", "5")]  # fmt: skip
    assert targets(spec, {"partId": 5}, {"work-orders": None}) == []  # not synced: nothing to do
    assert targets(LIMBLE, {"taskID": 8203, "status": "COMPLETE", "category": "task"}, ents) == [
        EventTarget("work-orders", "8203")]  # fmt: skip
    assert targets(LIMBLE, {"poID": 1, "category": "po", "status": "DELETED"}, ents) == [
        EventTarget("purchase-orders", "1")]  # fmt: skip
    assert targets(None, {"entity": "assets", "id": "A-1"}, ents) == [EventTarget("assets", "A-1")]
    for bad, msg in [
        ([], "not a JSON object"),
        ({"x": 1}, "names no record"),
        ({"entity": "spaceships", "id": 1}, "does not have"),
        ({"entity": "assets", "id": True}, "non-empty"),
        ({"workOrderId": {"a": 1}}, "non-empty"),
    ]:
        with pytest.raises(ValueError, match=msg):
            targets(spec if "workOrderId" in bad else None, bad, ents)
