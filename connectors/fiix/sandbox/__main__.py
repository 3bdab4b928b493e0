"""``python -m connectors.fiix.sandbox --port PORT [options]``: run the Fiix sandbox."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading

from connectors.fiix.sandbox import DEFAULT_KEYS, Faults, start_sandbox


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m connectors.fiix.sandbox", description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--size", type=int, default=1000, help="number of work orders (others scale)")
    p.add_argument("--app-key", default=DEFAULT_KEYS[0])
    p.add_argument("--access-key", default=DEFAULT_KEYS[1])
    p.add_argument("--secret-key", default=DEFAULT_KEYS[2], help="the HMAC key (never logged)")
    p.add_argument("--timezone", default="UTC", help="the tenant's zone (date filter parameters)")
    p.add_argument("--rate-limit", type=int, default=100_000, help="requests per window")
    p.add_argument("--rate-window", type=float, default=60.0, help="window length, seconds")
    p.add_argument("--throttle", type=float, default=0.0, help="rate of injected code-1100 answers")
    p.add_argument("--throttle-wait-ms", type=int, default=50, help="their wait advisory")
    p.add_argument("--fail-500", type=float, default=0.0, help="rate of injected 500s (0..1)")
    p.add_argument("--slow", type=float, default=0.0, help="rate of slow answers (0..1)")
    p.add_argument("--slow-seconds", type=float, default=0.5)
    p.add_argument("--truncate", type=float, default=0.0, help="rate of cut-off bodies (0..1)")
    a = p.parse_args(argv)
    faults = Faults(fail_500=a.fail_500, truncate=a.truncate, slow=a.slow,
                    slow_seconds=a.slow_seconds, throttle=a.throttle,
                    throttle_wait_ms=a.throttle_wait_ms, seed=a.seed)  # fmt: skip
    try:
        url, handle = start_sandbox(
            port=a.port, host=a.host, seed=a.seed, size=a.size,
            keys=(a.app_key, a.access_key, a.secret_key), timezone=a.timezone,
            rate_limit=a.rate_limit, rate_window=a.rate_window, faults=faults,
        )  # fmt: skip
    except (OSError, ValueError) as exc:
        p.error(str(exc))
    print(f"Fiix sandbox on {url}/api/ (seed {a.seed}, {a.size} work orders)", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    handle.stop()


if __name__ == "__main__":
    main()
