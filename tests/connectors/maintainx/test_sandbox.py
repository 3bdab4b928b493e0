"""The sandbox's protocol: auth, limits, paging rules, filters, errors, CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from connectors.maintainx.sandbox import DEFAULT_API_KEY, start_sandbox

pytestmark = pytest.mark.integration
AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}


@pytest.fixture(scope="module")
def sb():
    url, handle = start_sandbox(size=500, rate_limit=1000)
    yield url, handle
    handle.stop()


def get(url: str, path: str, headers=AUTH, **params):
    return requests.get(f"{url}/v1{path}", params=params, headers=headers, timeout=5)


def test_every_response_has_rate_limit_headers_and_bearer_is_required(sb):
    url, _ = sb
    for r in (get(url, "/assets"), get(url, "/assets", headers={}), get(url, "/nope")):
        assert {"X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"} <= set(r.headers)  # fmt: skip
    assert get(url, "/assets", headers={}).status_code == 401
    assert get(url, "/assets", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert get(url, "/assets", headers={"Authorization": DEFAULT_API_KEY}).status_code == 401


def test_paging_rules(sb):
    url, _ = sb
    for bad in (0, 201, "ten"):
        r = get(url, "/workorders", limit=bad)
        assert r.status_code == 400 and "limit" in r.json()["errors"][0]["error"]
    r = get(url, "/workorders", limit=200).json()
    assert len(r["workOrders"]) == 200 and r["nextCursor"] and r["nextPageUrl"].startswith("/v1/workorders?")  # fmt: skip
    assert get(url, "/workorders", cursor="!!bad").status_code == 400
    assert get(url, "/workorders", sort="title").status_code == 400
    assert get(url, "/workorders").json()["workOrders"].__len__() == 100  # default limit


def test_filters_only_where_the_spec_has_them(sb):
    url, _ = sb
    r = get(url, "/locations", **{"updatedAt[gte]": "2024-01-01T00:00:00.000Z"})
    assert r.status_code == 400 and "updatedAt[gte]" in r.text
    assert get(url, "/workorders", **{"updatedAt[gte]": "yesterday"}).status_code == 400
    page = get(url, "/assets", sort="-updatedAt", limit=50, **{"updatedAt[lte]": "2024-06-30T00:00:00.000Z"}).json()["assets"]  # fmt: skip
    stamps = [a["updatedAt"] for a in page]
    assert stamps == sorted(stamps, reverse=True) and all(
        s <= "2024-06-30T00:00:00.000Z" for s in stamps
    )


def test_expand_reveals_fields_and_details_and_404(sb):
    url, handle = sb
    plain = get(url, "/assets", limit=1).json()["assets"][0]
    full = get(url, "/assets", limit=1, expand=["status", "manufacturer"]).json()["assets"][0]
    assert "status" not in plain and full["status"]["status"] in ("ONLINE", "OFFLINE", "IGNORE")
    assert get(url, "/assets", expand="nonsense").status_code == 400
    po = get(url, "/purchaseorders", limit=1).json()["purchaseOrders"][0]
    assert set(po) == {"id", "status", "updatedAt", "createdAt"}
    detail = get(url, f"/purchaseorders/{po['id']}").json()["purchaseOrder"]
    assert detail["items"] and detail["id"] == po["id"]
    assert get(url, "/purchaseorders/1").status_code == 404


def test_fields_only_the_detail_read_shows(sb):
    """A part's assetIds and a work order's attachments are in GET <path>/<id> only, as in
    MaintainX's OpenAPI (the list schemas lack them)."""
    url, handle = sb
    parts = get(url, "/parts", limit=200, expand=["vendors", "extra_fields"]).json()["parts"]
    assert parts and not any("assetIds" in p for p in parts)
    linked = [p for p in parts if handle.record("/parts", p["id"])["assetIds"]]
    one = get(url, f"/parts/{linked[0]['id']}").json()["part"]
    assert one["assetIds"] == handle.record("/parts", one["id"])["assetIds"]
    orders = get(url, "/workorders", limit=200, expand="parts").json()["workOrders"]
    assert not any("attachments" in w for w in orders)
    assert any(w["parts"] for w in orders)
    with_files = next(w for w in orders if handle.record("/workorders", w["id"])["attachments"])
    files = get(url, f"/workorders/{with_files['id']}").json()["workOrder"]["attachments"]
    assert files and all(f["url"].startswith("https://") for f in files)


