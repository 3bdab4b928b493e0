"""Run the API standalone: ``millwright api serve`` (or ``python -m include.cli.serve``)
``[--host 127.0.0.1] [--port 8000]``.

The store comes from ``MILLWRIGHT_STORE_URL`` (else SQLite under ``MILLWRIGHT_HOME``). The full
app is served: the read API, the admin API (``/api/system/*``) and the dashboard; the admin side reaches
Airflow through its REST API (``MILLWRIGHT_AIRFLOW_URL`` + ``MILLWRIGHT_AIRFLOW_USER``/``_PASSWORD``
or ``_TOKEN``). ``--read-only`` serves the read API alone, e.g. for read replicas scaled out.
"""

from __future__ import annotations

import argparse
import os

import uvicorn
import uvicorn.supervisors

from include.airflow.plugin import build_app, variable_configs
from include.api.app import create_app
from include.api.server import server_config, settle_heap


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m include.cli.serve", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1, help="threads are per process")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--read-only", action="store_true", help="no admin API or dashboard")
    args = parser.parse_args(argv)
    if args.read_only:  # an env var, so that worker processes see it too
        os.environ["MILLWRIGHT_API_READ_ONLY"] = "1"
    target = "include.cli.serve:app_factory" if args.workers > 1 else app_factory()
    config = server_config(
        target,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        factory=args.workers > 1,
        workers=args.workers,
    )
    server = uvicorn.Server(config)
    if args.workers > 1:
        sock = config.bind_socket()
        uvicorn.supervisors.Multiprocess(config, sockets=[sock]).run()
    else:
        server.run()


def app_factory():  # noqa: ANN201 (uvicorn --factory target)
    if os.environ.get("MILLWRIGHT_API_READ_ONLY") == "1":
        app = create_app(config_provider=variable_configs())
    else:
        app = build_app()
    settle_heap()
    return app


if __name__ == "__main__":
    main()
