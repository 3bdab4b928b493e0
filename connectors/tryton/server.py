"""A real Tryton 8.2 server on SQLite, for the demo and the tests.

    python -m connectors.tryton.server setup --dir DIR --db NAME [--admin-password PW]
    python -m connectors.tryton.server serve --dir DIR --db NAME --port PORT
    python -m connectors.tryton.server seed  --url URL --db NAME --password PW [--parts N]

``setup`` runs ``trytond-admin`` once (~15-50 s) into a template cached in DIR
(``_template_<hash>.sqlite``) and copies it to ``DIR/NAME.sqlite``; later set-ups copy in well
under a second. `start_tryton` does set-up + serve (+ seed, cached as another template) and
returns a handle whose ``stop()`` ends the server. The seeding lives in `connectors.tryton.seed`.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

from connectors.tryton.seed import SEED_VERSION

MODULES = (
    "company", "party", "product", "stock", "purchase", "sale", "production", "production_work",
)  # fmt: skip


def _bin(name: str) -> str:
    """A console script of this interpreter's environment (trytond, trytond-admin)."""
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found: pip install -r requirements-dev.txt")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(directory: Path, port: int, max_attempt: int = 5) -> Path:
    """``max_attempt``: failed logins per name before 429 (each failure sleeps up to 2**n s)."""
    conf = directory / f"trytond-{port}.conf"
    conf.write_text(
        "[database]\nuri = sqlite://\n"
        f"path = {directory}\nlist = True\n"
        f"[web]\nlisten = 127.0.0.1:{port}\n"
        f"[session]\nmax_attempt = {max_attempt}\n"
    )
    return conf


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    with open(directory / ".setup.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _tag(password: str, *extra: object) -> str:
    text = "|".join([*MODULES, password, *map(str, extra)])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def copy_db(src: Path, dst: Path) -> None:
    """A consistent copy of a SQLite database (safe while a server uses ``src``)."""
    tmp = dst.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    with (
        contextlib.closing(sqlite3.connect(src)) as a,
        contextlib.closing(sqlite3.connect(tmp)) as b,
    ):
        a.backup(b)
    tmp.replace(dst)


def build_template(directory: Path, password: str) -> Path:
    """The database with the modules activated, built once by trytond-admin and cached."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"_template_{_tag(password)}"
    template = directory / f"{name}.sqlite"
    with _locked(directory):
        if template.exists():
            return template
        work = directory / f"_building_{os.getpid()}"
        work.mkdir(exist_ok=True)
        (work / f"{name}.sqlite").touch()
        conf = write_config(work, 0)
        passfile = work / "admin-password"
        passfile.write_text(password + "\n")
        passfile.chmod(0o600)
        cmd = [_bin("trytond-admin"), "-c", str(conf), "-d", name, "-u", *MODULES]
        cmd.append("--activate-dependencies")
        env = {**os.environ, "TRYTONPASSFILE": str(passfile)}
        # An empty answer to the "email for admin" prompt: no email.
        run = subprocess.run(cmd, input="\n", env=env, capture_output=True, text=True)
        if run.returncode != 0:
            shutil.rmtree(work, ignore_errors=True)
            raise RuntimeError(f"trytond-admin failed ({run.returncode}): {run.stderr[-2000:]}")
        (work / f"{name}.sqlite").replace(template)
        shutil.rmtree(work, ignore_errors=True)
        return template


def setup(directory: Path, db: str, password: str = "admin", fresh: bool = False) -> Path:
    """``DIR/DB.sqlite`` with the modules activated; kept as is when it exists (unless fresh)."""
    directory = Path(directory).resolve()
    target = directory / f"{db}.sqlite"
    if target.exists() and not fresh:
        return target
    copy_db(build_template(directory, password), target)
    return target


def serve_command(directory: Path, db: str, port: int, max_attempt: int = 5) -> list[str]:
    conf = write_config(Path(directory).resolve(), port, max_attempt)
    return [_bin("trytond"), "-c", str(conf), "-d", db]


def wait_ready(
    url: str, db: str, timeout: float = 60.0, proc: subprocess.Popen | None = None
) -> None:
    """Until the database's RPC answers (a version call needs no login)."""
    deadline = time.monotonic() + timeout
    body = {"id": 0, "method": "common.server.version", "params": []}
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"trytond exited with {proc.returncode} while starting")
        with contextlib.suppress(requests.RequestException):
            if requests.post(f"{url}/rpc/", json=body, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"trytond at {url} not ready after {timeout:.0f}s")


