"""Tokens: format, hash-only storage, resolution, revocation, the 401 contract, no logging."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from include.api.auth import hash_token, issue_token, list_tokens, resolve_token, revoke_tokens
from include.store.engine import write_txn
from tests.api.conftest import make_client


def test_token_format_and_hash_only_storage(store):
    token = issue_token(store.engine, "acme")
    assert token.startswith("mw_") and len(token) >= 3 + 43  # 32 bytes urlsafe = 43 chars
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM tokens")).mappings().all()
    assert len(rows) == 1
    row = rows[0]
    assert row["token_hash"] == hash_token(token) and len(row["token_hash"]) == 64
    assert token not in {str(v) for v in row.values()}  # only the hash and a short prefix
    assert token.startswith(row["prefix"]) and len(row["prefix"]) <= 10
    assert resolve_token(store.engine, token) == "acme"


def test_tokens_are_distinct_and_resolve_to_their_connection(store):
    tokens = {cid: issue_token(store.engine, cid) for cid in ("a", "b", "c")}
    second_a = issue_token(store.engine, "a")
    assert len(set(tokens.values()) | {second_a}) == 4
    for cid, token in tokens.items():
        assert resolve_token(store.engine, token) == cid
    assert resolve_token(store.engine, second_a) == "a"


@pytest.mark.parametrize(
    "bad", [None, "", "mw_", "mw_nope", "Bearer x", "x" * 5000, "mw_" + "a" * 300, "mw_\x00"]
)
def test_unknown_or_malformed_tokens_resolve_to_none(store, bad):
    issue_token(store.engine, "acme")
    assert resolve_token(store.engine, bad) is None


def test_revoke_invalidates_only_that_connection(store):
    a1, a2 = issue_token(store.engine, "a"), issue_token(store.engine, "a")
    b = issue_token(store.engine, "b")
    assert revoke_tokens(store.engine, "a") == 2
    assert resolve_token(store.engine, a1) is None and resolve_token(store.engine, a2) is None
    assert resolve_token(store.engine, b) == "b"
    assert revoke_tokens(store.engine, "a") == 0  # idempotent
    listed = list_tokens(store.engine, "a")
    assert len(listed) == 2 and all(t["revoked_at"] for t in listed)
    assert "token_hash" not in listed[0]


def test_issue_inside_callers_transaction_rolls_back(store):
    with store.engine.connect() as conn:
        tx = conn.begin()
        token = issue_token(conn, "acme")  # joins the caller's transaction
        tx.rollback()
    assert resolve_token(store.engine, token) is None
    with store.engine.connect() as conn, write_txn(conn):
        kept = issue_token(conn, "acme")
    assert resolve_token(store.engine, kept) == "acme"


def test_issue_refuses_empty_connection(store):
    with pytest.raises(ValueError, match="connection_id"):
        issue_token(store.engine, "")


def _assert_401(resp, needle: str):
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"
    body = resp.json()
    assert needle in body["message"] and "Authorization" in body["errors"]


def test_http_401_contract(sqlite_store):
    client = make_client(sqlite_store)
    token = issue_token(sqlite_store.engine, "acme")
    url = "/api/eam/work-orders"
    _assert_401(client.get(url), "missing bearer token")
    _assert_401(client.get(url, headers={"Authorization": "Basic abc"}), "Bearer <token>")
    _assert_401(client.get(url, headers={"Authorization": "Bearer "}), "Bearer <token>")
    _assert_401(client.get(url, headers={"Authorization": "Bearer mw_unknown"}), "invalid")
    ok = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    revoke_tokens(sqlite_store.engine, "acme")
    _assert_401(client.get(url, headers={"Authorization": f"Bearer {token}"}), "revoked")
    # auth is checked before parameters: a bad parameter without a token is still a 401
    _assert_401(client.get(url + "?per_page=abc"), "missing bearer token")


def test_tokens_never_logged(sqlite_store, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(sqlite_store)
    token = issue_token(sqlite_store.engine, "acme")
    client.get("/api/eam/work-orders", headers={"Authorization": f"Bearer {token}"})
    client.get("/api/eam/nope", headers={"Authorization": f"Bearer {token}x"})
    revoke_tokens(sqlite_store.engine, "acme")
    client.get("/api/eam/work-orders", headers={"Authorization": f"Bearer {token}"})
    assert token not in caplog.text and token[3:] not in caplog.text
