"""A sync DAG run to kill: ``python -m tests.airflow.dag_child DAG_ID``.

Runs ``dag.test()`` for one generated DAG (the environment, inherited from the test, names the
Airflow home, the connection, the store and MILLWRIGHT_HOME) with map worker processes from the
first chunk, so a test can kill the sync task while its workers run.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    from airflow.dag_processing.dagbag import DagBag

    from include.sync import streaming

    streaming.POOL_AFTER_BYTES = 1  # the workers take every chunk
    streaming.CHUNK_RECORDS = 200
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    bag.dags[sys.argv[1]].test()


if __name__ == "__main__":
    main()
