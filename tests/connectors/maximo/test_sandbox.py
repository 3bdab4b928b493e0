"""The sandbox speaks Maximo's JSON API: auth, lean/namespaced JSON, select, where, orderBy, paging,
errors, stable paging, and records that change and vanish over time."""

from __future__ import annotations

import base64
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from connectors.maximo.sandbox import DEFAULT_API_KEY
from connectors.maximo.sandbox.data import T0, World

WO = "/maximo/api/os/mxapiwodetail"


def get(url: str, path: str = WO, key: str | None = DEFAULT_API_KEY, **params: str):
    headers = {"apikey": key} if key else {}
    return requests.get(url + path, params=params, headers=headers, timeout=10)


def all_pages(url: str, path: str = WO, **params: str) -> list[dict]:
    out, body = [], get(url, path, **params).json()
    while True:
        out += body["member"]
        nxt = body["responseInfo"].get("nextPage")
        if not nxt:
            return out
        body = requests.get(nxt["href"], headers={"apikey": DEFAULT_API_KEY}, timeout=10).json()


def test_401_without_or_with_wrong_key(shared):
    url, _ = shared
    for key in (None, "wrong"):
        r = get(url, key=key, lean="1")
        assert r.status_code == 401
        err = r.json()["Error"]
        assert err["statusCode"] == "401" and err["reasonCode"].startswith("BMXAA")
    assert get(url, key=None, apikey=DEFAULT_API_KEY, lean="1").status_code == 200
    assert get(url, "/maximo/oslc/os/mxapiasset", lean="1").status_code == 200


def test_unknown_object_structure_is_404(shared):
    r = get(shared[0], "/maximo/api/os/mxapinothing", lean="1")
    assert r.status_code == 404 and "MXAPINOTHING" in r.json()["Error"]["message"]


def test_without_select_members_carry_only_href_with_rest_id(shared):
    body = get(shared[0], lean="1", **{"oslc.pageSize": "2"}).json()
    first = body["member"][0]
    assert list(first) == ["href"]
    rid = first["href"].rsplit("/_", 1)[1].replace("-", "=")
    assert base64.urlsafe_b64decode(rid).decode() == "1000000/BEDFORD"  # wonum/siteid


def test_lean_and_namespaced_json(shared):
    url, _ = shared
    params = {"oslc.select": "wonum,status", "oslc.pageSize": "1"}
    lean = get(url, lean="1", **params).json()
    m = lean["member"][0]
    assert set(m) == {"href", "_rowstamp", "wonum", "status", "status_description"}
    full = get(url, **params).json()
    assert "rdfs:member" in full and "oslc:responseInfo" in full
    n = full["rdfs:member"][0]
    assert n["spi:wonum"] == m["wonum"] and n["rdf:about"] == m["href"]
    assert "rdf:resource" in full["oslc:responseInfo"]["oslc:nextPage"]


def test_select_child_and_dropnulls(shared):
    url, _ = shared
    body = get(url, "/maximo/api/os/mxapipo", lean="1",
               **{"oslc.select": "ponum,poline{polinenum,orderqty}", "oslc.pageSize": "3"}).json()  # fmt: skip
    for po in body["member"]:
        assert po["poline"] and all(
            set(li) == {"_rowstamp", "polinenum", "orderqty"} for li in po["poline"]
        )
    star = get(url, "/maximo/api/os/mxapipo", lean="1",
               **{"oslc.select": "*,poline{*}", "oslc.pageSize": "3"}).json()["member"]  # fmt: skip
    assert all(po["poline"] and po["changedate"].endswith(":00") for po in star)
    assert all(None not in po.values() and isinstance(po["_rowstamp"], str) for po in star)
    bare = get(url, "/maximo/api/os/mxapipo", lean="1", **{"oslc.select": "*"}).json()["member"]
    assert bare and not any("poline" in po for po in bare)
    sel = {"oslc.select": "wonum,actfinish", "oslc.where": 'status="WAPPR"', "oslc.pageSize": "1"}
    dropped = get(url, lean="1", **sel).json()["member"][0]
    assert "actfinish" not in dropped
    kept = get(url, lean="1", _dropnulls="0", **sel).json()["member"][0]
    assert kept["actfinish"] is None


