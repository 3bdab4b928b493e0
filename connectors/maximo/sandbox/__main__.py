"""``python -m connectors.maximo.sandbox --port PORT [--data ENTITY=FILE ...] [...]``: serve until
interrupted.

The kit's common flags (`connectors.kit.sandbox.cli`), plus Maximo's: ``--max-page-size``
(``mxe.oslc.maxpagesize``), ``--timezone``, ``--naive-times``. ``--data`` takes ``ENTITY=FILE``
(``work-orders=wo.json``), ``OS=FILE`` (``mxapiwodetail=wo.json``), a directory of
``<entity>.json`` files, ``default`` (``connectors/maximo/sandbox_data/``), or a bare FILE holding
``{object structure: records}``; FILE is a JSON list or a captured Maximo response
``{"member": [...], "responseInfo": ...}`` (see `connectors.maximo.sandbox.datafile`).
"""

from __future__ import annotations

import sys

from connectors.kit.sandbox import cli
from connectors.maximo.sandbox import DEFAULT_API_KEY, start_sandbox


def main(argv: list[str] | None = None) -> int:
    p = cli.parser("python -m connectors.maximo.sandbox", __doc__, DEFAULT_API_KEY, port=8801)
    p.add_argument("--max-page-size", type=int, default=1000)
    p.add_argument("--timezone", default="America/New_York")
    p.add_argument("--naive-times", action="store_true", help="dates without offsets (local)")
    a = p.parse_args(argv)
    return cli.serve(
        lambda: start_sandbox(
            a.port, a.host, seed=a.seed, size=a.size, data=a.data, apikey=a.api_key,
            max_page_size=a.max_page_size, timezone=a.timezone, naive_times=a.naive_times,
            change_rate=a.change_rate, faults=cli.faults_of(a),
        ),
        lambda url: f"Maximo sandbox on {url}/maximo/api/os/<object structure> (apikey header)",
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
