"""The ``millwright`` console script, run as a user runs it: the script ``make install`` put next
to the venv's python, in a subprocess, against a real Maximo sandbox process and a SQLite store.
PYTHONPATH points at this checkout so the code under test is this checkout's."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("millwright")
COMMANDS = ["sync", "sandbox", "connections", "quarantine", "validate-config", "schema", "api"]
APIKEY = "cli-test-key"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MILLWRIGHT_", "AIRFLOW_CONN_", "AIRFLOW_VAR_"))}  # fmt: skip
    env.update(
        PYTHONPATH=str(ROOT),
        AIRFLOW_HOME=str(tmp_path / "airflow"),  # never the user's ~/airflow
        MILLWRIGHT_HOME=str(tmp_path / "home"),
    )
    env.update(extra)
    return env


def millwright(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    if not SCRIPT.exists():
        pytest.fail(f"no {SCRIPT.name} script next to {sys.executable}: run `make install`")
    return subprocess.run(
        [str(SCRIPT), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def maximo(tmp_path: Path) -> Iterator[int]:
    """A Maximo sandbox process started through ``millwright sandbox``; its port."""
    port = _free_port()
    log = (tmp_path / "sandbox.log").open("wb")
    proc = subprocess.Popen(
        [str(SCRIPT), "sandbox", "maximo", "--port", str(port), "--size", "120",
         "--apikey", APIKEY],
        env=_env(tmp_path), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"sandbox exited: {(tmp_path / 'sandbox.log').read_text()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                pytest.fail("the Maximo sandbox did not listen within 60 s")
            time.sleep(0.2)
        yield port
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _connections_file(tmp_path: Path) -> Path:
    path = tmp_path / "connections.json"
    path.write_text(json.dumps([{"id": "acme-mx", "customer": "acme", "system": "maximo",
                                 "airflow_conn_id": "mw_acme_mx"}]))  # fmt: skip
    return path


def _source_conn(port: int, apikey: str = APIKEY) -> str:
    return json.dumps({"conn_type": "http", "host": "127.0.0.1", "port": port, "password": apikey})


def test_help_lists_every_command_and_each_has_its_own(tmp_path: Path) -> None:
    env = _env(tmp_path)
    out = millwright(env, "--help")
    assert out.returncode == 0, out.stderr
    listed = out.stdout.split("Commands:")[1].split()
    for command in COMMANDS:
        assert command in listed
        sub = millwright(env, command, "--help")
        assert sub.returncode == 0, sub.stderr
        assert sub.stdout.startswith(f"Usage: millwright {command} ")
    sandbox_help = millwright(env, "sandbox", "maximo", "--help")  # the sandbox's own options
    assert sandbox_help.returncode == 0 and "--apikey" in sandbox_help.stdout


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    env = _env(tmp_path)
    missing = millwright(env, "sync")
    assert missing.returncode == 2 and "Missing argument 'CONNECTION'" in missing.stderr
    unknown = millwright(env, "sandbox", "nosuch")
    assert unknown.returncode == 2 and "no sandbox for 'nosuch'" in unknown.stderr
    assert "maximo" in unknown.stderr


def test_sync_loads_a_sandbox_once_data_on_stdout_store_on_stderr(
    tmp_path: Path, maximo: int
) -> None:
    from include.store import Store

    config = _connections_file(tmp_path)
    env = _env(tmp_path, AIRFLOW_CONN_MW_ACME_MX=_source_conn(maximo))
    first = millwright(env, "sync", "acme-mx", "--config", str(config))
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)  # the whole of stdout is the JSON summary: no chatter
    wo = summary["entities"]["work-orders"]
    assert summary["connection"] == "acme-mx" and wo["full"] is True
    assert wo["read"] == wo["inserted"] == 120
    db = tmp_path / "home" / "store.db"
    assert f"store: sqlite:///{db} (from the default $MILLWRIGHT_HOME/store.db)" in first.stderr
    assert "alembic" not in first.stderr.lower() and "Context impl" not in first.stderr
    store = Store(f"sqlite:///{db}")
    try:
        assert store.count("acme-mx", "work-orders") == 120
        assert store.get_cursor("acme-mx", "work-orders") is not None
    finally:
        store.close()
    assert not any((tmp_path / "home" / "staging").rglob("*.jsonl*"))  # staging removed

    again = millwright(env, "sync", "acme-mx", "--config", str(config), "-e", "work-orders")
    assert again.returncode == 0, again.stderr
    incremental = json.loads(again.stdout)
    assert list(incremental["entities"]) == ["work-orders"]
    wo = incremental["entities"]["work-orders"]
    assert wo["full"] is False and wo["inserted"] == 0 and wo["window"]["start"] is not None


def test_sync_failures_name_what_is_wrong(tmp_path: Path, maximo: int) -> None:
    config = _connections_file(tmp_path)
    bad_key = millwright(
        _env(tmp_path, AIRFLOW_CONN_MW_ACME_MX=_source_conn(maximo, "wrong")),
        "sync", "acme-mx", "--config", str(config), "-e", "sites",
    )  # fmt: skip
    assert bad_key.returncode == 1
    assert "sites failed" in bad_key.stderr and "401" in bad_key.stderr
    assert json.loads(bad_key.stdout)["entities"]["sites"]["error"]
    no_conn = millwright(_env(tmp_path), "sync", "acme-mx", "--config", str(config))
    assert no_conn.returncode == 1 and no_conn.stdout == ""
    assert "Airflow Connection 'mw_acme_mx' not found" in no_conn.stderr
    not_there = millwright(_env(tmp_path), "sync", "acme-nope", "--config", str(config))
    assert not_there.returncode == 1
    assert "connection 'acme-nope' is not in file" in not_there.stderr and "acme-mx" in (
        not_there.stderr
    )
    bad_entity = millwright(_env(tmp_path), "sync", "acme-mx", "--config", str(config), "-e", "x")
    assert bad_entity.returncode == 2 and "does not sync x" in bad_entity.stderr


def test_store_discovery_says_where_and_hides_the_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://mw:s3cr3t-pw@127.0.0.1:1/millwright"  # nothing listens on port 1
    env = _env(tmp_path, MILLWRIGHT_STORE_URL=url)
    out = millwright(env, "quarantine", "list", "--connection", "acme-mx")
    assert out.returncode == 1 and out.stdout == ""
    assert "store: postgresql+psycopg://mw:***@127.0.0.1:1/millwright (from environment " in (
        out.stderr
    )
    assert "s3cr3t-pw" not in out.stderr

    db = tmp_path / "from-airflow.db"
    conn = json.dumps({"conn_type": "sqlite", "host": str(db)})
    out = millwright(_env(tmp_path, AIRFLOW_CONN_MILLWRIGHT_STORE=conn),
                     "quarantine", "list", "--connection", "acme-mx")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""  # no quarantined records: no data, and nothing else either
    assert f"store: sqlite:///{db} (from Airflow Connection millwright_store)" in out.stderr
    assert db.exists()


def test_validate_config_good_and_bad_files(tmp_path: Path) -> None:
    env = _env(tmp_path)
    good = millwright(env, "validate-config", str(ROOT / "docs/examples/demo-connections.json"))
    assert good.returncode == 0, good.stderr
    assert "ok    acme-maximo-us (acme, maximo) -> DAG sync__acme-maximo-us" in good.stdout
    bad_file = tmp_path / "bad.json"
    bad_file.write_text(json.dumps([
        {"id": "ok-one", "customer": "acme", "system": "maximo", "airflow_conn_id": "c"},
        {"id": "bad-one", "customer": "acme", "system": "maximo", "airflow_conn_id": "c",
         "schedule": "every tuesday"},
    ]))  # fmt: skip
    bad = millwright(env, "validate-config", str(bad_file))
    assert bad.returncode == 1
    assert "ok    ok-one" in bad.stdout and "1 valid, 1 invalid" in bad.stdout
    assert "bad-one" in bad.stderr and "schedule" in bad.stderr
    (tmp_path / "broken.json").write_text("[{")
    broken = millwright(env, "validate-config", str(tmp_path / "broken.json"))
    assert broken.returncode == 1 and "not valid JSON" in broken.stderr
    missing = millwright(env, "validate-config", str(tmp_path / "nowhere.json"))
    assert missing.returncode == 1 and "cannot read" in missing.stderr


def test_connections_wraps_the_lifecycle(tmp_path: Path) -> None:
    env = _env(tmp_path, MILLWRIGHT_STORE_URL=f"sqlite:///{tmp_path / 's.db'}")
    offline = ["connections", "--offline", str(tmp_path / "af.json")]
    out = millwright(env, *offline, "pool-set", "acme", "3")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["pool"] == 3
    assert "from environment variable MILLWRIGHT_STORE_URL" in out.stderr
    refused = millwright(env, *offline, "show", "acme-nope")
    assert refused.returncode == 1 and "acme-nope" in refused.stderr and refused.stdout == ""


@pytest.mark.airflow
def test_sync_reads_the_variable_and_connection_from_airflows_metadata_db(
    tmp_path: Path, maximo: int
) -> None:
    """Without --config: the Variable and the source's Connection come from the metadata DB of
    the Airflow on this host (AIRFLOW_HOME), as `airflow variables get` would read them."""
    env = _env(tmp_path)
    airflow = Path(sys.executable).with_name("airflow")

    def run(*args: str) -> None:
        out = subprocess.run([str(airflow), *args], env=env, capture_output=True, text=True,
                             timeout=300)  # fmt: skip
        assert out.returncode == 0, out.stderr[-2000:]

    run("db", "migrate")
    run("variables", "set", "millwright_connections", _connections_file(tmp_path).read_text())
    run("connections", "add", "mw_acme_mx", "--conn-uri",
        f"http://:{APIKEY}@127.0.0.1:{maximo}")  # fmt: skip
    out = millwright(env, "sync", "acme-mx", "-e", "assets")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["entities"]["assets"]["inserted"] > 0
    assert "airflow: Airflow metadata DB sqlite:///" in out.stderr
    assert "from Airflow Variable millwright_connections (Airflow)" in out.stderr


def test_api_serve_answers_on_the_discovered_store(tmp_path: Path) -> None:
    import requests

    port = _free_port()
    db = tmp_path / "api.db"
    proc = subprocess.Popen(
        [str(SCRIPT), "api", "serve", "--port", str(port), "--read-only"],
        env=_env(tmp_path, MILLWRIGHT_STORE_URL=f"sqlite:///{db}"), cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline, status = time.monotonic() + 90, None
        while status is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                status = requests.get(f"http://127.0.0.1:{port}/api/eam/work-orders", timeout=5)
            except requests.ConnectionError:
                time.sleep(0.5)
        assert status is not None, "the API did not answer"
        assert status.status_code == 401  # no token: the app's own authentication
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert out == ""
    assert f"store: sqlite:///{db} (from environment variable MILLWRIGHT_STORE_URL)" in err
