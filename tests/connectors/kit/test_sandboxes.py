"""The kit's sandbox parts in Maximo's and MaintainX's sandboxes: the control endpoint changes,
adds and hard-deletes records while they run; the same flags start every sandbox."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from connectors.base import Window
from connectors.maintainx.sandbox import DEFAULT_API_KEY as MX_KEY
from connectors.maintainx.sandbox import start_sandbox as start_maintainx
from connectors.maximo.sandbox import DEFAULT_API_KEY as MAXIMO_KEY
from connectors.maximo.sandbox import start_sandbox as start_maximo
from tests.connectors.maintainx.helpers import connector as maintainx
from tests.connectors.maximo.conftest import connector as maximo

REPO = Path(__file__).resolve().parents[3]


def control(url: str, method: str, path: str, key: str, body: dict | None = None):
    return requests.request(method, f"{url}/_sandbox/{path}", json=body,
                            headers={"X-Sandbox-Key": key}, timeout=10)  # fmt: skip


def test_maximo_control_endpoint():
    url, h = start_maximo(size=40)
    try:
        with maximo(url) as c:
            before = {(r["siteid"], r["wonum"]) for p in c.read_keys("work-orders") for r in p}
            site, wonum = sorted(before)[0]
            since = datetime.now(UTC) - timedelta(seconds=2)
            r = control(url, "PATCH", "records/work-orders", MAXIMO_KEY,
                        {"key": [site, wonum], "set": {"description": "Changed"}})  # fmt: skip
            assert r.status_code == 200, r.text
            r = control(url, "POST", "records/work-orders", MAXIMO_KEY,
                        {"record": {"siteid": "NASHUA", "wonum": "NEW1", "description": "Added"}})  # fmt: skip
            assert r.status_code == 201, r.text
            victim = sorted(before)[1]
            assert control(url, "DELETE", "records/work-orders", MAXIMO_KEY,
                           {"key": list(victim)}).status_code == 204  # fmt: skip
            window = Window(since, datetime.now(UTC) + timedelta(seconds=2))
            changed = {r["wonum"]: r for p in c.read("work-orders", window) for r in p}
            after = {(r["siteid"], r["wonum"]) for p in c.read_keys("work-orders") for r in p}
        assert set(changed) == {wonum, "NEW1"} and changed[wonum]["description"] == "Changed"
        assert after == (before - {victim}) | {("NASHUA", "NEW1")}
        assert (
            control(
                url, "DELETE", "records/work-orders", "wrong", {"key": list(victim)}
            ).status_code
            == 401
        )
        missing = control(url, "DELETE", "records/work-orders", MAXIMO_KEY, {"key": list(victim)})
        assert missing.status_code == 404
        assert control(url, "PATCH", "records/gizmos", MAXIMO_KEY,
                       {"key": ["A"], "set": {"x": 1}}).status_code == 404  # fmt: skip
        assert (
            control(url, "PATCH", "records/work-orders", MAXIMO_KEY, {"key": ["A"]}).status_code
            == 400
        )
        r = control(url, "PUT", "faults", MAXIMO_KEY, {"fail_429": 1.0, "retry_after": 0})
        assert r.status_code == 200 and r.json()["rates"]["429"] == 1.0
        api = requests.get(
            f"{url}/maximo/api/os/mxapiasset", headers={"apikey": MAXIMO_KEY}, timeout=10
        )
        assert api.status_code == 429 and api.headers["Retry-After"] == "0"
        assert control(url, "PUT", "faults", MAXIMO_KEY, {"fail_429": 2}).status_code == 400
    finally:
        h.stop()


def test_maintainx_control_endpoint():
    url, h = start_maintainx(size=60)
    try:
        coll = h.world.collections["/workorders"]
        rid = coll.id_of(3)
        since = datetime.now(UTC) - timedelta(seconds=2)
        r = control(
            url,
            "PATCH",
            "records/work-orders",
            MX_KEY,
            {"key": [rid], "set": {"title": "Via control"}},
        )
        assert r.status_code == 200, r.text
        gone = coll.id_of(4)
        assert (
            control(url, "DELETE", "records/work-orders", MX_KEY, {"key": [gone]}).status_code
            == 204
        )
        r = control(url, "POST", "records/vendors", MX_KEY, {"record": {"name": "Control vendor"}})
        assert r.status_code == 201, r.text
        with maintainx(url) as c:
            window = Window(since, datetime.now(UTC) + timedelta(seconds=2))
            changed = [r for p in c.read("work-orders", window) for r in p]
            keys = {r["id"] for p in c.read_keys("work-orders") for r in p}
            vendors = [r["name"] for p in c.read("vendors", Window()) for r in p]
        assert [r["id"] for r in changed] == [rid] and changed[0]["title"] == "Via control"
        assert gone not in keys and "Control vendor" in vendors
        assert (
            control(
                url, "PATCH", "records/stocks", MX_KEY, {"key": [1], "set": {"a": 1}}
            ).status_code
            == 404
        )
    finally:
        h.stop()


@pytest.mark.parametrize(("system", "key_flag", "banner"), [
    ("maximo", "--apikey", "Maximo sandbox on"), ("maximo", "--api-key", "Maximo sandbox on"),
    ("maintainx", "--apikey", "MaintainX sandbox on"), ("maintainx", "--api-key", "MaintainX sandbox on"),
])  # fmt: skip
def test_the_same_flags_start_every_sandbox(system, key_flag, banner):
    args = [sys.executable, "-m", f"connectors.{system}.sandbox", "--port", "0", "--seed", "3",
            "--size", "20", key_flag, "k1", "--fail-429", "0", "--retry-after", "0", "--fail-500",
            "0", "--slow", "0", "--slow-seconds", "0.1", "--timeout", "0", "--timeout-seconds", "1",
            "--truncate", "0", "--change-rate", "0", "--data", "default"]  # fmt: skip
    proc = subprocess.Popen(
        args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()
        assert banner in line, proc.stderr.read() if proc.poll() is not None else line
        url = line.split(" on ")[1].split()[0].split("/maximo/")[0].removesuffix("/v1")
        r = control(url, "GET", "faults", "k1")
        assert r.status_code == 200 and r.json()["rates"]["timeout"] == 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("system", ["maximo", "maintainx"])
def test_rpc_errors_are_refused_by_rest_sandboxes(system):
    proc = subprocess.run([sys.executable, "-m", f"connectors.{system}.sandbox", "--port", "0",
                           "--rpc-error", "0.5"], cwd=REPO, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 2 and "--rpc-error is for RPC protocols" in proc.stderr


def test_generic_sandbox_command_line(tmp_path):
    (tmp_path / "sandbox_data").mkdir()
    (tmp_path / "sandbox_data" / "vendors.json").write_text('[{"id": 1, "name": "A"}]')
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(
        "system: toy\nauth: {kind: bearer}\npaginator: {kind: cursor, next: next}\nrecords: items\n"
        "entities: {vendors: {path: /vendors, key: [id]}}\n"
    )
    proc = subprocess.Popen([sys.executable, "-m", "connectors.kit.sandbox", str(manifest),
                             "--port", "0", "--api-key", "t"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        line = proc.stdout.readline()
        assert "toy sandbox on" in line, proc.stderr.read() if proc.poll() is not None else line
        url = line.split(" on ")[1].split()[0]
        body = requests.get(
            f"{url}/vendors", headers={"Authorization": "Bearer t"}, timeout=10
        ).json()
        assert body == {"items": [{"id": 1, "name": "A"}], "next": None}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_generic_sandbox_refuses_size(tmp_path):
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(
        "system: toy\nauth: {kind: bearer}\npaginator: {kind: cursor, next: next}\nrecords: items\n"
        "entities: {vendors: {path: /vendors, key: [id]}}\n"
    )
    proc = subprocess.run([sys.executable, "-m", "connectors.kit.sandbox", str(manifest),
                           "--port", "0", "--size", "50"], cwd=REPO, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert (
        proc.returncode == 2 and "--size: the generic sandbox generates no records" in proc.stderr
    )


def test_sap_control_endpoint():
    """SAP's sandbox serves the same control endpoint: a change stamps the record (the next
    incremental read has it), an add and a hard delete show in reads, faults change at runtime."""
    from connectors.sap_s4hana.sandbox import start as start_sap
    from tests.connectors.sap_s4hana.conftest import connector as sap

    url, h = start_sap(size=200, seed=3, password="sap-secret")
    try:
        orders = h.records("MaintenanceOrder")
        changed_no, gone_no = orders[5]["MaintenanceOrder"], orders[6]["MaintenanceOrder"]
        since = datetime.now(UTC) - timedelta(seconds=2)
        assert control(url, "PATCH", "records/work-orders", "wrong", {"key": [changed_no],
                       "set": {"MaintenanceOrderDesc": "x"}}).status_code == 401  # fmt: skip
        r = control(url, "PATCH", "records/work-orders", "sap-secret",
                    {"key": [changed_no], "set": {"MaintenanceOrderDesc": "Via control"}})  # fmt: skip
        assert r.status_code == 200, r.text
        r = control(url, "DELETE", "records/work-orders", "sap-secret", {"key": [gone_no]})
        assert r.status_code == 204, r.text
        r = control(url, "POST", "records/work-orders", "sap-secret",
                    {"record": {"MaintenanceOrder": "4999999", "MaintenanceOrderDesc": "Added"}})  # fmt: skip
        assert r.status_code == 201, r.text
        with sap(url, password="sap-secret") as c:
            window = Window(since, datetime.now(UTC) + timedelta(seconds=2))
            recent = {r["MaintenanceOrder"]: r for p in c.read("work-orders", window) for r in p}
            keys = {r["MaintenanceOrder"] for p in c.read_keys("work-orders") for r in p}
        assert recent[changed_no]["MaintenanceOrderDesc"] == "Via control"
        assert recent["4999999"]["MaintenanceOrderDesc"] == "Added"
        assert gone_no not in keys and "4999999" in keys
        bad = control(url, "PATCH", "records/work-orders", "sap-secret",
                      {"key": [changed_no], "set": {"NoSuchProperty": 1}})  # fmt: skip
        assert bad.status_code == 400 and "NoSuchProperty" in bad.json()["error"]
        assert control(url, "DELETE", "records/work-orders", "sap-secret",
                       {"key": [gone_no]}).status_code == 404  # fmt: skip
        assert control(url, "PATCH", "records/gizmos", "sap-secret",
                       {"key": ["1"], "set": {"a": 1}}).status_code == 404  # fmt: skip
        r = control(url, "PUT", "faults", "sap-secret", {"fail_500": 1.0})
        assert r.status_code == 200 and r.json()["rates"]["500"] == 1.0
        assert requests.get(f"{url}/sap/opu/odata/sap/API_MAINTENANCEORDER/MaintenanceOrder",
                            auth=("demo", "sap-secret"), timeout=10).status_code == 500  # fmt: skip
        assert control(url, "PUT", "faults", "sap-secret", {"timeout": 0.5}).status_code == 400
    finally:
        h.stop()
