"""Millwright's connection types in a real Airflow api-server (the provider entry point, no
test double): the UI's hook metadata lists each system's type with its own fields, Airflow's
``POST /api/v2/connections/test`` (the Test button) passes against each system's sandbox (the
real Tryton server for Tryton) and fails with the source's plain reason on a wrong secret; the
admin adapter tests a stored older ``http`` Connection with the system's hook; and in headless
Chromium the Add Connection form of Maximo shows Maximo's fields, saves, and its Test button
reports the source's answer. One api-server for the module (``[core] test_connection`` enabled,
as the demo does)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from include.cli import demo

pytestmark = [pytest.mark.airflow, pytest.mark.integration]

SECRET, WRONG = "hook-secret-1", "hook-wrong-2"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def sources() -> Iterator[dict[str, dict]]:
    """Each system's sandbox and the Connection fields that reach it with the right secret."""
    from connectors.maintainx.sandbox import start_sandbox as maintainx
    from connectors.maximo.sandbox import start_sandbox as maximo
    from connectors.sap_s4hana.sandbox import start as sap
    from connectors.tryton.server import start_tryton

    handles = []
    try:
        mx_url, h = maximo(size=20, apikey=SECRET)
        handles.append(h.stop)
        mnx_url, h = maintainx(size=20, api_key=SECRET)
        handles.append(h.stop)
        sap_url, h = sap(size=20, user="comm", password=SECRET)
        handles.append(h.stop)
        cache = Path(os.environ.get("MILLWRIGHT_TRYTON_CACHE",
                                    Path.home() / ".cache" / "millwright" / "tryton"))  # fmt: skip
        parts = int(os.environ.get("MILLWRIGHT_TRYTON_TEST_PARTS", "1000"))
        tryton = start_tryton(cache, f"hooks_{os.getpid()}", parts=parts, fresh=True)
        handles.append(lambda: tryton.stop(drop=True))
        yield {
            "maximo": {"host": mx_url, "password": SECRET},
            "maintainx": {"host": mnx_url, "password": SECRET},
            "sap_s4hana": {"host": sap_url, "login": "comm", "password": SECRET},
            "tryton": {
                "host": tryton.url,
                "login": tryton.user,
                "password": tryton.password,
                "schema": tryton.db,
            },  # fmt: skip
        }
    finally:
        for stop in reversed(handles):
            stop()


@contextlib.contextmanager
def running_api_server(tmp: Path, **overrides: str) -> Iterator[tuple[demo.Api, dict]]:
    """``airflow api-server`` alone, with the demo's environment plus ``overrides``."""
    home = tmp / "airflow"
    port = demo.free_port()
    env = {**demo.airflow_env(port, home, tmp / "mw"), **overrides}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    demo.airflow(env, "db", "migrate")
    base = f"http://localhost:{port}"

    def ready(proc: subprocess.Popen) -> None:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, (tmp / "api-server.log").read_text()[-3000:]
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base}/api/v2/version", timeout=5).status_code == 200:
                    return
            assert time.monotonic() < deadline, "the api-server did not answer within 180 s"
            time.sleep(1)

    args = ["api-server", "--port", str(port)]
    with demo.airflow_process(env, tmp / "api-server.log", args, ready):
        yield demo.Api(base, home), env


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[demo.Api, dict]]:
    """The demo's environment: test_connection enabled."""
    with running_api_server(tmp_path_factory.mktemp("hooks")) as (api, env):
        assert env["AIRFLOW__CORE__TEST_CONNECTION"] == "Enabled"
        yield api, env


def test_hook_meta_lists_each_system_with_its_fields(api_server):
    api, _ = api_server
    r = api.session.get(f"{api.base}/ui/connections/hook_meta", timeout=60)
    assert r.status_code == 200, r.text
    meta = {m["connection_type"]: m for m in r.json()}
    from connectors.registry import systems

    for system in systems():
        assert f"millwright_{system}" in meta, f"{system}: not listed by hook_meta"
    mx = meta["millwright_maximo"]
    assert mx["hook_name"] == "IBM Maximo Manage (Millwright)"
    assert mx["hook_class_name"] == "include.airflow.hooks.MillwrightMaximoHook"
    std = mx["standard_fields"]
    assert std["host"] == {"hidden": False, "title": "Maximo URL",
                           "placeholder": "https://maximo.example.com"}  # fmt: skip
    assert (std["password"]["title"], std["login"]["hidden"]) == ("API key", True)
    assert mx["extra_fields"]["api_root"]["schema"]["title"] == "API root"
    sap = meta["millwright_sap_s4hana"]
    assert sap["standard_fields"]["login"]["title"] == "Communication user"
    assert sap["extra_fields"]["sap_client"]["schema"]["title"] == "SAP client"
    tryton = meta["millwright_tryton"]["standard_fields"]
    assert (tryton["url_schema"]["title"], tryton["login"]["hidden"]) == ("Database", False)
    mnx = meta["millwright_maintainx"]
    assert mnx["standard_fields"]["password"]["title"] == "API key"
    assert "organization_id" in mnx["extra_fields"]


