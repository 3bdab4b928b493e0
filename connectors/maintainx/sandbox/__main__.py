"""``python -m connectors.maintainx.sandbox --port PORT [options]``: run the MaintainX sandbox."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading

from connectors.maintainx.sandbox import DEFAULT_API_KEY, start_sandbox


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m connectors.maintainx.sandbox", description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--size", type=int, default=1000, help="number of work orders (others scale)")
    p.add_argument("--data", help="JSON file {collectionKey: [records]} replacing generated data")
    p.add_argument("--api-key", default=DEFAULT_API_KEY)
    p.add_argument("--rate-limit", type=int, default=100_000, help="requests per window")
    p.add_argument("--rate-window", type=float, default=60.0, help="window length, seconds")
    p.add_argument("--fail-429", type=float, default=0.0, help="rate of injected 429s (0..1)")
    p.add_argument("--fail-500", type=float, default=0.0, help="rate of injected 500s (0..1)")
    p.add_argument("--slow", type=float, default=0.0, help="rate of slow responses (0..1)")
    p.add_argument("--slow-seconds", type=float, default=0.5)
    p.add_argument("--truncate", type=float, default=0.0, help="rate of cut-off bodies (0..1)")
    p.add_argument("--change-rate", type=float, default=0.0, help="record changes per second")
    a = p.parse_args(argv)
    try:
        url, handle = start_sandbox(
            port=a.port, host=a.host, seed=a.seed, size=a.size, data=a.data, api_key=a.api_key,
            rate_limit=a.rate_limit, rate_window=a.rate_window, fail_429=a.fail_429,
            fail_500=a.fail_500, slow=a.slow, slow_seconds=a.slow_seconds, truncate=a.truncate,
            change_rate=a.change_rate,
        )  # fmt: skip
    except (OSError, ValueError) as exc:
        p.error(str(exc))
    print(f"MaintainX sandbox on {url}/v1 (seed {a.seed}, {a.size} work orders)", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    handle.stop()


if __name__ == "__main__":
    main()
