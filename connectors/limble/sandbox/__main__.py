"""``python -m connectors.limble.sandbox --port PORT [options]``: run the Limble sandbox.

The kit's common flags (`connectors.kit.sandbox.cli`; ``--api-key`` is the client secret), plus
``--user`` (the client id) and ``--rate-limit`` (calls per minute). ``--data`` takes
``ENTITY=FILE`` (a JSON list; ``tasks``, ``po-items``... or a unified entity), a directory of
``<collection>.json``, ``default`` (``connectors/limble/sandbox_data/``), or a FILE holding
``{"/collection": [records]}``; collections not named are generated (``--seed``, ``--size``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from connectors.kit.sandbox import cli
from connectors.limble.sandbox.data import FILES
from connectors.limble.sandbox.server import ENTITIES, start_sandbox

DATA_DIR = Path(__file__).resolve().parents[1] / "sandbox_data"


def main(argv: list[str] | None = None) -> int:
    p = cli.parser("python -m connectors.limble.sandbox", __doc__, "sandbox-secret")
    p.add_argument("--user", default="sandbox-client", help="the client id (Basic auth user)")
    p.add_argument("--rate-limit", type=int, default=100_000, help="calls per minute")
    a = p.parse_args(argv)
    if a.rpc_error:
        p.error("--rpc-error: Limble's API is REST (no protocol-level errors in a 200 answer)")
    if a.change_rate:
        p.error("--change-rate: not supported; change records through /_sandbox/records")

    def start():  # noqa: ANN202
        data = cli.expand_data(a.data, {**ENTITIES, **FILES}, DATA_DIR) if a.data else None
        return start_sandbox(port=a.port, host=a.host, seed=a.seed, size=a.size, client_id=a.user,
                             secret=a.api_key, data=data, rate_limit=a.rate_limit,
                             faults=cli.faults_of(a))  # fmt: skip

    return cli.serve(
        start, lambda url: f"Limble sandbox on {url}/v2 (seed {a.seed}, {a.size} tasks)"
    )


if __name__ == "__main__":
    sys.exit(main())
