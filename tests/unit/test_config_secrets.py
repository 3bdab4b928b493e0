"""Secrets in a connection's ``options`` are refused (the Variable is copied into the DAG's docs
and shown in the Airflow UI); the DAG docs mask secret-looking values anyway."""

from __future__ import annotations

import json

import pytest

from include.airflow.glue import config_doc
from include.config import ConfigError, ConnectionConfig, is_secret_key, parse_connections


def entry(**options: object) -> dict:
    return {"id": "acme-mx", "customer": "acme", "system": "maximo",
            "airflow_conn_id": "mw_acme_mx", "options": options}  # fmt: skip


@pytest.mark.parametrize(
    "key",
    ["password", "PASSWORD", "apikey", "api_key", "ApiKey", "api-key", "token", "access_token",
     "refreshToken", "secret", "client_secret", "private_key", "privateKey", "db_password",
     "passphrase", "Authorization", "credentials"],
)  # fmt: skip
def test_secret_looking_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key", ["naive_times", "max_page_size", "sap_client", "organization_id", "database",
            "object_structures", "service_paths", "api_root", "token_url_path_style"],
)  # fmt: skip
def test_ordinary_keys(key: str) -> None:
    assert not is_secret_key(key)


def test_a_secret_in_options_is_refused_with_a_pointer_to_the_airflow_connection() -> None:
    [err] = parse_connections(json.dumps([entry(naive_times=True, api_key="sk-live-123")]))
    assert isinstance(err, ConfigError)
    msg = str(err)
    assert msg.startswith("connection acme-mx: options: api_key: looks like a secret")
    assert "Airflow Connection named by airflow_conn_id" in msg
    assert "sk-live-123" not in msg


def test_nested_and_listed_secrets_are_refused_too() -> None:
    opts = {"auth": {"Client_Secret": "s1", "scope": "read"}, "hosts": [{"TOKEN": "t1"}]}
    [err] = parse_connections(json.dumps([entry(**opts)]))
    assert isinstance(err, ConfigError)
    assert "auth.Client_Secret, hosts[0].TOKEN: looks like a secret" in str(err)
    assert "s1" not in str(err) and "t1" not in str(err)


def test_ordinary_options_still_validate() -> None:
    [cfg] = parse_connections(json.dumps([entry(naive_times=True, max_page_size=500)]))
    assert isinstance(cfg, ConnectionConfig)


def test_config_doc_masks_secret_values_even_past_validation() -> None:
    """Defence in depth: a config built without validation (model_construct) still shows no
    secret in the DAG's docs."""
    base = ConnectionConfig.model_validate(entry(naive_times=True))
    cfg = base.model_copy(update={"options": {"password": "hunter22", "x": {"token": "t0k3n"},
                                              "naive_times": True}})  # fmt: skip
    doc = config_doc(cfg)
    assert "hunter22" not in doc and "t0k3n" not in doc
    assert '"password": "***"' in doc and '"naive_times": true' in doc
