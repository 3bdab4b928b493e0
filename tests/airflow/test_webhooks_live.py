"""Webhooks against real Airflow processes (`airflow standalone`: api-server with this project's
plugin, scheduler, dag-processor, triggerer, LocalExecutor): MaintainX's sandbox delivers signed
webhooks to the plugin's receiver, the shared inbox trigger fires the connection's asset, the
connection's own DAG (cron far away) runs its ``webhooks`` task group, and the changed record is
served by the API. Lag from the change at the source to the API, p95 over 100 events, < 30 s.

The set-up and the measurement are bench/webhooks_lag.py's (the same path, run by hand there)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from bench.webhooks_lag import CID, DAG_ID, LIMIT_P95_S, Live, live, measure

pytestmark = pytest.mark.airflow

EVENTS = 100


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    with live(tmp_path_factory.mktemp("wh-standalone")) as running:
        yield running


def test_webhook_to_api_lag_under_30s_p95(setup: Live) -> None:
    out = measure(setup, EVENTS, 0.6)
    lags = sorted(out["source_to_api"])
    assert len(lags) == EVENTS
    p50, p95 = lags[len(lags) // 2], lags[int(0.95 * len(lags)) - 1]
    print(f"\nwebhook -> API lag over {len(lags)} events: p50 {p50:.1f}s p95 {p95:.1f}s "
          f"max {lags[-1]:.1f}s")  # fmt: skip
    assert p95 < LIMIT_P95_S, f"p95 lag {p95:.1f}s"
    # no scheduled run happened meanwhile: webhook runs did it
    api, env = setup.api, setup.env
    kinds = [r["run_type"] for r in api.call("GET", f"/dags/{DAG_ID}/dagRuns")["dag_runs"]]
    assert "asset_triggered" in kinds and kinds.count("scheduled") <= 1
    # the receiver's monitoring counts them
    admin = {"Authorization": f"Bearer {env['MILLWRIGHT_ADMIN_TOKEN']}"}
    r = requests.get(f"{api.base}/millwright/api/system/connections/{CID}/webhooks",
                     headers=admin, timeout=60)  # fmt: skip
    assert r.status_code == 200, r.text
    stats = r.json()["data"]["stats"]
    assert stats["received"] >= EVENTS and stats["failed"] == 0
