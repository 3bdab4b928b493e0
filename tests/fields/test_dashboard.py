"""The custom-fields page in headless Chromium against a real Maximo sandbox: pick an entity,
load what the source offers, tick fields, preview (nothing saved), save (the connection's config
changes). Needs Debian's chromium + chromium-driver (skips without them unless CI=true)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import uvicorn

from tests.fields.test_api import KEY_A, client, create, sandboxes  # noqa: F401
from tests.lifecycle.conftest import ADMIN, HEADERS
from tests.lifecycle.test_dashboard_browser import browser  # noqa: F401


@pytest.fixture
def server(client):  # noqa: F811
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(client.app, host="127.0.0.1", port=port,
                                        log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


def test_pick_preview_save(client, sandboxes, server, browser):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    create(client, sandboxes[0], KEY_A, "mx-ui")
    wait = WebDriverWait(browser, 20)
    browser.get(f"{server}/api/system/dashboard")
    browser.find_element(By.ID, "token").send_keys(ADMIN)
    browser.find_element(By.ID, "load").click()
    wait.until(ec.element_to_be_clickable(
        (By.CSS_SELECTOR, 'tr[data-id="mx-ui"] a[data-action="fields"]'))).click()  # fmt: skip
    wait.until(ec.text_to_be_present_in_element((By.ID, "message"), "pick an entity"))
    Select(browser.find_element(By.ID, "entity")).select_by_value("work-orders")
    browser.find_element(By.ID, "discover").click()
    row = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-path="crewid"]')))
    assert "Crew" in row.text
    row.find_element(By.CSS_SELECTOR, "input[type=checkbox]").click()
    name = row.find_element(By.CSS_SELECTOR, "input[data-name]")
    name.clear()
    name.send_keys("crew")
    browser.find_element(
        By.CSS_SELECTOR, 'tr[data-path="assignment.laborcode"] input[type=checkbox]').click()  # fmt: skip
    limit = browser.find_element(By.ID, "limit")
    limit.clear()
    limit.send_keys("6")
    browser.find_element(By.ID, "preview").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "message"), "Nothing was saved"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "#records tbody tr")) == 6
    assert "crew:" in browser.find_element(By.ID, "rates").text
    view = client.get("/api/system/connections/mx-ui", headers=HEADERS).json()["data"]
    assert view["config"].get("custom_fields", {}) == {}  # a preview saves nothing
    browser.find_element(By.ID, "save").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "message"), "Saved"))
    view = client.get("/api/system/connections/mx-ui", headers=HEADERS).json()["data"]
    assert view["config"]["custom_fields"] == {
        "work-orders": {"crew": "crewid", "assignmentLaborcode": "assignment.laborcode"}
    }
