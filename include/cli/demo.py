"""``make demo``: sandboxes + Airflow standalone + one synced DAG per demo connection.

``python -m include.cli.demo start|stop|status``. Everything lives inside the checkout:
``.airflow/`` (AIRFLOW_HOME: metadata DB, logs, generated secrets) and ``.demo/`` (MILLWRIGHT_HOME:
the store, staging, sandbox data, pids and logs). Both are git-ignored; ``make clean`` removes them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from include.config import naming

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_HOME = ROOT / ".airflow"
DEMO_HOME = ROOT / ".demo"
PIDS = DEMO_HOME / "pids"
LOGS = DEMO_HOME / "logs"
POOL = "millwright_store_writer"
DEMO_SIZE = 2000  # work orders per sandbox instance
JWT_SECRET_BYTES = 64
DEFAULT_API_PORT = 8080  # taken: a free port instead (as for the log servers' 8793 and 8794)
DEFAULT_LOG_PORTS = (8793, 8794)  # Airflow's worker and triggerer log servers


@dataclass(frozen=True)
class DemoSource:
    """One demo connection and the sandbox (or real server) it talks to."""

    id: str
    customer: str
    system: str
    seed: int
    schedule: str = "*/30 * * * *"
    options: dict[str, Any] = field(default_factory=dict)
    secret: str = "demo-secret"  # the sandbox accepts it; stored only in the Airflow Connection
    custom_fields: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return DEMO_HOME / "sources" / self.id

    def command(self, port: int) -> list[str]:
        """How to start this source's server (a hook per system)."""
        py, mod = sys.executable, f"connectors.{self.system}.sandbox"
        common = ["--port", str(port), "--seed", str(self.seed), "--size", str(DEMO_SIZE)]
        if self.system == "maximo":
            return [py, "-m", mod, *common, "--apikey", self.secret]
        if self.system == "maintainx":
            return [py, "-m", mod, *common, "--api-key", self.secret]
        if self.system == "sap_s4hana":
            return [py, "-m", mod, *common, "--user", "demo", "--password", self.secret]
        if self.system == "limble":  # client id "demo", the secret as --api-key
            return [py, "-m", mod, *common, "--user", "demo", "--api-key", self.secret]
        if self.system == "fiix":  # application and access keys; the secret key signs
            return [py, "-m", mod, *common, "--app-key", "demo-app", "--access-key", "demo",
                    "--api-key", self.secret]  # fmt: skip
        if self.system == "tryton":  # the real server, set up by `prepare`
            return [py, "-m", "connectors.tryton.server", "serve", "--dir", str(self.data_dir),
                    "--db", "demo", "--port", str(port)]  # fmt: skip
        raise NotImplementedError(f"demo: no sandbox command for {self.system}")

    def prepare(self) -> subprocess.Popen | None:
        """A slow one-time step, started early (Tryton: create the database, ~15-50 s)."""
        if self.system != "tryton" or (self.data_dir / "demo.sqlite").exists():
            return None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        LOGS.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "connectors.tryton.server", "setup", "--dir",
               str(self.data_dir), "--db", "demo", "--admin-password", self.secret]  # fmt: skip
        log = open(LOGS / f"prepare-{self.id}.log", "ab")  # noqa: SIM115 - handed to the child
        return subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

    def after_start(self, port: int) -> None:
        """Once the server answers (Tryton: seed demo data once)."""
        marker = self.data_dir / "seeded"
        if self.system != "tryton" or marker.exists():
            return
        cmd = [sys.executable, "-m", "connectors.tryton.server", "seed", "--url",
               f"http://127.0.0.1:{port}", "--db", "demo", "--password", self.secret,
               "--parts", str(max(50, DEMO_SIZE // 10))]  # fmt: skip
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        marker.touch()

    def connection_args(self, port: int) -> list[str]:
        """``airflow connections add`` arguments: the system's connection type
        (``connectors/<system>/connection.yaml``), the host and the secret the server expects."""
        args = ["--conn-type", f"millwright_{self.system}", "--conn-host", "127.0.0.1",
                "--conn-port", str(port)]  # fmt: skip
        if self.system in ("sap_s4hana", "limble", "fiix"):
            args += ["--conn-login", "demo"]
        if self.system == "fiix":
            args += ["--conn-extra", json.dumps({"app_key": "demo-app"})]
        if self.system == "tryton":
            args += ["--conn-login", "admin", "--conn-schema", str(self.options["database"])]
        return [*args, "--conn-password", self.secret]


SOURCES = [
    DemoSource(
        "acme-maximo-us",
        "acme",
        "maximo",
        seed=1,
        custom_fields={"work-orders": {"crew": "crewid"}},
    ),  # README's example
    DemoSource("acme-maximo-eu", "acme", "maximo", seed=2, options={}),
    DemoSource("globex-maximo", "globex", "maximo", seed=3),
    DemoSource("acme-sap", "acme", "sap_s4hana", seed=4),
    DemoSource("globex-maintainx", "globex", "maintainx", seed=5),
    DemoSource("globex-tryton", "globex", "tryton", seed=6, options={"database": "demo"}),
    DemoSource("acme-limble", "acme", "limble", seed=7),
    DemoSource("globex-fiix", "globex", "fiix", seed=8),
]


def available_sources() -> list[DemoSource]:
    """The demo sources whose connector (and sandbox/server module) has landed in this checkout."""
    out = []
    for src in SOURCES:
        pkg = ROOT / "connectors" / src.system
        has_server = (pkg / "sandbox").is_dir() or (pkg / "sandbox.py").exists()
        has_server = has_server or (src.system == "tryton" and (pkg / "server.py").exists())
        if (pkg / "__init__.py").exists() and has_server:
            out.append(src)
    return out


# ---------------------------------------------------------------- helpers


def free_port(preferred: int | None = None, avoid: int | None = None) -> int:
    """``preferred`` when nothing listens there (on any address), else a free port (never
    ``avoid``: one picked for another server a moment ago, not bound yet)."""
    if preferred:
        with socket.socket() as s:
            try:
                s.bind(("0.0.0.0", preferred))
                return preferred
            except OSError:
                pass
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port != avoid:
            return port


def wait_port(port: int, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode}; see {LOGS}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise TimeoutError(f"{what} did not listen on port {port} within {timeout:.0f}s")


def _secrets(airflow_home: Path) -> dict[str, str]:
    """The demo's secrets, generated once and kept in AIRFLOW_HOME (missing ones are added)."""
    path = airflow_home / "millwright-demo-secrets.json"
    values = json.loads(path.read_text()) if path.exists() else {}
    if len(values.get("jwt_secret", "")) < JWT_SECRET_BYTES:  # an older demo's short secret
        values.pop("jwt_secret", None)
    wanted = {
        # Airflow signs its JWTs with HS512: a key shorter than 64 bytes is insecure (PyJWT warns)
        "jwt_secret": lambda: secrets.token_urlsafe(JWT_SECRET_BYTES),
        "secret_key": lambda: secrets.token_urlsafe(32),
        "admin_password": lambda: secrets.token_urlsafe(12),  # Airflow login (SimpleAuthManager)
        "admin_token": lambda: "mwadmin_" + secrets.token_urlsafe(32),  # Millwright's admin API
    }
    missing = {k: make() for k, make in wanted.items() if k not in values}
    if missing:
        values.update(missing)
        airflow_home.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
        path.chmod(0o600)
    return values


def airflow_env(
    api_port: int,
    airflow_home: Path = AIRFLOW_HOME,
    millwright_home: Path = DEMO_HOME,
    *,
    host: str = "127.0.0.1",
    log_ports: tuple[int, int] | None = None,
) -> dict[str, str]:
    """Environment for every Airflow process of the demo (config via env, nothing global). The
    api-server listens on ``host`` (loopback by default); the worker and triggerer log servers on
    ``log_ports`` (default: Airflow's 8793 and 8794 when free, else free ports, so a second
    Airflow on the host does not collide)."""
    s = _secrets(airflow_home)
    worker_log, trigger_log = log_ports or (
        free_port(DEFAULT_LOG_PORTS[0]),
        free_port(DEFAULT_LOG_PORTS[1], avoid=DEFAULT_LOG_PORTS[0]),
    )
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "localhost") else host  # how to reach it
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(airflow_home),
            "MILLWRIGHT_HOME": str(millwright_home),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
            "AIRFLOW__API_AUTH__JWT_SECRET": s["jwt_secret"],
            "AIRFLOW__API__SECRET_KEY": s["secret_key"],
            "AIRFLOW__API__HOST": host,
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__BASE_URL": f"http://{local}:{api_port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{local}:{api_port}/execution/",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(worker_log),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(trigger_log),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "20",
            # the Test button of Airflow's Connection form and POST /api/v2/connections/test
            # (off by default in Airflow 3; the admin API's reconnect uses it): docs/CONNECTIONS.md
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            # the plugin's admin API: its own token, and how it reaches Airflow's REST API
            "MILLWRIGHT_ADMIN_TOKEN": s["admin_token"],
            "MILLWRIGHT_AIRFLOW_URL": f"http://{local}:{api_port}",
            "MILLWRIGHT_AIRFLOW_USER": "admin",
            "MILLWRIGHT_AIRFLOW_PASSWORD": s["admin_password"],
        }
    )
    _write_password_file(airflow_home, s["admin_password"])
    env.pop("MILLWRIGHT_STORE_URL", None)  # the demo's store is SQLite under .demo/
    return env


