"""The `millwright_connections` Variable: every error names the connection and the field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from include.config import ConfigError, ConnectionConfig, VariableError, parse_connections

ROOT = Path(__file__).resolve().parents[1]


def entry(**kw: object) -> dict:
    base = {"id": "acme-us", "customer": "acme", "system": "maximo", "airflow_conn_id": "mx_us"}
    base.update(kw)
    return base


def parse_one(**kw: object) -> ConnectionConfig | ConfigError:
    [result] = parse_connections(json.dumps([entry(**kw)]))
    return result


def test_valid_entry_defaults() -> None:
    cfg = parse_one()
    assert isinstance(cfg, ConnectionConfig)
    assert cfg.dag_id == "sync__acme-us"
    assert cfg.schedule == "0 * * * *" and cfg.overlap_delta.total_seconds() == 600
    assert "work-orders" in cfg.selected_entities()


@pytest.mark.parametrize(
    ("kw", "field", "words"),
    [
        ({"system": "nosuch"}, "(entry)", "unknown system 'nosuch'"),
        ({"entities": ["work-orders", "widgets"]}, "(entry)", "widgets not supported by maximo"),
        ({"schedule": "every hour"}, "schedule", "not a valid cron expression"),
        ({"source_timezone": "Mars/Olympus"}, "source_timezone", "unknown time zone"),
        ({"overlap": "ten minutes"}, "overlap", "not a duration"),
        ({"page_size": 0}, "page_size", "greater than or equal to 1"),
        ({"quarantine_threshold": 2}, "quarantine_threshold", "less than or equal to 1"),
        ({"deployment": "moon"}, "deployment", "'cloud' or 'on_premise'"),
        ({"custom_fields": {"gizmos": {"x": "y"}}}, "(entry)", "custom_fields: unknown entity"),
        ({"apikey": "s3cret"}, "apikey", "Extra inputs are not permitted"),
        ({"airflow_conn_id": ""}, "airflow_conn_id", "at least 1 character"),
    ],
)
def test_invalid_field_is_named(kw: dict, field: str, words: str) -> None:
    err = parse_one(**kw)
    assert isinstance(err, ConfigError)
    assert err.connection_id == "acme-us"
    assert str(err).startswith("connection acme-us: ")
    assert words in str(err)
    if field != "(entry)":
        assert f"{field}: " in str(err)


def test_bad_id_gets_a_placeholder_label() -> None:
    err = parse_one(id="Not A Slug")
    assert isinstance(err, ConfigError) and err.connection_id == "invalid_0"
    assert "id: must be a slug" in str(err)


def test_missing_required_fields_are_listed() -> None:
    [err] = parse_connections(json.dumps([{"id": "x1"}]))
    assert isinstance(err, ConfigError)
    for name in ("customer", "system", "airflow_conn_id"):
        assert f"{name}: Field required" in str(err)


def test_duplicate_ids_keep_the_first() -> None:
    results = parse_connections(json.dumps([entry(), entry(customer="other")]))
    assert isinstance(results[0], ConnectionConfig) and results[0].customer == "acme"
    assert isinstance(results[1], ConfigError)
    assert "duplicate connection id 'acme-us'" in str(results[1])
    assert results[1].connection_id != "acme-us"  # its placeholder DAG must not clash


def test_one_bad_entry_does_not_hide_the_others() -> None:
    text = json.dumps([entry(id="a1"), "not an object", entry(id="b2", schedule="nope")])
    a, bad, b = parse_connections(text)
    assert isinstance(a, ConnectionConfig)
    assert isinstance(bad, ConfigError) and "must be a JSON object" in str(bad)
    assert isinstance(b, ConfigError) and b.connection_id == "b2"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (None, "is not set"),
        ("{not json", "is not valid JSON"),
        ('{"id": "x"}', "must be a JSON array"),
    ],
)
def test_missing_or_invalid_variable_is_a_variable_error(raw: str | None, words: str) -> None:
    with pytest.raises(VariableError, match=words):
        parse_connections(raw)


def test_empty_array_means_zero_connections_explicitly() -> None:
    assert parse_connections("[]") == []


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "include.cli", *args],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_cli_validate_config(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps([entry()]))
    out = _cli("validate-config", str(good))
    assert out.returncode == 0, out.stderr
    assert "acme-us" in out.stdout and "1 valid, 0 invalid" in out.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([entry(), entry(id="b2", source_timezone="Nowhere/Zone")]))
    out = _cli("validate-config", str(bad))
    assert out.returncode == 1
    assert "connection b2: source_timezone: unknown time zone 'Nowhere/Zone'" in out.stderr


def test_schema_file_is_current() -> None:
    out = _cli("schema")
    assert out.returncode == 0, out.stderr
    committed = json.loads((ROOT / "docs" / "connections.schema.json").read_text())
    assert json.loads(out.stdout) == committed, "regenerate: python -m include.cli schema > ..."
    example = (ROOT / "docs" / "CONNECTIONS.md").read_text().split("```json\n")[1].split("```")[0]
    assert all(isinstance(e, ConnectionConfig) for e in parse_connections(example))