def test_where_operators(shared):
    url, _ = shared
    sel = {"oslc.select": "wonum,siteid,status,wopriority,changedate", "oslc.pageSize": "1000"}
    rows = get(url, lean="1", **sel).json()["member"]
    assert len(rows) == 600

    def where(text: str) -> list[dict]:
        r = get(url, lean="1", **sel, **{"oslc.where": text})
        assert r.status_code == 200, r.text
        return r.json()["member"]

    assert where('status="APPR"') == [r for r in rows if r["status"] == "APPR"]
    assert where('status!="APPR" and siteid="TEXAS"') == [
        r for r in rows if r["status"] != "APPR" and r["siteid"] == "TEXAS"
    ]
    assert where('status in ["COMP","CLOSE"]') == [
        r for r in rows if r["status"] in ("COMP", "CLOSE")
    ]
    assert where("wopriority>=4") == [r for r in rows if r["wopriority"] >= 4]
    # the same instant written with two offsets selects the same rows
    assert where('changedate>="2024-06-01T00:00:00-04:00"') == where(
        'changedate>="2024-06-01T04:00:00+00:00"'
    )
    r = get(url, lean="1", **{"oslc.where": 'status="APPR" or x'})
    assert r.status_code == 400 and "oslc.where" in r.json()["Error"]["message"]
    r = get(url, lean="1", **{"oslc.where": 'stauts="APPR"'})  # a typo is an error, not 0 rows
    assert r.status_code == 400 and "STAUTS" in r.json()["Error"]["message"]


def test_order_by_and_unencoded_plus(shared):
    url, _ = shared
    sel = {"oslc.select": "wonum", "oslc.pageSize": "1000"}
    desc = get(url, lean="1", **sel, **{"oslc.orderBy": "-wonum"}).json()["member"]
    nums = [m["wonum"] for m in desc]
    assert nums == sorted(nums, reverse=True) and len(nums) == 600
    # "+changedate" sent unencoded arrives as " changedate": a clear 400, not a silent default
    r = requests.get(f"{url}{WO}?lean=1&oslc.orderBy=+changedate",
                     headers={"apikey": DEFAULT_API_KEY}, timeout=10)  # fmt: skip
    assert r.status_code == 400 and "%2B" in r.json()["Error"]["message"]


def test_page_size_above_maximum_is_an_error_not_a_cap(sandbox):
    url, _ = sandbox(size=50, max_page_size=20)
    r = get(url, lean="1", **{"oslc.pageSize": "21"})
    assert r.status_code == 400
    err = r.json()["Error"]
    assert err["statusCode"] == "400" and "21" in err["message"] and "20" in err["message"]
    assert get(url, lean="1", **{"oslc.pageSize": "20"}).status_code == 200


def test_paging_pagenum_total_and_last_page(shared):
    url, _ = shared
    p = {"oslc.select": "wonum", "oslc.pageSize": "250", "collectioncount": "1"}
    first = get(url, lean="1", **p).json()["responseInfo"]
    assert first["pagenum"] == 1 and first["totalCount"] == 600 and first["totalPages"] == 3
    last = get(url, lean="1", pageno="3", **p).json()
    assert last["responseInfo"]["pagenum"] == 3 and "nextPage" not in last["responseInfo"]
    assert len(last["member"]) == 100
    assert len(all_pages(url, lean="1", **p)) == 600
    assert get(url, lean="1", count="1").json() == {"totalCount": 600}


def test_dates_carry_the_zone_offset_and_share_seconds(shared):
    url, _ = shared
    rows = get(url, lean="1", **{"oslc.select": "changedate", "oslc.pageSize": "12"}).json()[
        "member"
    ]
    assert rows[0]["changedate"] == "2023-12-31T19:00:00-05:00"  # T0 in New York
    assert len({r["changedate"] for r in rows}) == 2  # six records share each changedate


def test_naive_times(sandbox):
    url, _ = sandbox(size=12, naive_times=True)
    rows = get(url, lean="1", **{"oslc.select": "changedate", "oslc.pageSize": "1"}).json()[
        "member"
    ]
    assert rows[0]["changedate"] == "2023-12-31T19:00:00"


