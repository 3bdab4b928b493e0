"""``python -m connectors.fiix.sandbox --port PORT [options]``: run the Fiix sandbox.

The kit's common flags (`connectors.kit.sandbox.cli`: ``--api-key`` is the tenant's secret key,
the HMAC key; ``--fail-429`` and ``--rpc-error`` answer Fiix's throttling code 1100 as HTTP 429 and
HTTP 200, advising ``--retry-after`` seconds), plus ``--app-key``, ``--access-key``,
``--timezone`` (the tenant's zone, for date filter parameters) and ``--rate-limit`` requests per
``--rate-window`` seconds. ``--data`` is not supported: records are generated (``--seed``,
``--size``) and changed through the control endpoint or the API's own Add/Change/RemoveRequest.
"""

from __future__ import annotations

import sys

from connectors.fiix.sandbox import DEFAULT_KEYS, start_sandbox
from connectors.kit.sandbox import cli


def main(argv: list[str] | None = None) -> int:
    p = cli.parser("python -m connectors.fiix.sandbox", __doc__, DEFAULT_KEYS[2])
    p.add_argument("--app-key", default=DEFAULT_KEYS[0])
    p.add_argument("--access-key", default=DEFAULT_KEYS[1])
    p.add_argument("--timezone", default="UTC", help="the tenant's zone (date filter parameters)")
    p.add_argument("--rate-limit", type=int, default=100_000, help="requests per window")
    p.add_argument("--rate-window", type=float, default=60.0, help="window length, seconds")
    a = p.parse_args(argv)
    if a.data:
        p.error("--data: the Fiix sandbox generates its records (use --seed and --size)")
    if a.change_rate:
        p.error("--change-rate: not supported; change records through /_sandbox/records")
    return cli.serve(
        lambda: start_sandbox(
            port=a.port, host=a.host, seed=a.seed, size=a.size,
            keys=(a.app_key, a.access_key, a.api_key), timezone=a.timezone,
            rate_limit=a.rate_limit, rate_window=a.rate_window, faults=cli.faults_of(a),
        ),
        lambda url: f"Fiix sandbox on {url}/api/ (seed {a.seed}, {a.size} work orders)",
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
