"""``python -m connectors.sap_s4hana.sandbox --port PORT [options]``: run the SAP sandbox."""

from __future__ import annotations

import argparse
import sys

from connectors.sap_s4hana.sandbox import build_server
from connectors.sap_s4hana.sandbox.server import Faults


def _rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"rate must be between 0 and 1, got {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m connectors.sap_s4hana.sandbox", description=__doc__)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--size", type=int, default=1000, help="number of maintenance orders")
    p.add_argument(
        "--data",
        help='JSON file {"<EntitySet>": [records]} replacing generated sets '
        "(values as OData v2 JSON, checked against the EDMX types)",
    )
    p.add_argument("--user", default="demo")
    p.add_argument("--password", default="demo")
    p.add_argument("--fail-429", type=_rate, default=0.0, metavar="RATE")
    p.add_argument("--retry-after", type=float, default=1.0, metavar="S")
    p.add_argument("--fail-500", type=_rate, default=0.0, metavar="RATE")
    p.add_argument("--slow", type=_rate, default=0.0, metavar="RATE")
    p.add_argument("--slow-seconds", type=float, default=2.0)
    p.add_argument("--truncate", type=_rate, default=0.0, metavar="RATE")
    p.add_argument("--server-page-size", type=int, default=1000)
    p.add_argument("--timezone", default="UTC", help="zone of Edm.DateTime values")
    a = p.parse_args(argv)
    faults = Faults(fail_429=a.fail_429, retry_after=a.retry_after, fail_500=a.fail_500,
                    slow=a.slow, slow_seconds=a.slow_seconds, truncate=a.truncate)  # fmt: skip
    try:
        server = build_server(a.port, a.host, seed=a.seed, size=a.size, data=a.data, user=a.user,
                              password=a.password, timezone=a.timezone,
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
