"""The generated Airflow hooks of Limble and Fiix: their connection types' test button
(`MillwrightHook.test_connection`) against the sandboxes, with a right and a wrong secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.airflow


def _conn(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields: object) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))


def test_limble_hook(airflow_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.limble.sandbox import start_sandbox
    from include.airflow.hooks import hook_class

    url, handle = start_sandbox(size=20, client_id="hook", secret="hook-secret")
    try:
        for cid, secret in (("mw_limble_ok", "hook-secret"), ("mw_limble_bad", "nope-nope")):
            _conn(monkeypatch, cid, conn_type="millwright_limble", host=url, login="hook",
                  password=secret)  # fmt: skip
        hook = hook_class("limble")
        ok, message = hook(millwright_conn_id="mw_limble_ok").test_connection()
        assert ok and message.startswith("Limble CMMS (Millwright): connected to")
        ok, message = hook(millwright_conn_id="mw_limble_bad").test_connection()
        assert not ok and "403" in message and "nope-nope" not in message
    finally:
        handle.stop()


def test_fiix_hook(airflow_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.fiix.sandbox import start_sandbox
    from include.airflow.hooks import hook_class

    url, handle = start_sandbox(size=20, keys=("app", "access", "hook-secret"))
    try:
        for cid, secret in (("mw_fiix_ok", "hook-secret"), ("mw_fiix_bad", "nope-nope")):
            _conn(monkeypatch, cid, conn_type="millwright_fiix", host=url, login="access",
                  password=secret, extra={"app_key": "app"})  # fmt: skip
        hook = hook_class("fiix")
        ok, message = hook(millwright_conn_id="mw_fiix_ok").test_connection()
        assert ok, message
        ok, message = hook(millwright_conn_id="mw_fiix_bad").test_connection()
        assert not ok and "signature" in message and "nope-nope" not in message
        with hook(millwright_conn_id="mw_fiix_ok").get_conn() as connector:
            assert connector.statuses("work-orders")  # the hook's connector reads
    finally:
        handle.stop()
