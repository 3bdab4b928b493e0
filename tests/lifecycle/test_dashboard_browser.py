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