def test_mutate_delete_add_and_rowstamp(sandbox):
    url, h = sandbox(size=60)
    before = get(url, lean="1", **{"oslc.select": "*", "oslc.where": 'wonum="1000001"'}).json()
    old = before["member"][0]
    h.mutate("MXAPIWODETAIL", ("BEDFORD", "1000001"), status="CAN")
    h.delete("MXAPIWODETAIL", ("NASHUA", "1000002"))
    h.add(
        "MXAPIWODETAIL", {"wonum": "NEW1", "siteid": "TEXAS", "status": "WAPPR", "orgid": "EAGLENA"}
    )
    order = {"oslc.orderBy": "+changedate,+siteid,+wonum"}  # requests encodes + as %2B
    rows = all_pages(
        url, lean="1", **order, **{"oslc.select": "wonum,status,changedate", "oslc.pageSize": "7"}
    )
    by = {r["wonum"]: r for r in rows}
    assert len(rows) == 60 and "1000002" not in by and by["NEW1"]["status"] == "WAPPR"
    changed = by["1000001"]
    assert changed["status"] == "CAN" and changed["changedate"] > old["changedate"]
    assert rows[-2:] == [by["1000001"], by["NEW1"]]  # changed now: last in changedate order
    after = get(url, lean="1", **{"oslc.select": "*", "oslc.where": 'wonum="1000001"'}).json()
    assert int(after["member"][0]["_rowstamp"]) > int(old["_rowstamp"])


def test_stable_paging_is_a_snapshot_walked_forward(sandbox):
    url, h = sandbox(size=60)
    p = {"oslc.select": "wonum", "oslc.pageSize": "20", "stablepaging": "1", "lean": "1"}
    first = get(url, **p).json()
    nxt = first["responseInfo"]["nextPage"]["href"]
    assert "stableId=" in nxt
    h.delete("MXAPIWODETAIL", ("BEDFORD", "1000030"))  # on page 2 of the frozen set
    hdr = {"apikey": DEFAULT_API_KEY}
    second = requests.get(nxt, headers=hdr, timeout=10).json()
    assert "1000030" in [m["wonum"] for m in second["member"]]
    again = requests.get(nxt, headers=hdr, timeout=10).json()  # a retry of the current page
    assert again["member"] == second["member"]
    third = requests.get(second["responseInfo"]["nextPage"]["href"], headers=hdr, timeout=10)
    assert "nextPage" not in third.json()["responseInfo"]
    expired = requests.get(nxt, headers=hdr, timeout=10)  # going back is not possible
    assert expired.status_code == 400
    fresh = all_pages(url, WO, **{k: v for k, v in p.items() if k != "stablepaging"})
    assert "1000030" not in [m["wonum"] for m in fresh]


def test_faults_429_with_retry_after_500_and_truncation(sandbox):
    url, _ = sandbox(size=10, fail_429=1.0, retry_after=7)
    r = get(url, lean="1")
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    url, _ = sandbox(size=10, fail_500=1.0)
    r = get(url, lean="1")
    assert r.status_code == 500 and r.json()["Error"]["statusCode"] == "500"
    url, _ = sandbox(size=10, slow=1.0, slow_seconds=0.3)
    began = time.perf_counter()
    assert get(url, lean="1").status_code == 200 and time.perf_counter() - began >= 0.3
    url, _ = sandbox(size=10, truncate=1.0)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(url, lean="1", **{"oslc.select": "*"})


def test_data_file_is_served_instead_of_generated(sandbox, tmp_path: Path):
    data = tmp_path / "mx.json"
    data.write_text('{"MXAPIASSET": [{"assetnum": "A1", "siteid": "S1", '
                    '"changedate": "2024-05-01T10:00:00-04:00", "status": "OPERATING"}]}')  # fmt: skip
    url, _ = sandbox(data=str(data))
    rows = get(url, "/maximo/api/os/mxapiasset", lean="1", **{"oslc.select": "*"}).json()["member"]
    assert [(r["assetnum"], r["changedate"]) for r in rows] == [("A1", "2024-05-01T10:00:00-04:00")]
    assert get(url, lean="1", **{"oslc.select": "*"}).json()["member"] == []


def test_generated_records_are_deterministic_and_lazy():
    a, b = World(3, 1_000_000), World(3, 1_000_000)
    wo = a.structures["MXAPIWODETAIL"]
    assert wo.build(999_999) == b.structures["MXAPIWODETAIL"].build(999_999)
    times = [wo.time_of(i) for i in range(0, 1_000_000, 997)]
    assert times == sorted(times) and times[0] == T0
    assert wo.first_at_or_after(wo.time_of(600)) == 600