def _write_password_file(airflow_home: Path, password: str) -> None:
    """Pre-seed SimpleAuthManager's password file: it keeps existing users' passwords, so the
    admin password is known before Airflow starts (the plugin logs in with it)."""
    path = airflow_home / "simple_auth_manager_passwords.json.generated"
    if not path.exists():
        path.write_text(json.dumps({"admin": password}) + "\n")
        path.chmod(0o600)


def airflow(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run(["airflow", *args], env=env, capture_output=True, text=True, check=False)
    if check and out.returncode != 0:
        raise RuntimeError(f"airflow {args[0]} {args[1] if len(args) > 1 else ''} failed:\n"
                           f"{out.stderr[-2000:]}")  # fmt: skip
    return out


def spawn(name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
    LOGS.mkdir(parents=True, exist_ok=True)
    PIDS.mkdir(parents=True, exist_ok=True)
    log_path = AIRFLOW_HOME / "standalone.log" if name == "airflow" else LOGS / f"{name}.log"
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    (PIDS / f"{name}.pid").write_text(str(proc.pid))
    return proc


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running() -> dict[str, int]:
    out = {}
    for path in sorted(PIDS.glob("*.pid")) if PIDS.exists() else []:
        pid = int(path.read_text())
        if _alive(pid):
            out[path.stem] = pid
    return out


# ---------------------------------------------------------------- REST


def admin_password(airflow_home: Path = AIRFLOW_HOME) -> str:
    """The admin password of SimpleAuthManager (pre-seeded by the demo, see `_write_password_file`)."""
    pw_file = airflow_home / "simple_auth_manager_passwords.json.generated"
    return json.loads(pw_file.read_text())["admin"]


def _token(base: str, airflow_home: Path) -> str:
    password = admin_password(airflow_home)
    r = requests.post(f"{base}/auth/token", json={"username": "admin", "password": password},
                      timeout=30)  # fmt: skip
    r.raise_for_status()
    return r.json()["access_token"]


def wait_healthy(base: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"airflow standalone exited with code {proc.returncode}")
        try:
            h = requests.get(f"{base}/api/v2/monitor/health", timeout=5).json()
            states = {k: (v or {}).get("status") for k, v in h.items()}
            last = str(states)
            if states.get("scheduler") == "healthy" and states.get("dag_processor") == "healthy":
                return
        except (requests.RequestException, ValueError) as exc:
            last = str(exc)
        time.sleep(2)
    raise TimeoutError(f"Airflow not healthy after {timeout:.0f}s ({last})")


@contextlib.contextmanager
def airflow_process(
    env: dict[str, str], log_path: Path, args: list[str], ready: Any
) -> Iterator[subprocess.Popen]:
    """``airflow <args>`` with ``env`` in its own process group, output to ``log_path``;
    ``ready(proc)`` returns once it answers (or raises); stopped with its children afterwards."""
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen(["airflow", *args], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        ready(proc)
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()


def standalone(
    env: dict[str, str], log_path: Path, url: str, timeout: float
) -> contextlib.AbstractContextManager[subprocess.Popen]:
    """`airflow standalone`, healthy at ``url`` before the body runs (the real-Airflow tests
    share one per module; bench/webhooks_lag.py uses it too)."""
    return airflow_process(
        env, log_path, ["standalone"], lambda proc: wait_healthy(url, timeout, proc)
    )


def wait_for(what: str, check: Any, timeout: float, every: float = 2.0) -> Any:
    """``check()``'s first truthy value, polled every ``every`` s; TimeoutError after
    ``timeout`` s naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


class Api:
    """Airflow's REST API with a JWT from SimpleAuthManager (admin)."""

    def __init__(self, base: str, airflow_home: Path = AIRFLOW_HOME) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {_token(base, airflow_home)}"

    def call(self, method: str, path: str, ok: tuple[int, ...] = (), **kw: Any) -> Any:
        """One REST call; retried on timeouts and 5xx (SQLite's "database is locked" under load),
        so only idempotent calls go through here. Statuses in ``ok`` are not errors."""
        for attempt in range(6):
            try:
                r = self.session.request(method, f"{self.base}/api/v2{path}", timeout=60, **kw)
            except (requests.ConnectionError, requests.Timeout):
                if attempt == 5:
                    raise
            else:
                if r.status_code < 500 or attempt == 5:
                    break
            time.sleep(3)
        if r.status_code >= 400 and r.status_code not in ok:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:300]}")
        return r.json() if r.content else None


def wait_dags(api: Api, dag_ids: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    missing = set(dag_ids)
    while time.monotonic() < deadline:
        found = {d["dag_id"] for d in api.call("GET", "/dags?limit=100")["dags"]}
        missing = set(dag_ids) - found
        if not missing:
            return
        time.sleep(2)
    errors = api.call("GET", "/importErrors").get("import_errors", [])
    raise TimeoutError(f"DAGs not parsed after {timeout:.0f}s: {sorted(missing)}; "
                       f"import errors: {errors}")  # fmt: skip


def wait_runs(api: Api, runs: dict[str, str], timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        for dag_id, run_id in runs.items():
            states[dag_id] = api.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
        if all(s in ("success", "failed") for s in states.values()):
            break
        time.sleep(3)
    return states


# ---------------------------------------------------------------- commands


def start(
    wait: bool = True,
    size: int | None = None,
    port: int | None = None,
    host: str = "127.0.0.1",
    log_ports: tuple[int, int] | None = None,
) -> int:
    if running():
        print(f"The demo is already running ({', '.join(running())}); `make demo-stop` first.")
        return 1
    global DEMO_SIZE
    DEMO_SIZE = size or DEMO_SIZE
    sources = available_sources()
    skipped = [s.id for s in SOURCES if s not in sources]
    api_port = port or free_port(DEFAULT_API_PORT)
    env = airflow_env(api_port, host=host, log_ports=log_ports)
    ports = {src.id: free_port() for src in sources}
    preparing = {src.id: src.prepare() for src in sources}
    for src in sources:
        if preparing[src.id] is None:
            spawn(f"source-{src.id}", src.command(ports[src.id]), env)
    print(f"Sources starting: {', '.join(f'{k}:{v}' for k, v in ports.items())}")
    print("Preparing Airflow's metadata DB (.airflow/)...")
    airflow(env, "db", "migrate")
    for src in sources:
        proc = preparing[src.id]
        if proc is not None:
            print(f"Waiting for {src.id}'s set-up (log: .demo/logs/prepare-{src.id}.log)...")
            if proc.wait() != 0:
                raise RuntimeError(f"set-up of {src.id} failed; see .demo/logs/")
            spawn(f"source-{src.id}", src.command(ports[src.id]), env)
    for src in sources:
        conn_id = f"mw_{src.id.replace('-', '_')}"
        airflow(env, "connections", "delete", conn_id, check=False)
        airflow(env, "connections", "add", conn_id, *src.connection_args(ports[src.id]))
    # start now: no past interval to run at once; the demo triggers the first full sync itself
    start_date = time.strftime("%Y-%m-%dT%H:%M:00", time.gmtime())
    variable = [
        {"id": s.id, "customer": s.customer, "system": s.system, "schedule": s.schedule,
         "airflow_conn_id": f"mw_{s.id.replace('-', '_')}", "options": s.options,
         "start_date": start_date, "tags": ["demo"],
         **({"custom_fields": s.custom_fields} if s.custom_fields else {})}
        for s in sources
    ]  # fmt: skip
    airflow(env, "variables", "set", "millwright_connections", json.dumps(variable))
    airflow(env, "pools", "set", POOL, "1", "Millwright store writers (SQLite: one at a time)")
    _set_credit_pools({s.customer for s in sources})  # before the lifecycle DAG registers them
    for src in sources:
        wait_port(ports[src.id], 120, f"source {src.id}")
        src.after_start(ports[src.id])
    proc = spawn("airflow", ["airflow", "standalone"], env)
    base = env["MILLWRIGHT_AIRFLOW_URL"]
    print(f"Starting Airflow standalone on {base} (log: .airflow/standalone.log)...")
    wait_healthy(base, 240, proc)
    api = Api(base)
    dag_ids = [naming.dag_id(s.id) for s in sources]
    wait_dags(api, dag_ids, 180)
    runs = {}
    for dag_id in dag_ids:
        api.call("PATCH", f"/dags/{dag_id}?update_mask=is_paused", json={"is_paused": False})
        run_id = f"manual__first_sync_{int(time.time())}"  # fixed id: a retried POST is a 409
        body = {"dag_run_id": run_id, "logical_date": None}
        api.call("POST", f"/dags/{dag_id}/dagRuns", ok=(409,), json=body)
        runs[dag_id] = run_id
    print(f"Triggered a first full sync of {len(runs)} connections.")
    if wait:
        states = wait_runs(api, runs, 1200)
        for dag_id, state in states.items():
            print(f"  {dag_id}: {state}")
        _print_counts()
    _show_token(base)
    print(f"\nAirflow UI: {base}  login: admin / {admin_password()}")
    if skipped:
        print(f"Not in this demo yet (connector not in the checkout): {', '.join(skipped)}")
    print(
        "\nFor the millwright CLI (connections, quarantine, sync) against this demo:\n"
        + cli_exports(env)
    )
    print("Stop everything with `make demo-stop`.")
    return 0


CLI_ENV = (
    "AIRFLOW_HOME", "MILLWRIGHT_HOME", "MILLWRIGHT_AIRFLOW_URL", "MILLWRIGHT_AIRFLOW_USER",
    "MILLWRIGHT_AIRFLOW_PASSWORD", "MILLWRIGHT_ADMIN_TOKEN",
)  # fmt: skip


def cli_exports(env: dict[str, str]) -> str:
    """The ``export`` lines that point the CLI at the demo (its store, its Airflow)."""
    return "\n".join(f"  export {k}={shlex.quote(env[k])}" for k in CLI_ENV)


def _set_credit_pools(customers: set[str]) -> None:
    """Room for every demo connection: the lifecycle DAG registers (and charges) the entries the
    demo wrote to the Variable as soon as Airflow runs it."""
    from include.admin.airflow_adapter import MemoryAirflowAdapter
    from include.admin.lifecycle import Lifecycle
    from include.store import Store

    os.environ["MILLWRIGHT_HOME"] = str(DEMO_HOME)
    os.environ.pop("MILLWRIGHT_STORE_URL", None)
    store = Store.from_env()
    try:
        store.migrate()
        lifecycle = Lifecycle(store, MemoryAirflowAdapter())  # pools touch only the store
        for customer in sorted(customers):
            lifecycle.set_pool(customer, 40, "demo")
    finally:
        store.close()


def _show_token(base: str) -> None:
    """Through the unified API served by the plugin: the first token the lifecycle DAG issued
    to one demo connection (shown once), with a ``curl`` line to try it."""
    admin = {"Authorization": f"Bearer {_secrets(AIRFLOW_HOME)['admin_token']}"}
    api = f"{base}/millwright/api/system"
    first = available_sources()[0].id
    try:
        requests.post(f"{api}/reconcile", headers=admin, timeout=120).raise_for_status()
        r = requests.post(f"{api}/connections/{first}/token/claim", headers=admin, timeout=60)
        if r.status_code == 409:  # shown by an earlier demo run: another one
            r = requests.post(f"{api}/connections/{first}/token", headers=admin, timeout=60)
        r.raise_for_status()
        token = r.json()["data"]["token"]
    except (requests.RequestException, KeyError, ValueError) as exc:
        print(f"  (the unified API did not answer as expected: {exc})")
        return
    print(f"\nUnified API: {base}/millwright/api/eam/work-orders (dashboard: Admin > Millwright "
          f"connections)\n  admin token: {admin['Authorization'][7:]}\n"
          f"  token of {first} (shown once): {token}\n"
          f"  try: curl -H 'Authorization: Bearer {token}' "
          f"'{base}/millwright/api/eam/work-orders?per_page=2'")  # fmt: skip


def _print_counts() -> None:
    os.environ["MILLWRIGHT_HOME"] = str(DEMO_HOME)
    os.environ.pop("MILLWRIGHT_STORE_URL", None)
    from include.store import Store

    store = Store.from_env()
    try:
        from include.model import ENTITIES

        for src in available_sources():
            counts = {e: store.count(src.id, e) for e in ENTITIES}
            shown = ", ".join(f"{n} {e}" for e, n in counts.items() if n)
            print(f"  {src.id}: {shown or 'nothing'} in the store")
    except Exception as exc:  # the demo still runs; the counts are a courtesy
        print(f"  (store counts unavailable: {exc})")
    finally:
        store.close()


def stop() -> int:
    procs = running()
    for pid in procs.values():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)  # each child leads its own session/group
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(p) for p in procs.values()):
        time.sleep(0.5)
    for name, pid in procs.items():
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        (PIDS / f"{name}.pid").unlink(missing_ok=True)
    for path in PIDS.glob("*.pid") if PIDS.exists() else []:
        path.unlink()
    print(f"Stopped {len(procs)} process group(s): {', '.join(procs) or 'none running'}.")
    return 0


def status() -> int:
    procs = running()
    for name, pid in procs.items():
        print(f"{name}: pid {pid}")
    if not procs:
        print("The demo is not running.")
    return 0 if procs else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.cli.demo")
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--no-wait", action="store_true", help="do not wait for the first runs")
    parser.add_argument("--size", type=int, help=f"work orders per instance ({DEMO_SIZE})")
    parser.add_argument(
        "--port", type=int, help=f"Airflow's port ({DEFAULT_API_PORT}, else a free one)"
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address Airflow listens on (default 127.0.0.1: this host only)")  # fmt: skip
    parser.add_argument("--log-ports", type=int, nargs=2, metavar=("WORKER", "TRIGGERER"),
                        help="Airflow's log-server ports (8793 8794, else free ones)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.command == "start":
        try:
            log_ports = tuple(args.log_ports) if args.log_ports else None
            return start(
                wait=not args.no_wait, size=args.size, port=args.port, host=args.host,
                log_ports=log_ports,  # type: ignore[arg-type]
            )  # fmt: skip
        except Exception as exc:
            print(f"demo failed: {exc}\nStopping what was started.", file=sys.stderr)
            stop()
            return 1
    return stop() if args.command == "stop" else status()


if __name__ == "__main__":
    sys.exit(main())
