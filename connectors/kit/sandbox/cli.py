"""The command line every sandbox shares: ``python -m connectors.<system>.sandbox [flags]``.

Common flags (every system): ``--port`` (0: a free one, printed), ``--host``, ``--seed``, ``--size``,
``--data`` (repeatable: ``ENTITY=FILE`` or a directory of ``<entity>.json``; ``--data default`` serves
the system's own ``sandbox_data/``), ``--api-key`` (alias ``--apikey``: the secret the sandbox
accepts; also the control endpoint's ``X-Sandbox-Key``), ``--fail-429``, ``--retry-after``,
``--fail-500``, ``--slow``, ``--slow-seconds``, ``--timeout``, ``--timeout-seconds``, ``--truncate``,
``--rpc-error``, ``--change-rate``. A system adds its own with ``parser.add_argument``.
`serve` starts it, prints ``<Title> sandbox on <url>...``, and stops on SIGTERM or Ctrl-C; a bad
flag or data file exits 2 with ``error: ...`` on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from connectors.kit.sandbox.faults import Faults


def parser(
    prog: str, description: str | None, api_key: str, port: int = 0,
    secret_flags: tuple[str, ...] = (),
) -> argparse.ArgumentParser:  # fmt: skip
    """The common flags; ``secret_flags`` are more names for ``--api-key`` (SAP: ``--password``)."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("--port", type=int, default=port, help="0: a free port (printed)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--size", type=int, default=1000, help="work orders; other entities scale")
    p.add_argument("--data", action="append", metavar="ENTITY=FILE|DIR",
                   help="serve records from files instead of generated ones (repeatable)")  # fmt: skip
    p.add_argument("--api-key", "--apikey", *secret_flags, dest="api_key", default=api_key,
                   help="the secret the sandbox accepts (and the control endpoint's key)")  # fmt: skip
    p.add_argument("--fail-429", type=float, default=0.0, help="rate 0..1 of 429s")
    p.add_argument("--retry-after", type=float, default=1.0, help="seconds in Retry-After")
    p.add_argument("--fail-500", type=float, default=0.0, help="rate 0..1 of 500s")
    p.add_argument("--slow", type=float, default=0.0, help="rate 0..1 of slow answers")
    p.add_argument("--slow-seconds", type=float, default=0.5)
    p.add_argument("--timeout", type=float, default=0.0,
                   help="rate 0..1 of requests held --timeout-seconds, then dropped unanswered")  # fmt: skip
    p.add_argument("--timeout-seconds", type=float, default=60.0)
    p.add_argument("--truncate", type=float, default=0.0, help="rate 0..1 of cut-off bodies")
    p.add_argument("--rpc-error", type=float, default=0.0,
                   help="rate 0..1 of protocol-level errors (an RPC throttling code)")  # fmt: skip
    p.add_argument("--change-rate", type=float, default=0.0, help="records changed per second")
    return p


def faults_of(a: argparse.Namespace) -> Faults:
    return Faults(a.seed, a.fail_429, a.fail_500, a.slow, a.truncate, a.slow_seconds,
                  a.retry_after, a.timeout, a.timeout_seconds, a.rpc_error)  # fmt: skip


def serve(start: Callable[[], tuple[str, Any]], banner: Callable[[str], str]) -> int:
    """Start (``start() -> (url, handle)``), print the banner, wait for SIGTERM/Ctrl-C, stop."""
    done = threading.Event()
    with contextlib.suppress(ValueError):  # not the main thread
        # before the banner: a SIGTERM right after it (a quick test) still stops cleanly
        signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        url, handle = start()
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    print(banner(url), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    handle.stop()
    return 0


def expand_data(args: list[str] | None, entities: dict[str, str], default_dir: Any) -> list[str]:
    """``--data`` values with unified entity names turned into the system's own names.

    ``entities`` maps a unified entity (``work-orders``) to the system's name for its files
    (``MXAPIWODETAIL``, ``/workorders``...). ``ENTITY=FILE`` becomes ``NATIVE=FILE``; a directory
    (or ``default``: the system's ``sandbox_data/``) becomes one ``NATIVE=FILE`` per
    ``<entity>.json`` in it; anything else passes through for the system to read."""
    from pathlib import Path

    out: list[str] = []
    for arg in args or ():
        path = Path(default_dir) if arg == "default" else Path(arg)
        if path.is_dir():
            files = sorted(path.glob("*.json"))
            unknown = [f.stem for f in files if f.stem not in entities]
            if unknown:
                raise ValueError(f"--data {path}: no entity named {', '.join(unknown)}; "
                                 f"known: {', '.join(entities)}")  # fmt: skip
            if not files:
                raise ValueError(f"--data {path}: no <entity>.json files in it")
            out += [f"{entities[f.stem]}={f}" for f in files]
            continue
        name, sep, file = arg.partition("=")
        out.append(f"{entities[name]}={file}" if sep and name in entities else arg)
    return out
