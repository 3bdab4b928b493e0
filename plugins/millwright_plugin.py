"""Millwright's Airflow plugin. Minimal for now: the API engineer mounts the FastAPI app here."""

from airflow.plugins_manager import AirflowPlugin


class MillwrightPlugin(AirflowPlugin):
    name = "millwright"