@pytest.mark.parametrize("system", ["maximo", "maintainx", "sap_s4hana", "tryton"])
def test_the_test_endpoint_against_each_source(api_server, sources, system):
    api, _ = api_server
    body = {"connection_id": f"mw_test_{system}", "conn_type": f"millwright_{system}",
            **sources[system]}  # fmt: skip
    r = api.session.post(f"{api.base}/api/v2/connections/test", json=body, timeout=120)
    assert r.status_code == 200, r.text
    assert r.json()["status"] is True, r.json()
    assert r.json()["message"].endswith(f"connected to {sources[system]['host']}")

    wrong = {**body, "password": WRONG}
    r = api.session.post(f"{api.base}/api/v2/connections/test", json=wrong, timeout=120)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] is False
    assert out["message"].startswith(f"{system} refused the credentials (HTTP 401)"), out
    assert WRONG not in out["message"] and "Traceback" not in out["message"]


def test_a_missing_credential_is_named_by_its_label(api_server, sources):
    api, _ = api_server
    body = {"connection_id": "mw_nokey", "conn_type": "millwright_maintainx",
            "host": sources["maintainx"]["host"]}  # fmt: skip
    out = api.session.post(f"{api.base}/api/v2/connections/test", json=body, timeout=60).json()
    assert out == {"status": False, "message": "maintainx: the connection has no API key"}


def test_admin_adapter_tests_a_stored_http_connection(api_server, sources):
    """An older ``http`` Connection keeps working: the admin's reconnect check (Airflow's test
    with the system's conn type over the stored fields) passes, and fails once it is wrong."""
    from include.admin.airflow_adapter import RestAirflowAdapter

    api, env = api_server
    api.call("POST", "/connections", json={"connection_id": "mw_legacy", "conn_type": "http",
                                           **sources["maximo"]})  # fmt: skip
    adapter = RestAirflowAdapter(api.base, username="admin",
                                 password=env["MILLWRIGHT_AIRFLOW_PASSWORD"])  # fmt: skip
    ok, message = adapter.test_connection("mw_legacy", "millwright_maximo", {})
    assert ok, message
    api.call("PATCH", "/connections/mw_legacy", json={"connection_id": "mw_legacy",
             "conn_type": "http", "password": WRONG})  # fmt: skip
    ok, message = adapter.test_connection("mw_legacy", "millwright_maximo", {})
    assert not ok and message.startswith("maximo refused the credentials (HTTP 401)")
    # Tryton's database from the connection config, laid over the stored Connection
    tryton = dict(sources["tryton"])
    database = tryton.pop("schema")
    api.call("POST", "/connections", json={"connection_id": "mw_legacy_t", "conn_type": "http",
                                           **tryton})  # fmt: skip
    assert adapter.test_connection("mw_legacy_t", "millwright_tryton", {"schema": database})[0]


@pytest.fixture
def browser(tmp_path: Path):
    if not (CHROMIUM and DRIVER):
        msg = "chromium/chromedriver not installed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--window-size=1400,1000", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                f"--user-data-dir={tmp_path / 'profile'}"):  # fmt: skip
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