def test_only_assignable_users_and_the_new_collections(sb):
    url, handle = sb
    everyone = get(url, "/users", limit=200, expand="role").json()["users"]
    assignable = get(url, "/users", limit=200, onlyAssignable="true", expand="role").json()
    roles = {u["role"] for u in assignable["users"]}
    assert "REQUESTER" in {u["role"] for u in everyone} and "REQUESTER" not in roles
    assert len(assignable["users"]) == sum(u["role"] != "REQUESTER" for u in everyone)
    assert get(url, "/users", onlyAssignable="maybe").status_code == 400
    assert get(url, "/workorders", onlyAssignable="true").status_code == 400  # /users only
    # work requests: no updatedAt filter; expand=work_order embeds the work order
    wrs = get(url, "/workrequests", limit=200, expand="work_order").json()["workRequests"]
    done = [w for w in wrs if w["workOrderId"]]
    assert done and all(w["workOrder"]["id"] == w["workOrderId"] for w in done)
    assert (
        get(url, "/workrequests", **{"updatedAt[gte]": "2024-01-01T00:00:00Z"}).status_code == 400
    )
    # asset statuses are listed, never read one by one (no GET /assetstatuses/{id})
    st = get(url, "/assetstatuses", limit=5, sort="-updatedAt").json()["assetStatuses"]
    assert len(st) == 5 and get(url, f"/assetstatuses/{st[0]['id']}").status_code == 404
    model = get(url, "/models", limit=1).json()["models"][0]
    one = get(url, f"/models/{model['id']}").json()["model"]
    assert one == {k: v for k, v in model.items() if k != "organizationId"}  # as the OpenAPI
    makers = get(url, "/manufacturers").json()
    assert makers["nextCursor"] is None and len(makers["manufacturers"]) == 4


def test_rate_limit_exhaustion_is_429_until_reset():
    url, handle = start_sandbox(size=50, rate_limit=2, rate_window=30)
    try:
        first, second, third = (get(url, "/vendors") for _ in range(3))
        assert [r.status_code for r in (first, second, third)] == [200, 200, 429]
        assert second.headers["X-Rate-Limit-Remaining"] == "0"
        assert 0 < int(third.headers["X-Rate-Limit-Reset"]) <= 30
    finally:
        handle.stop()


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="fail_500"):
        start_sandbox(fail_500=2)
    with pytest.raises(ValueError, match="rate_limit"):
        start_sandbox(rate_limit=0)


def test_data_file_replaces_generated_records(tmp_path):
    f = tmp_path / "data.json"
    f.write_text('{"vendors": [{"id": 77, "name": "Only vendor"}]}')
    url, handle = start_sandbox(size=50, data=f)
    try:
        assert get(url, "/vendors").json()["vendors"] == [{"id": 77, "name": "Only vendor"}]
        assert get(url, "/vendors/77").json()["vendor"]["name"] == "Only vendor"
    finally:
        handle.stop()
    f.write_text('{"widgets": []}')
    with pytest.raises(ValueError, match="widgets"):
        start_sandbox(data=f)


def test_cli_starts_and_stops():
    proc = subprocess.Popen(
        [sys.executable, "-m", "connectors.maintainx.sandbox", "--port", "0", "--size", "20"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        assert "MaintainX sandbox on http://127.0.0.1:" in line
        base = line.split(" on ")[1].split("/v1")[0]
        assert get(base, "/teams").json()["teams"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0
