"""Naming rules: the one place that builds the names Airflow, the store and staging share.

- `dag_id`: a connection's sync DAG, ``sync__<connection id>`` (`connection_of_dag` reads it back);
- `task_group_id`: an entity's task group in that DAG (its tasks are ``<group>.sync``, ...);
- `staging_parts`: the directories of one run's staging, ``<connection>/<entity>/<run id>``
  below the staging root, each safe as a path segment (`safe_segment`);
- the files in a run directory: `PAGES_FILE`, `MAPPED_FILE`, `KEYS_FILE`, `EXTRACT_MARKER`.
"""

from __future__ import annotations

import re

DAG_PREFIX = "sync__"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

PAGES_FILE = "pages.jsonl"  # the window's pages, one JSON array a line (extract)
MAPPED_FILE = "mapped.jsonl"  # mapped rows of the staged shape (map)
KEYS_FILE = "keys.txt"  # every natural key the read listed, for reconciliation
EXTRACT_MARKER = "extract.json"  # the read was complete (streaming: a retry does not re-read)


def dag_id(connection_id: str) -> str:
    """The sync DAG of a connection."""
    return f"{DAG_PREFIX}{connection_id}"


def connection_of_dag(dag: str) -> str | None:
    """The connection id of a sync DAG id; None for any other DAG."""
    return dag[len(DAG_PREFIX) :] if dag.startswith(DAG_PREFIX) else None


def task_group_id(entity: str) -> str:
    """The sync DAG's task group of ``entity`` (its tasks are ``<group>.sync``, ...)."""
    return entity.replace(".", "_")


def safe_segment(text: str) -> str:
    """``text`` as one path segment: runs of anything but letters, digits, ``.``, ``_``, ``-``
    become ``_`` (run ids hold ``:`` and ``+``)."""
    return _UNSAFE.sub("_", text)


def staging_parts(connection_id: str, entity: str, run_id: str) -> tuple[str, str, str]:
    """The run directory of one entity's run, below the staging root, as its three segments."""
    return connection_id, safe_segment(entity), safe_segment(run_id)
