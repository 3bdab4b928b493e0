"""Business users: OData V4 service BusinessUser (service group aps_iam_api_buser_read, srvd_a2x,
0001; set BusinessUsers) -> Makini users, read incrementally on LastChangedDateTime
(Edm.DateTimeOffset, unquoted UTC literals in V4 ``$filter``). And the cell SAP leaves `not_yet`
(units of measure) with its reason."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
import requests
from lxml import etree

from connectors.base import Window
from connectors.sap_s4hana.client import SapS4HanaConnector
from connectors.sap_s4hana.mapping import ENTITIES
from connectors.sap_s4hana.sandbox import start
from connectors.sap_s4hana.sandbox.odata4 import BUSINESS_USER
from include.config import coverage
from include.mapping import CompiledMapping

from .conftest import settings

USERS = BUSINESS_USER.service
AUTH = ("demo", "demo")


@pytest.fixture(scope="module")
def sap():
    url, handle = start(size=1500, seed=7, server_page_size=10)
    try:
        yield url, handle, SapS4HanaConnector(settings(url))
    finally:
        handle.stop()


def _all(pages) -> list[dict]:
    return [r for page in pages for r in page]


def _mapped(rows: list[dict]) -> dict[str, dict]:
    m = CompiledMapping(ENTITIES["users"].mapping, UTC)
    return {d["key"]: defaultdict(lambda: None, d) for d in (m(r).data for r in rows)}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_v4_wire_form_metadata_and_filter_literals(sap):
    url, handle, _ = sap
    root = f"{url}/sap/opu/odata4/sap/{USERS}/"
    body = requests.get(root + "BusinessUsers?$count=true", auth=AUTH).json()
    served = handle.dataset.v4[USERS]
    assert body["@odata.count"] == len(served) > 10 and len(body["value"]) == 10
    assert body["@odata.nextLink"].startswith("BusinessUsers?")
    user = body["value"][0]
    assert user["UserID"].startswith("CB") and len(user["UserID"]) == 12
    assert isinstance(user["LockStatus"], bool) and user["LastChangedDateTime"].endswith("Z")
    meta = etree.fromstring(requests.get(root + "$metadata", auth=AUTH).content)
    types = {p.get("Name"): p.get("Type") for p in meta.iter("{*}Property")}
    assert types["LastChangedDateTime"] == "Edm.DateTimeOffset"
    assert types["ValidToDate"] == "Edm.Date" and types["LockStatus"] == "Edm.Boolean"
    assert [k.get("Name") for k in meta.iter("{*}PropertyRef")] == ["UserID"]
    # V4 literals: a DateTimeOffset is unquoted; the V2 form is refused like SAP's V4 runtime
    cut = sorted(u["LastChangedDateTime"] for u in served)[len(served) // 2]
    ok = requests.get(root + f"BusinessUsers?$filter=LastChangedDateTime ge {cut}&$count=true",
                      auth=AUTH)  # fmt: skip
    later = {u["UserID"] for u in served if _at(u["LastChangedDateTime"]) >= _at(cut)}
    assert ok.status_code == 200 and ok.json()["@odata.count"] == len(later) < len(served)
    assert {u["UserID"] for u in ok.json()["value"]} <= later
    bad = requests.get(root + f"BusinessUsers?$filter=LastChangedDateTime ge datetimeoffset'{cut}'",
                       auth=AUTH)  # fmt: skip
    assert bad.status_code == 400 and "LastChangedDateTime" in bad.json()["error"]["message"]


def test_users_field_by_field(sap):
    _, handle, c = sap
    served = handle.dataset.v4[USERS]
    rows = _all(c.read("users", Window()))
    users = _mapped(rows)
    assert set(users) == {u["UserID"] for u in served} and len(rows) == len(served)
    for src in served:
        u = users[src["UserID"]]
        assert u["name"] == src["Description"] == f"{src['FirstName']} {src['LastName']}"
        assert u["email"] == (src["EMailAddress"] or None)
        assert u["isActive"] is (src["Validity"] and not src["LockStatus"])
        assert u["createdAt"] == src["CreationDateTime"]
        assert u["updatedAt"] == src["LastChangedDateTime"]
    # the generated population has every case the mapping distinguishes
    assert any(s["LockStatus"] and s["Validity"] for s in served)  # locked -> inactive
    assert any(not s["Validity"] and not s["LockStatus"] for s in served)  # expired -> inactive
    assert any(users[s["UserID"]]["isActive"] for s in served)
    assert any(users[s["UserID"]]["email"] is None for s in served)
    assert {f.name for f in c.describe("users")} == set(BUSINESS_USER.types)
    assert [set(r) for r in _all(c.read_keys("users"))] == [{"UserID"}] * len(served)


def test_users_read_incrementally_on_last_changed(sap):
    _, handle, c = sap
    served = handle.dataset.v4[USERS]
    times = sorted({_at(u["LastChangedDateTime"]) for u in served})
    at = [_at(u["LastChangedDateTime"]) for u in served]
    # a cut through a pair of users sharing one second: both fall on the later side
    cut = next(t for t in times[len(times) // 2 :] if at.count(t) == 2)
    first = _all(c.read("users", Window(None, cut)))
    second = _all(c.read("users", Window(cut, None)))
    ids = lambda rows: [r["UserID"] for r in rows]  # noqa: E731
    assert set(ids(first)) == {u["UserID"] for u in served if _at(u["LastChangedDateTime"]) < cut}
    assert set(ids(second)) == {u["UserID"] for u in served if _at(u["LastChangedDateTime"]) >= cut}
    assert sum(1 for u in served if _at(u["LastChangedDateTime"]) == cut) == 2
    assert len(ids(first)) + len(ids(second)) == len(served) and not set(ids(first)) & set(
        ids(second)
    )
    # rows come in change-time order (the sync's resume point depends on it)
    assert [r["LastChangedDateTime"] for r in second] == sorted(
        r["LastChangedDateTime"] for r in second
    )
    # a user locked later moves into the next window and reads inactive
    now = times[-1] + timedelta(hours=5)
    victim = next(u for u in served if _at(u["LastChangedDateTime"]) < cut and not u["LockStatus"])
    with handle.dataset.lock:
        victim["LockStatus"] = True
        victim["LastChangedDateTime"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    nxt = _all(c.read("users", Window(times[-1] + timedelta(seconds=1), None)))
    assert ids(nxt) == [victim["UserID"]]
    user = _mapped(nxt)[victim["UserID"]]
    assert user["isActive"] is False and user["updatedAt"] == victim["LastChangedDateTime"]
    assert victim["UserID"] not in ids(_all(c.read("users", Window(None, cut))))


def test_sap_coverage_users_mapped_uom_not_yet_with_reason():
    cells = {c["resource"]: c for c in coverage.system_coverage("sap_s4hana")}
    assert cells["users"]["coverage"] == "mapped"
    assert cells["uom"]["coverage"] == "not_yet"
    assert "I_UnitOfMeasure" in cells["uom"]["reason"]
    assert [r for r, c in cells.items() if c["coverage"] == "not_yet"] == ["uom"]