def test_attribute_names_exist_in_the_data_dictionary():
    """Every persistent attribute the sandbox serves is a real Maximo 7.x attribute."""
    root = Path(os.environ.get("MILLWRIGHT_REFERENCE_DIR",
                               Path(__file__).resolve().parents[3] / ".." / "shared" / "reference"))  # fmt: skip
    path = root / "maximo" / "data-dictionary-7x.txt"
    if not path.exists():
        pytest.skip(f"Maximo data dictionary not found at {path} (set MILLWRIGHT_REFERENCE_DIR)")
    tables: dict[str, set[str]] = {}
    current = ""
    for line in path.read_text().splitlines():
        if line.startswith("== "):
            current = line[3:].strip()
        elif current and line.strip():
            words = line.split()
            tables.setdefault(current, set()).update(
                w.rstrip("*") for w in words if not w.isdigit()
            )
    # non-persistent attributes of the object structures (INVENTORY.avgcost: from INVCOST)
    nonpersistent = {"curbaltotal", "avgcost", "primaryemail", "_rowstamp"}
    w = World(1, 600)
    pairs = {"MXAPIWODETAIL": "WORKORDER", "MXAPIASSET": "ASSET", "MXAPIOPERLOC": "LOCATIONS",
             "MXAPIPM": "PM", "MXAPIINVENTORY": "INVENTORY", "MXAPIITEM": "ITEM", "MXAPIPO": "PO",
             "MXAPICOMPANY": "COMPANIES", "MXAPIPERSON": "PERSON"}  # fmt: skip
    for os_name, table in pairs.items():
        os_ = w.structures[os_name]
        rec = os_.build(1)  # type: ignore[misc]
        unknown = set(rec) - tables[table] - nonpersistent - set(os_.children)
        assert not unknown, f"{os_name}: {sorted(unknown)} not in {table}"
    line = w.structures["MXAPIPO"].build(1)["poline"][0]  # type: ignore[misc]
    assert not set(line) - tables["POLINE"] - nonpersistent


def test_change_rate_moves_records_forward(sandbox):
    start = datetime.now(UTC).replace(microsecond=0)
    url, _ = sandbox(size=200, change_rate=50)
    time.sleep(0.5)
    where = {"oslc.where": f'changedate>="{start.isoformat()}"', "oslc.select": "wonum"}
    assert get(url, lean="1", **where).json()["member"], "no work order changed by the churn"


def test_changes_reach_every_kind_of_key(sandbox):
    url, h = sandbox(size=60)
    h.mutate("MXAPICOMPANY", ("EAGLENA", "V100003"), name="Renamed Supply")
    h.delete("MXAPIINVENTORY", ("BEDFORD", "500000", "SPARES"))
    with pytest.raises(KeyError, match="no record"):
        h.mutate("MXAPIASSET", ("BEDFORD", "999999"), status="X")
    vendor = get(url, "/maximo/api/os/mxapicompany", lean="1",
                 **{"oslc.select": "name", "oslc.where": 'company="V100003"'}).json()["member"]  # fmt: skip
    assert [v["name"] for v in vendor] == ["Renamed Supply"]
    stock = get(url, "/maximo/api/os/mxapiinventory", lean="1", **{"oslc.select": "location",
                "oslc.where": 'itemnum="500000" and siteid="BEDFORD"'}).json()["member"]  # fmt: skip
    assert [s["location"] for s in stock] == ["CENTRAL"]


def test_command_line_sandbox(tmp_path: Path):
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "connectors.maximo.sandbox", "--port", str(port), "--size", "30",
           "--apikey", "k1", "--timezone", "Europe/Berlin", "--max-page-size", "10"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[3])  # fmt: skip
    try:
        assert proc.stdout is not None and "Maximo sandbox" in proc.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        assert get(url, key="k1", lean="1", **{"oslc.pageSize": "11"}).status_code == 400
        rows = get(url, key="k1", lean="1", **{"oslc.select": "changedate"}).json()
        assert rows["member"][0]["changedate"] == "2024-01-01T01:00:00+01:00"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
