"""``python -m connectors.maximo.sandbox --port PORT [--data OS=FILE ...] [...]``: serve until interrupted.

``--data mxapiwodetail=wo.json --data mxapiasset=assets.json`` serves those files' records (plain lists or
responses captured from Maximo) instead of generated ones; see `connectors.maximo.sandbox.datafile`.
"""

from __future__ import annotations

import argparse
import sys
import time

from connectors.maximo.sandbox import DEFAULT_API_KEY, start_sandbox


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m connectors.maximo.sandbox", description=__doc__)
    p.add_argument("--port", type=int, default=8801)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--size", type=int, default=1000, help="work orders; other objects scale")
    p.add_argument(
        "--data", action="append", metavar="OS=FILE",
        help="serve FILE's records as object structure OS instead of generated ones (repeatable); "
        'FILE is a JSON list or a captured Maximo response {"member": [...], "responseInfo": ...}; '
        "a bare FILE holds {object structure: records}",
    )  # fmt: skip
    p.add_argument("--apikey", default=DEFAULT_API_KEY)
    p.add_argument("--fail-429", type=float, default=0.0, help="rate 0..1")
    p.add_argument("--retry-after", type=float, default=1.0, help="seconds in Retry-After")
    p.add_argument("--fail-500", type=float, default=0.0)
    p.add_argument("--slow", type=float, default=0.0)
    p.add_argument("--slow-seconds", type=float, default=0.5)
    p.add_argument("--truncate", type=float, default=0.0)
    p.add_argument("--max-page-size", type=int, default=1000)
    p.add_argument("--timezone", default="America/New_York")
    p.add_argument("--naive-times", action="store_true", help="dates without offsets (local)")
    p.add_argument("--change-rate", type=float, default=0.0, help="work orders changed per second")
    a = p.parse_args(argv)
    try:
        url, handle = start_sandbox(
            a.port, a.host, seed=a.seed, size=a.size, data=a.data, apikey=a.apikey,
            fail_429=a.fail_429, retry_after=a.retry_after, fail_500=a.fail_500, slow=a.slow,
            slow_seconds=a.slow_seconds, truncate=a.truncate, max_page_size=a.max_page_size,
            timezone=a.timezone, naive_times=a.naive_times, change_rate=a.change_rate,
        )  # fmt: skip
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Maximo sandbox on {url}/maximo/api/os/<object structure> (apikey header)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
