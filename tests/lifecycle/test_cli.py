"""The admin CLI end to end in a subprocess, offline Airflow state, SQLite store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.lifecycle.conftest import MAINTAINX_KEY, maintainx_url

ROOT = Path(__file__).resolve().parents[2]


def cli(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "MILLWRIGHT_STORE_URL": f"sqlite:///{tmp_path / 's.db'}",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, "-m", "include.cli.connections", "--offline", str(tmp_path / "af.json"), *args],
        input=stdin, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip


def test_cli_lifecycle(tmp_path: Path):
    assert json.loads(cli(tmp_path, "pool-set", "acme", "1").stdout)["pool"] == 1
    body = {"id": "acme-mx", "customer": "acme", "system": "maintainx",
            "credentials": {"host": maintainx_url(), "password": MAINTAINX_KEY}}  # fmt: skip
    out = cli(tmp_path, "create", "-", stdin=json.dumps(body))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["access_token"].startswith("mw_")
    refused = cli(tmp_path, "create", "-", stdin=json.dumps({**body, "id": "acme-mx2"}))
    assert refused.returncode == 2 and "needs 1 credits but has 0 available" in refused.stderr
    wrong = {**body, "id": "acme-mx3", "credentials": {"host": maintainx_url(), "password": "no"}}
    refused = cli(tmp_path, "create", "-", stdin=json.dumps(wrong))
    assert refused.returncode == 2
    assert "maintainx refused the credentials (HTTP 401): Invalid token" in refused.stderr
    assert json.loads(cli(tmp_path, "disconnect", "acme-mx").stdout)["status"] == "disconnected"
    assert json.loads(cli(tmp_path, "credits", "acme").stdout)[0]["used"] == 0
    state = json.loads((tmp_path / "af.json").read_text())
    assert json.loads(state["variables"]["millwright_connections"])[0]["status"] == "disconnected"
    assert "k" not in state["variables"]["millwright_connections"].split('"')
