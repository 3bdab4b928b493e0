"""``--data OS=FILE``: captured Maximo responses (and plain lists) served by the sandbox, then synced.

The files in ``data/`` are shaped like Maximo's lean JSON (``member``, ``href``, ``responseInfo``,
``_rowstamp`` strings, ``<attr>_description``, ``*_collectionref``, child rows with ``localref`` and
``http://childkey#`` hrefs) with made-up values.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
import sqlalchemy as sa

from connectors.base import SourceSettings
from connectors.maximo import CONNECTOR
from connectors.maximo.sandbox import DEFAULT_API_KEY, start_sandbox
from include.config import ConnectionConfig
from include.store import Store
from include.store import schema as store_schema
from include.sync import pipeline, streaming
from tests.connectors.maximo.conftest import NY

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[3]
DIGITS = re.compile(r"^\d+$")
ARGS = [f"--data=mxapiwodetail={DATA / 'mxapiwodetail.json'}",
        f"--data=MXAPIASSET={DATA / 'mxapiasset.json'}", f"--data=mxapipo={DATA / 'mxapipo.json'}"]  # fmt: skip


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """The sandbox as a process, started with the captured files through ``--data``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "connectors.maximo.sandbox", "--port", "0", *ARGS],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        assert "Maximo sandbox on" in line, proc.stderr.read() if proc.poll() is not None else line
        yield line.split(" on ")[1].split("/maximo/")[0]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def get(url: str, os: str, **params: str) -> list[dict]:
    resp = requests.get(f"{url}/maximo/api/os/{os}", params={"lean": "1", **params},
                        headers={"apikey": DEFAULT_API_KEY}, timeout=10)  # fmt: skip
    assert resp.status_code == 200, resp.text
    return resp.json()["member"]


def captured(name: str) -> list[dict]:
    content = json.loads((DATA / name).read_text())
    return content["member"] if isinstance(content, dict) else content


def test_captured_records_are_served_with_their_rowstamps(served):
    wos = get(served, "mxapiwodetail", **{"oslc.select": "*,wplabor{*}"})
    file = {w["wonum"]: w for w in captured("mxapiwodetail.json")}
    assert sorted(w["wonum"] for w in wos) == sorted(file)
    for wo in wos:
        src = file[wo["wonum"]]
        assert wo["_rowstamp"] == src["_rowstamp"]  # kept, a string of digits
        assert wo["changedate"] == src["changedate"] and wo["status"] == src["status"]
        assert wo["status_description"] == src["status_description"]
        assert wo["href"].startswith(f"{served}/maximo/api/os/mxapiwodetail/_")
        assert not any(k.endswith("_collectionref") or k == "doclinks" for k in wo)
    (labor,) = next(w for w in wos if w["wonum"] == "100234")["wplabor"]
    assert labor["_rowstamp"] == "84512911" and labor["craft"] == "MECH"
    assets = get(served, "mxapiasset", **{"oslc.select": "*"})
    stamps = [a["_rowstamp"] for a in assets]  # the plain list has none: generated
    assert len(stamps) == 2 and all(isinstance(s, str) and DIGITS.match(s) for s in stamps)
    assert min(int(s) for s in stamps) > 84513377  # above every kept rowstamp
    assert get(served, "mxapiperson", **{"oslc.select": "*"}) == []  # not named: empty


def _sync(store: Store, url: str, entity: str, tmp: Path) -> dict:
    cfg = ConnectionConfig(id="mx-captured", customer="acme", system="maximo",
                           airflow_conn_id="unused", entities=[entity], page_size=2)  # fmt: skip
    settings = SourceSettings(connection_id=cfg.id, host=url,
                              credentials={"apikey": DEFAULT_API_KEY}, timezone=NY, page_size=2,
                              options={"retry_base_delay": 0.001})  # fmt: skip
    window = pipeline.plan_window(store, cfg, entity, incremental=True, run_type="manual",
                                  interval_start=None, interval_end=None)  # fmt: skip
    with CONNECTOR(settings) as src:
        return streaming.sync_entity(src, cfg, entity, window, tmp / entity, store, "run1",
                                     incremental=True, path_factory=Path)  # fmt: skip


def _stored(store: Store, entity: str) -> dict[str, dict[str, Any]]:
    r = store_schema.records
    stmt = sa.select(r.c.key, r.c.data).where(r.c.connection_id == "mx-captured",
                                              r.c.entity == entity)  # fmt: skip
    with store.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return {k: orjson.loads(d) if isinstance(d, str | bytes) else d for k, d in rows}