def test_connection_form_in_the_browser(api_server, sources, browser):
    """Airflow's own UI: Add Connection, type "IBM Maximo Manage (Millwright)": Maximo's fields
    with their labels (no Login, no Schema), its extra field; saved, the row's Test button
    reaches the sandbox."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    api, env = api_server
    wait = WebDriverWait(browser, 30)
    browser.get(f"{api.base}/connections")
    wait.until(ec.presence_of_element_located((By.NAME, "username"))).send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(env["MILLWRIGHT_AIRFLOW_PASSWORD"])
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    add = wait.until(ec.element_to_be_clickable(
        (By.XPATH, "//button[normalize-space()='Add Connection']")))  # fmt: skip
    add.click()
    wait.until(ec.presence_of_element_located((By.NAME, "connection_id"))).send_keys("mw_ui_mx")
    combo = browser.find_element(By.CSS_SELECTOR, "[role=dialog] input[role=combobox]")
    combo.click()
    combo.send_keys("Maximo")
    option = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[role=option]")))
    assert option.text == "IBM Maximo Manage (Millwright)"
    combo.send_keys(Keys.ENTER)
    wait.until(ec.presence_of_element_located(
        (By.XPATH, "//*[@role='dialog']//label[normalize-space()='Maximo URL']")))  # fmt: skip
    labels = [
        el.text.strip() for el in browser.find_elements(By.CSS_SELECTOR, "[role=dialog] label")
    ]
    assert {"Maximo URL", "API key", "Port"} <= set(labels), labels
    assert not {"Login", "Schema", "Host", "Password"} & set(labels), labels

    def field(label: str):
        xpath = (f"//*[@role='dialog']//label[normalize-space()='{label}']"
                 "/ancestor::*[.//input or .//textarea][1]//*[self::input or self::textarea]")  # fmt: skip
        return browser.find_element(By.XPATH, xpath)

    assert field("Maximo URL").get_attribute("placeholder") == "https://maximo.example.com"
    # The port in its own field: Airflow 3.3.2's list page sends ``port: 0`` for an empty port,
    # which its test endpoint takes for a different destination (400 Bad Request).
    url = urlsplit(sources["maximo"]["host"])
    field("Maximo URL").send_keys(f"{url.scheme}://{url.hostname}")
    field("Port").send_keys(str(url.port))
    field("API key").send_keys(SECRET)
    browser.find_element(By.XPATH, "//button[normalize-space()='Extra Fields']").click()
    wait.until(ec.visibility_of_element_located(
        (By.XPATH, "//*[@role='dialog']//label[normalize-space()='API root']")))  # fmt: skip
    browser.find_element(By.XPATH, "//*[@role='dialog']//button[normalize-space()='Save']").click()

    def saved(_driver) -> dict | None:
        r = api.session.get(f"{api.base}/api/v2/connections/mw_ui_mx", timeout=30)
        return r.json() if r.status_code == 200 else None

    conn = wait.until(saved)
    assert (conn["conn_type"], conn["host"], conn["port"]) == (
        "millwright_maximo",
        f"{url.scheme}://{url.hostname}",
        url.port,
    )
    assert conn["login"] in (None, "")

    wait.until(ec.invisibility_of_element_located((By.CSS_SELECTOR, "[role=dialog]")))
    row = wait.until(ec.presence_of_element_located(
        (By.XPATH, "//tr[.//*[normalize-space()='mw_ui_mx']]")))  # fmt: skip
    row.find_element(By.CSS_SELECTOR, "button[aria-label='Test Connection']").click()
    wait.until(ec.text_to_be_present_in_element(
        (By.TAG_NAME, "body"), f"connected to {sources['maximo']['host']}"))  # fmt: skip
    # a wrong key, saved through the REST API: the same button shows the source's reason
    api.call("PATCH", "/connections/mw_ui_mx", json={"connection_id": "mw_ui_mx",
             "conn_type": "millwright_maximo", "password": WRONG}, params={"update_mask": "password"})  # fmt: skip
    browser.refresh()
    row = wait.until(ec.presence_of_element_located(
        (By.XPATH, "//tr[.//*[normalize-space()='mw_ui_mx']]")))  # fmt: skip
    row.find_element(By.CSS_SELECTOR, "button[aria-label='Test Connection']").click()
    wait.until(ec.text_to_be_present_in_element(
        (By.TAG_NAME, "body"), "maximo refused the credentials (HTTP 401)"))  # fmt: skip


def test_reconnect_check_says_when_airflows_test_is_disabled(tmp_path: Path, sources):
    """Airflow's default (test_connection off): the admin API cannot test a stored Connection,
    and says so (503 naming the setting) instead of saving untested credentials."""
    from include.admin.airflow_adapter import AirflowError, RestAirflowAdapter
    from include.admin.base import AdminContext
    from include.admin.errors import AirflowUnavailable
    from include.admin.operations.source_check import check_source
    from include.api.errors import domain_status
    from include.config import ConnectionConfig
    from include.store import Store

    with running_api_server(tmp_path, AIRFLOW__CORE__TEST_CONNECTION="Disabled") as (api, env):
        api.call("POST", "/connections", json={"connection_id": "mw_off", "conn_type": "http",
                                               **sources["maximo"]})  # fmt: skip
        adapter = RestAirflowAdapter(api.base, username="admin",
                                     password=env["MILLWRIGHT_AIRFLOW_PASSWORD"])  # fmt: skip
        with pytest.raises(AirflowError, match=r"test_connection = Enabled"):
            adapter.test_connection("mw_off", "millwright_maximo", {})
        cfg = ConnectionConfig.model_validate(
            {"id": "off-1", "customer": "acme", "system": "maximo", "airflow_conn_id": "mw_off"}
        )
        ctx = AdminContext(Store(f"sqlite:///{tmp_path / 's.db'}"), adapter)
        with pytest.raises(
            AirflowUnavailable, match="cannot test Airflow Connection 'mw_off'"
        ) as e:
            check_source(ctx, cfg, None)
        assert domain_status(e.value) == 503