@dataclass
class TrytonHandle:
    url: str
    db: str
    password: str
    process: subprocess.Popen
    user: str = "admin"
    timings: dict[str, float] = field(default_factory=dict)
    config: Path | None = None  # the per-port trytond config, removed on stop
    directory: Path | None = None  # where the database file and its logs live

    def stop(self, drop: bool = False) -> None:
        """Stop trytond; with ``drop`` also delete this database's files and logs (a throwaway
        copy of the cached template, as tests and benchmarks use)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.config is not None:
            self.config.unlink(missing_ok=True)
        if drop and self.directory is not None:
            for suffix in (".sqlite", ".sqlite-wal", ".sqlite-shm"):
                (self.directory / f"{self.db}{suffix}").unlink(missing_ok=True)
            for leftover in self.directory.glob(f"{self.db}-*.log"):
                leftover.unlink(missing_ok=True)


def start_tryton(
    directory: str | Path,
    db: str,
    port: int = 0,
    password: str = "admin",
    parts: int | None = None,
    fresh: bool = False,
    max_attempt: int = 5,
) -> TrytonHandle:
    """Set up (idempotent, cached), start trytond in the background and optionally seed it.

    With ``parts`` the seeded database is cached as a template too, so the next fresh start of
    the same size is a file copy. ``handle.timings`` holds the seconds each step took.
    """
    directory = Path(directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    target = directory / f"{db}.sqlite"
    seeded = directory / f"_seeded_{_tag(password, parts, SEED_VERSION)}.sqlite" if parts else None
    need_seed = False
    if fresh or not target.exists():
        if seeded is not None and seeded.exists():
            copy_db(seeded, target)
        else:
            setup(directory, db, password, fresh=True)
            need_seed = seeded is not None
    timings["setup"] = time.perf_counter() - t0
    port = port or free_port()
    log = open(directory / f"{db}-{port}.log", "ab")  # noqa: SIM115 - owned by the process
    proc = subprocess.Popen(
        serve_command(directory, db, port, max_attempt), stdout=log, stderr=subprocess.STDOUT
    )
    log.close()
    url = f"http://127.0.0.1:{port}"
    conf = directory / f"trytond-{port}.conf"
    handle = TrytonHandle(
        url, db, password, proc, timings=timings, config=conf, directory=directory
    )
    try:
        t1 = time.perf_counter()
        wait_ready(url, db, proc=proc)
        timings["start"] = time.perf_counter() - t1
        if need_seed and seeded is not None:
            from connectors.tryton.seed import seed

            t2 = time.perf_counter()
            seed(url, db, password, parts=parts or 0)
            timings["seed"] = time.perf_counter() - t2
            with _locked(directory):
                copy_db(target, seeded)
    except BaseException:
        handle.stop()
        raise
    return handle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connectors.tryton.server")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("setup", help="create DIR/DB.sqlite with the modules activated")
    p.add_argument("--dir", required=True, type=Path)
    p.add_argument("--db", required=True)
    p.add_argument("--admin-password", default="admin")
    p.add_argument("--fresh", action="store_true", help="replace an existing database")
    p = sub.add_parser("serve", help="run trytond in the foreground")
    p.add_argument("--dir", required=True, type=Path)
    p.add_argument("--db", required=True)
    p.add_argument("--port", required=True, type=int)
    p = sub.add_parser("seed", help="seed demo data through JSON-RPC")
    p.add_argument("--url", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--user", default="admin")
    p.add_argument("--parts", type=int, default=200)
    args = parser.parse_args(argv)
    if args.cmd == "setup":
        t0 = time.perf_counter()
        path = setup(args.dir, args.db, args.admin_password, fresh=args.fresh)
        print(f"{path} ready in {time.perf_counter() - t0:.1f}s")
    elif args.cmd == "serve":
        if not (args.dir / f"{args.db}.sqlite").exists():
            parser.error(f"no database {args.db!r} in {args.dir}: run setup first")
        cmd = serve_command(args.dir, args.db, args.port)
        os.execv(cmd[0], cmd)
    else:
        from connectors.tryton.seed import seed

        t0 = time.perf_counter()
        counts = seed(args.url, args.db, args.password, parts=args.parts, user=args.user)
        print(f"seeded {counts} in {time.perf_counter() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
