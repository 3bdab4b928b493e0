"""`make demo`'s Airflow environment (include/cli/demo.py): loopback by default, log-server ports
that avoid a busy port, a 64-byte JWT secret (a shorter one from an older demo is replaced), and
the exports that point the CLI at the demo."""

from __future__ import annotations

import json
import shlex
import socket
from pathlib import Path

from include.cli import demo


def test_defaults_avoid_collisions_and_stay_on_this_host(tmp_path: Path) -> None:
    home = tmp_path / "airflow"
    home.mkdir()
    (home / "millwright-demo-secrets.json").write_text(json.dumps({"jwt_secret": "short"}))
    with socket.socket() as busy:  # another Airflow's worker log server
        busy.bind(("127.0.0.1", demo.DEFAULT_LOG_PORTS[0]) if _free(demo.DEFAULT_LOG_PORTS[0])
                  else ("127.0.0.1", 0))  # fmt: skip
        busy.listen()
        taken = busy.getsockname()[1]
        env = demo.airflow_env(9999, home, tmp_path / "mw")
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["MILLWRIGHT_AIRFLOW_URL"] == "http://127.0.0.1:9999"
    worker, trigger = (
        int(env[f"AIRFLOW__LOGGING__{k}_LOG_SERVER_PORT"]) for k in ("WORKER", "TRIGGER")
    )
    assert worker != taken and trigger != taken and worker != trigger
    assert len(env["AIRFLOW__API_AUTH__JWT_SECRET"].encode()) >= 64
    kept = json.loads((home / "millwright-demo-secrets.json").read_text())
    assert kept["jwt_secret"] == env["AIRFLOW__API_AUTH__JWT_SECRET"]  # replaced once, then kept
    chosen = demo.airflow_env(9999, home, tmp_path / "mw", host="0.0.0.0", log_ports=(9701, 9702))
    assert chosen["AIRFLOW__API__HOST"] == "0.0.0.0"
    assert (chosen["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"],
            chosen["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"]) == ("9701", "9702")  # fmt: skip
    assert chosen["AIRFLOW__API_AUTH__JWT_SECRET"] == env["AIRFLOW__API_AUTH__JWT_SECRET"]


def test_the_exports_for_the_cli(tmp_path: Path) -> None:
    env = demo.airflow_env(9999, tmp_path / "airflow", tmp_path / "my demo")
    lines = demo.cli_exports(env).splitlines()
    exported = dict(shlex.split(line.strip())[1].split("=", 1) for line in lines)
    assert exported["MILLWRIGHT_HOME"] == str(tmp_path / "my demo")
    assert exported["MILLWRIGHT_AIRFLOW_URL"] == "http://127.0.0.1:9999"
    assert set(exported) == set(demo.CLI_ENV)


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True
