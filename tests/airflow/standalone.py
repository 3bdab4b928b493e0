"""`airflow standalone` for the real-Airflow test modules (one per module) and a polling wait:
the demo's own (include/cli/demo.py), named as the tests use them."""

from __future__ import annotations

from include.cli.demo import standalone as running
from include.cli.demo import wait_for

__all__ = ["running", "wait_for"]