def test_captured_files_sync_into_the_store(served, tmp_path: Path):
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    try:
        for entity in ("work-orders", "assets", "purchase-orders"):
            _sync(store, served, entity, tmp_path)
        wos = _stored(store, "work-orders")
        assert sorted(wos) == ["BEDFORD:100234", "BEDFORD:100235", "NASHUA:100236"]
        wo = wos["BEDFORD:100234"]
        assert (wo["title"], wo["status"], wo["assetKey"], wo["parentKey"]) == (
            "Replace mechanical seal on cooling water pump", "INPRG", "BEDFORD:11430",
            "BEDFORD:100200")  # fmt: skip
        assert wo["scheduledAt"].startswith("2024-03-04T13:00:00")  # 08:00 -05:00 in UTC
        assert wos["BEDFORD:100235"]["completedAt"].startswith("2024-03-05T13:55:00")
        assert wos["BEDFORD:100235"]["pmKey"] == "BEDFORD:PM1020"
        assets = _stored(store, "assets")
        assert {k: (a["name"], a["isActive"]) for k, a in assets.items()} == {
            "BEDFORD:11430": ("Cooling water pump 50 HP", True),
            "BEDFORD:11450": ("Conveyor line 2 drive", True)}  # fmt: skip
        (po,) = _stored(store, "purchase-orders").values()
        assert (po["orderNo"], po["vendorKey"], po["totalGrossValue"]) == (
            "10072", "EAGLENA:SKF", 1400.48)  # fmt: skip
        lines = _stored(store, "purchase-orders.line-items")
        assert {k: (v["code"], v["quantity"], v["price"]) for k, v in lines.items()} == {
            "BEDFORD:10072:1": ("SEAL-150", 2.0, 480.0),
            "BEDFORD:10072:2": ("BRG-6205", 10.0, 35.5)}  # fmt: skip
    finally:
        store.close()


def test_rowstamps_increase_on_change(sandbox):
    _, handle = sandbox(data=[f"mxapiwodetail={DATA / 'mxapiwodetail.json'}",
                              f"mxapiasset={DATA / 'mxapiasset.json'}"])  # fmt: skip
    kept = handle.record("MXAPIWODETAIL", ("BEDFORD", "100234"))["_rowstamp"]
    changed = handle.mutate("MXAPIWODETAIL", ("BEDFORD", "100234"), status="COMP")
    assert int(changed["_rowstamp"]) > 84513377 > int(kept)
    url = handle.url
    (wo,) = [w for w in get(url, "mxapiwodetail", **{"oslc.select": "*"}) if w["wonum"] == "100234"]
    assert wo["status"] == "COMP" and wo["status_description"] == "Completed"  # not the stale one
    asset = handle.mutate("MXAPIASSET", ("BEDFORD", "11430"), status="DECOMMISSIONED")
    assert int(asset["_rowstamp"]) > int(changed["_rowstamp"])


def test_old_single_file_form_still_works(sandbox, tmp_path: Path):
    old = tmp_path / "all.json"
    old.write_text(json.dumps({"mxapiasset": captured("mxapiasset.json"),
                               "MXAPIWODETAIL": json.loads((DATA / "mxapiwodetail.json").read_text())}))  # fmt: skip
    url, _ = sandbox(data=str(old))
    assert len(get(url, "mxapiasset", **{"oslc.select": "assetnum"})) == 2
    assert len(get(url, "mxapiwodetail", **{"oslc.select": "wonum"})) == 3


def test_namespaced_capture_is_read():
    from connectors.maximo.sandbox.datafile import members

    content = {"rdfs:member": [{"rdf:about": "https://mx.example.com/x/_QQ--", "spi:assetnum": "A1",
                                "spi:siteid": "S1", "_rowstamp": "77"}],
               "oslc:responseInfo": {"oslc:totalCount": 1}}  # fmt: skip
    assert members(content, "f.json") == [{"assetnum": "A1", "siteid": "S1", "_rowstamp": "77"}]


@pytest.mark.parametrize(
    "args, message",
    [
        (["nosuchos=X"], "unknown object structure NOSUCHOS"),
        (["mxapiasset=missing.json"], "cannot read it"),
        (["mxapiasset=bad_rowstamp.json"], "record 1: _rowstamp 'abc' is not a string of digits"),
        (["mxapiasset=no_key.json"], "record 1: lacks the key attribute(s) assetnum"),
        (["mxapiasset=twice.json"], "record 2: MXAPIASSET key ('S1', 'A1') repeats"),
        (["mxapiasset=object.json"], 'must be a captured response with "member"'),
        (["capture.json"], "name its object structure: --data mxapiwodetail="),
    ],
)
def test_bad_data_is_refused_naming_file_and_record(tmp_path: Path, args, message):
    files = {
        "bad_rowstamp.json": [{"assetnum": "A1", "siteid": "S1", "_rowstamp": "abc"}],
        "no_key.json": [{"siteid": "S1"}],
        "twice.json": [{"assetnum": "A1", "siteid": "S1"}, {"assetnum": "A1", "siteid": "S1"}],
        "object.json": {"assets": []},
        "capture.json": {"member": [], "responseInfo": {}},
    }
    for name, content in files.items():
        (tmp_path / name).write_text(json.dumps(content))
    args = [a.replace("=", f"={tmp_path}/", 1) if "=" in a else str(tmp_path / a) for a in args]
    with pytest.raises(ValueError, match=re.escape(message)):
        start_sandbox(data=args)


def test_cli_reports_bad_data_and_exits_2(tmp_path: Path):
    proc = subprocess.run(
        [sys.executable, "-m", "connectors.maximo.sandbox", "--port", "0",
         "--data", f"mxapiasset={tmp_path / 'missing.json'}"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and "missing.json: cannot read it" in proc.stderr
