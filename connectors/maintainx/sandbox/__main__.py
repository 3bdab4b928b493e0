"""``python -m connectors.maintainx.sandbox --port PORT [options]``: run the MaintainX sandbox.

The kit's common flags (`connectors.kit.sandbox.cli`), plus MaintainX's rate limit (``--rate-limit``
requests per ``--rate-window`` seconds, announced in ``X-Rate-Limit-*`` headers). ``--data`` takes
``ENTITY=FILE`` (a JSON list), a directory of ``<entity>.json`` lists, ``default``
(``connectors/maintainx/sandbox_data/``) or a FILE ``{collectionKey: [records]}``.
"""

from __future__ import annotations

import sys

from connectors.kit.sandbox import cli
from connectors.maintainx.sandbox import DEFAULT_API_KEY, start_sandbox


def main(argv: list[str] | None = None) -> int:
    p = cli.parser("python -m connectors.maintainx.sandbox", __doc__, DEFAULT_API_KEY)
    p.add_argument("--rate-limit", type=int, default=100_000, help="requests per window")
    p.add_argument("--rate-window", type=float, default=60.0, help="window length, seconds")
    a = p.parse_args(argv)
    return cli.serve(
        lambda: start_sandbox(
            port=a.port, host=a.host, seed=a.seed, size=a.size, data=a.data, api_key=a.api_key,
            rate_limit=a.rate_limit, rate_window=a.rate_window, change_rate=a.change_rate,
            faults=cli.faults_of(a),
        ),
        lambda url: f"MaintainX sandbox on {url}/v1 (seed {a.seed}, {a.size} work orders)",
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
