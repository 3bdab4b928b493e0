"""The admin API's connection objects carry the truthful sync status (`sync_status`,
`sync_error`), the same as the connection's own `/api/integrations/current`."""

from __future__ import annotations

from tests.lifecycle.conftest import HEADERS
from tests.lifecycle.test_lifecycle import create, read_api


def test_admin_view_shows_fail_with_the_reason_until_a_run_succeeds(client, store):
    c = create(client)
    cid = c["key"]
    one = lambda: client.get(f"/api/system/connections/{cid}", headers=HEADERS).json()["data"]  # noqa: E731
    assert (one()["sync_status"], one()["sync_error"]) == ("inprogress", None)
    store.run_started(cid, "work-orders", "r1", task="sync", attempt=1)
    store.run_failed(cid, "work-orders", "r1", task="sync", attempt=1, failure="auth",
                     reason="maintainx: GET /v1/workorders failed with status 401",
                     retrying=False)  # fmt: skip
    view = one()
    assert view["sync_status"] == "fail"
    assert view["sync_error"] == "work-orders: maintainx: GET /v1/workorders failed with status 401"
    listed = client.get("/api/system/connections", headers=HEADERS).json()["data"]
    assert next(x for x in listed if x["key"] == cid)["sync_status"] == "fail"
    assert read_api(client, c["access_token"]).json()["data"]["sync_status"] == "fail"

    store.run_started(cid, "work-orders", "r2", task="sync", attempt=1)
    assert one()["sync_status"] == "fail"  # the next run is running: still failing
    store.run_succeeded(cid, "work-orders", "r2", task="sync", attempt=1)
    assert (one()["sync_status"], one()["sync_error"]) == ("fulldone", None)
