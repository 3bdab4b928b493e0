"""A sync task to kill: ``python -m tests.sync_child SOURCE_URL STORE_URL STAGING_DIR``.

Runs `streaming.sync_entity` for the Maximo sandbox's work orders with map worker processes from
the first chunk (small chunks, two workers) and a guard that marks each batch load as started
(a file ``load-<pid>`` in ``$MW_TEST_SIGNALS``) and then holds it ``$MW_TEST_HOLD`` seconds, so a
test can kill this process while its workers are inside a load, before they would commit.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

KEY = "k-child"


def slow_guard(_conn: Any) -> None:
    """Runs inside each batch's write transaction, in this process and in the map workers."""
    Path(os.environ["MW_TEST_SIGNALS"], f"load-{os.getpid()}").touch()
    time.sleep(float(os.environ.get("MW_TEST_HOLD", "3")))


def main() -> None:
    from connectors.base import SourceSettings, Window
    from connectors.maximo import CONNECTOR as Maximo
    from include.config import ConnectionConfig
    from include.model.timeutil import zone
    from include.store import Store
    from include.sync import streaming

    source_url, store_url, staging_dir = sys.argv[1:4]
    streaming.POOL_AFTER_BYTES = 1  # the workers take every chunk
    streaming.CHUNK_RECORDS = 200
    cfg = ConnectionConfig(id="mx", customer="acme", system="maximo", airflow_conn_id="unused",
                           entities=["work-orders"], page_size=100)  # fmt: skip
    settings = SourceSettings(
        connection_id=cfg.id, host=source_url, credentials={"apikey": KEY},
        timezone=zone(cfg.source_timezone), page_size=cfg.page_size,
    )  # fmt: skip
    store = Store(store_url)
    store.migrate()
    out = Path(staging_dir)
    streaming.sync_entity(
        Maximo(settings), cfg, "work-orders", Window(), out, store, out.name, incremental=True,
        path_factory=Path, guard=slow_guard, workers=2,
    )  # fmt: skip


if __name__ == "__main__":
    main()
