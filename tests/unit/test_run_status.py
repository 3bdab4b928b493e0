"""Classification of a failed attempt (by type, not by text), the stored reason (never a
secret) and the connection's ``sync_status`` from its entities' rows."""

from __future__ import annotations

import pytest
import requests

from connectors.base import SourceError
from include.sync.run_status import (
    KILLED,
    ConnectionSetupError,
    classify,
    entity_state,
    safe_reason,
    sync_reason,
    sync_status,
)


@pytest.mark.parametrize("status", [401, 403, "LoginException"])
def test_source_401_403_and_tryton_login_are_auth(status: object) -> None:
    out = classify(SourceError("maximo", "GET /maximo/api/os/mxapiwo", status, "BMXAA7901E"))
    assert out.failure == "auth"
    assert (
        out.reason == f"maximo: GET /maximo/api/os/mxapiwo failed with status {status}: BMXAA7901E"
    )


@pytest.mark.parametrize("status", [404, 500, 429, "ConnectionError", "truncated", None])
def test_other_source_errors_are_error(status: object) -> None:
    assert classify(SourceError("sap_s4hana", "GET /x", status)).failure == "error"


def test_text_that_mentions_401_is_not_auth_without_the_type() -> None:
    """No regex on messages: a 500 whose body mentions 'Unauthorized 401' stays an error."""
    exc = SourceError("maximo", "GET /x", 500, "upstream said 401 Unauthorized")
    assert classify(exc).failure == "error"
    assert classify(RuntimeError("HTTP 401 Unauthorized, credentials")).failure == "error"


def test_setup_errors_and_their_wrappers_are_auth() -> None:
    setup = ConnectionSetupError("Airflow Connection 'mw_x' not found")
    assert classify(setup) == classify(setup).__class__("auth", str(setup))
    try:  # the DAG's tasks raise AirflowFailException(...) from the typed error
        raise RuntimeError("wrapper (not retried)") from setup
    except RuntimeError as wrapped:
        out = classify(wrapped)
    assert out.failure == "auth" and out.reason == "Airflow Connection 'mw_x' not found"
    try:
        raise RuntimeError("wrapper") from SourceError("maximo", "GET /x", 403)
    except RuntimeError as wrapped:
        assert classify(wrapped).failure == "auth"


def test_untyped_errors_name_their_type_and_a_death_has_a_reason() -> None:
    out = classify(requests.ConnectionError("refused"))
    assert out == out.__class__("error", "ConnectionError: refused")
    assert classify(KeyError("x")).reason == "KeyError: 'x'"
    assert classify(None) == classify("").__class__("error", KILLED)
    assert classify("Task was killed externally").reason == "Task was killed externally"


def test_reason_holds_no_secret_and_is_bounded() -> None:
    text = (
        "GET https://user:pw@maximo.example/maximo/api/os/x?apikey=SEKRET1&lean=1 failed;\n"
        "header apikey: SEKRET2"
    )
    out = safe_reason(text, secrets=["SEKRET2", "ab"])
    assert out == "GET https://maximo.example/maximo/api/os/x failed; header apikey: ***"
    assert len(safe_reason("x" * 2000)) == 500
    exc = SourceError("maximo", "GET /x", 401, "key SEKRET3 refused")
    assert "SEKRET3" not in classify(exc, ["SEKRET3"]).reason


def row(entity: str, status: str, failure: str | None = None, error: str | None = None) -> dict:
    return {"entity": entity, "status": status, "failure": failure, "error": error,
            "started_at": "2024-01-01T00:00:00Z", "finished_at": None}  # fmt: skip


def test_a_failure_stays_until_a_later_attempt_succeeds() -> None:
    failed = row("wo", "failed", "auth", "401")
    # the failed run itself; its retry running (the row keeps the failure); the next run running
    assert entity_state(failed, failed, None, False).failure == "auth"
    assert entity_state(row("wo", "running", "auth", "401"), None, None, False).failure == "auth"
    running = entity_state(row("wo", "running"), failed, None, False)
    assert (running.failure, running.error, running.status) == ("auth", "401", "running")
    assert entity_state(row("wo", "success"), failed, None, True).failure is None
    # a retry pending, and rows from before failures were typed
    assert (
        entity_state(row("wo", "retrying", "error", "timeout"), None, None, False).failure
        == "error"
    )
    assert entity_state(row("wo", "failed", None, "HTTP 401"), None, None, False).failure == "error"


def test_sync_status_order() -> None:
    def st(entity: str, status: str, failure: str | None = None, full: bool = True):
        return entity_state(row(entity, status, failure, failure and f"{failure} reason"), None,
                            None, full)  # fmt: skip

    assert sync_status([]) == "inprogress"
    assert sync_status([st("a", "running"), st("b", "success")]) == "inprogress"
    assert sync_status([st("a", "success"), st("b", "success")]) == "fulldone"
    assert sync_status([st("a", "success"), st("b", "success", full=False)]) == "done"
    states = [st("statuses", "failed", "auth"), st("a", "failed", "error"), st("b", "running")]
    assert sync_status(states) == "fail"  # auth first, even while another entity runs
    assert sync_reason(states) == "statuses: auth reason"
    assert sync_status(states[1:]) == "error" and sync_reason(states[1:]) == "a: error reason"
    both = [st("statuses", "failed", "auth"), st("wo", "failed", "auth")]
    assert sync_reason(both) == "wo: auth reason"  # a real entity is named before `statuses`
