"""``python -m connectors.sap_s4hana.sandbox --port PORT [options]``: run the SAP sandbox.

The kit's common flags (`connectors.kit.sandbox.cli`; the secret is ``--password``, also
``--api-key``), plus SAP's: ``--user``, ``--server-page-size``, ``--timezone`` (of Edm.DateTime
values). ``--data FILE`` holds ``{"<EntitySet>": [records]}`` replacing generated sets (values as
OData v2 JSON, checked against the EDMX types). The OData sandbox injects 429, 500, slow answers and
truncated bodies; ``--timeout``, ``--rpc-error`` and ``--change-rate`` are refused. Records change
while it runs through the kit's control endpoint (``/_sandbox/records/<entity>``, ``X-Sandbox-Key``
= the password) or ``connectors.sap_s4hana.sandbox.start``'s handle.
"""

from __future__ import annotations

import sys

from connectors.kit.sandbox import cli
from connectors.sap_s4hana.sandbox import build_server
from connectors.sap_s4hana.sandbox.server import Faults


def main(argv: list[str] | None = None) -> int:
    p = cli.parser("python -m connectors.sap_s4hana.sandbox", __doc__, "demo",
                   secret_flags=("--password",))  # fmt: skip
    p.add_argument("--user", default="demo")
    p.add_argument("--server-page-size", type=int, default=1000)
    p.add_argument("--timezone", default="UTC", help="zone of Edm.DateTime values")
    p.set_defaults(slow_seconds=2.0)
    a = p.parse_args(argv)
    for flag, value in (("--timeout", a.timeout), ("--rpc-error", a.rpc_error),
                        ("--change-rate", a.change_rate)):  # fmt: skip
        if value:
            p.error(f"{flag}: the SAP sandbox does not support it")
    if a.data and (len(a.data) > 1 or "=" in a.data[0] or a.data[0] == "default"):
        p.error('--data: the SAP sandbox takes one FILE {"<EntitySet>": [records]}')
    for name in ("fail_429", "fail_500", "slow", "truncate"):
        if not 0 <= getattr(a, name) <= 1:
            p.error(f"--{name.replace('_', '-')}: rate must be between 0 and 1")
    faults = Faults(fail_429=a.fail_429, retry_after=a.retry_after, fail_500=a.fail_500,
                    slow=a.slow, slow_seconds=a.slow_seconds, truncate=a.truncate)  # fmt: skip
    try:
        server = build_server(a.port, a.host, seed=a.seed, size=a.size,
                              data=a.data[0] if a.data else None, user=a.user,
                              password=a.api_key, timezone=a.timezone,
                              server_page_size=a.server_page_size, faults=faults)  # fmt: skip
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    host, port = server.server_address[:2]
    print(
        f"SAP S/4HANA sandbox on http://{host}:{port}/sap/opu/odata/sap/ (user {a.user})",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
