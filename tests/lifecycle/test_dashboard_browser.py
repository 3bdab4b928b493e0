"""The dashboard in real headless Chromium: Disconnect, confirm, then the token is dead and the
DAG paused. Needs Debian's chromium + chromium-driver (skips without them unless CI=true)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from tests.lifecycle.conftest import ADMIN, HEADERS, new_body, parse

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture
def server(client):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(
        uvicorn.Config(client.app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


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
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}"):  # fmt: skip
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


def test_disconnect_from_dashboard(client, airflow, server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    created = client.post("/api/system/connections", json=new_body(), headers=HEADERS).json()[
        "data"
    ]
    cid, token = created["key"], created["access_token"]
    parse(airflow)
    client.post("/api/system/settle", headers=HEADERS)
    assert airflow.dag_state(f"sync__{cid}").is_paused is False

    wait = WebDriverWait(browser, 15)
    browser.get(f"{server}/api/system/dashboard")
    browser.find_element(By.ID, "token").send_keys(ADMIN)
    browser.find_element(By.ID, "load").click()
    button = wait.until(ec.element_to_be_clickable(
        (By.CSS_SELECTOR, f'button[data-action="disconnect"][data-id="{cid}"]')))  # fmt: skip
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-id="{cid}"]')
    assert "maintainx" in row.text and "acme" in row.text and "active" in row.text

    button.click()  # first: cancel the confirmation, nothing happens
    wait.until(ec.alert_is_present()).dismiss()
    assert (
        client.get(
            "/api/integrations/current", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 200
    )

    browser.find_element(
        By.CSS_SELECTOR, f'button[data-action="disconnect"][data-id="{cid}"]'
    ).click()
    alert = wait.until(ec.alert_is_present())
    assert "Disconnect" in alert.text
    alert.accept()
    wait.until(ec.text_to_be_present_in_element(
        (By.CSS_SELECTOR, f'tr[data-id="{cid}"] td[data-field="status"]'), "disconnected"))  # fmt: skip

    r = client.get("/api/integrations/current", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert airflow.dag_state(f"sync__{cid}").is_paused is True
    buttons = browser.find_elements(By.CSS_SELECTOR, f'tr[data-id="{cid}"] button')
    assert sorted(b.text for b in buttons) == ["Delete data", "Reconnect"]


def test_banner_lineage_quarantine_and_a_token_shown_once(
    client, airflow, store, lifecycle, server, browser
):
    """What the dashboard adds for a day without hidden steps: a red banner for each config
    error, the reconnect lineage both ways, open quarantine counts per entity, and a hand-added
    connection's first token behind "Show token" (shown once)."""
    import json

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from include.store import QuarantineItem

    hand = {"id": "hand-1", "customer": "beta", "system": "tryton", "airflow_conn_id": "x"}
    broken = {**hand, "id": "broken-1", "schedule": "every day"}
    airflow.set_variable_if("millwright_connections", None, json.dumps([hand, broken]))
    lifecycle.maintain()  # registers hand-1 with a token waiting to be shown
    old = client.post("/api/system/connections", json=new_body(id="acme-mx"), headers=HEADERS)
    assert old.status_code == 200, old.text
    client.post("/api/system/connections/acme-mx/disconnect", headers=HEADERS)
    assert (
        client.post("/api/system/connections/acme-mx/reconnect", headers=HEADERS).status_code == 200
    )
    store.quarantine_add("acme-mx-2", "assets", "r1", [QuarantineItem("A1", "{}", "bad date")])

    wait = WebDriverWait(browser, 15)
    browser.get(f"{server}/api/system/dashboard")
    browser.find_element(By.ID, "token").send_keys(ADMIN)
    browser.find_element(By.ID, "load").click()
    banner = wait.until(ec.visibility_of_element_located((By.ID, "config-errors")))
    assert "sync__broken-1" in banner.text and "not a valid cron expression" in banner.text

    def field(cid: str, name: str) -> str:
        return browser.find_element(
            By.CSS_SELECTOR, f'tr[data-id="{cid}"] td[data-field="{name}"]').text  # fmt: skip

    assert field("acme-mx", "lineage") == "reconnected to acme-mx-2"
    assert field("acme-mx-2", "lineage") == "reconnected from acme-mx"
    assert field("acme-mx-2", "quarantined") == "assets: 1"
    assert field("hand-1", "quarantined") == "none"

    browser.find_element(By.CSS_SELECTOR, 'button[data-action="claim"][data-id="hand-1"]').click()
    wait.until(ec.alert_is_present()).accept()
    wait.until(ec.text_to_be_present_in_element((By.ID, "message"), "shown once"))
    token = browser.find_element(By.ID, "message").text.rsplit(" ", 1)[-1]
    r = client.get("/api/integrations/current", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["data"]["id"] == "hand-1"
    wait.until(ec.invisibility_of_element_located(
        (By.CSS_SELECTOR, 'button[data-action="claim"][data-id="hand-1"]')))  # fmt: skip
    fixed = json.dumps([hand])
    airflow.state["variables"]["millwright_connections"] = fixed
    browser.refresh()
    browser.find_element(By.ID, "token").send_keys(ADMIN)
    browser.find_element(By.ID, "load").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-id="hand-1"]')))
    time.sleep(0.5)  # the banner's own request
    assert browser.find_element(By.ID, "config-errors").is_displayed() is False
