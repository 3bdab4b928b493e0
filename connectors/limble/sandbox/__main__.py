"""``python -m connectors.limble.sandbox --port PORT [options]``: run the Limble sandbox."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading

from connectors.limble.sandbox import Faults, start_sandbox


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m connectors.limble.sandbox", description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--size", type=int, default=1000, help="number of tasks (others scale)")
    p.add_argument("--data", help="JSON file {collection: [records]} instead of generated data")
    p.add_argument("--user", default="sandbox-client", help="client id (Basic auth user)")
    p.add_argument("--password", default="sandbox-secret", help="client secret")
    p.add_argument("--rate-limit", type=int, default=100_000, help="calls per minute")
    p.add_argument("--fail-429", type=float, default=0.0, help="rate of injected 429s (0..1)")
    p.add_argument("--fail-500", type=float, default=0.0, help="rate of injected 500s (0..1)")
    p.add_argument("--slow", type=float, default=0.0, help="rate of slow answers (0..1)")
    p.add_argument("--slow-seconds", type=float, default=0.5)
    p.add_argument("--truncate", type=float, default=0.0, help="rate of cut-off bodies (0..1)")
    a = p.parse_args(argv)
    faults = Faults(fail_429=a.fail_429, fail_500=a.fail_500, truncate=a.truncate, slow=a.slow,
                    slow_seconds=a.slow_seconds, seed=a.seed)  # fmt: skip
    try:
        url, handle = start_sandbox(port=a.port, host=a.host, seed=a.seed, size=a.size,
                                    client_id=a.user, secret=a.password, data=a.data,
                                    rate_limit=a.rate_limit, faults=faults)  # fmt: skip
    except (OSError, ValueError) as exc:
        p.error(str(exc))
    print(f"Limble sandbox on {url}/v2 (seed {a.seed}, {a.size} tasks)", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    handle.stop()


if __name__ == "__main__":
    main()
