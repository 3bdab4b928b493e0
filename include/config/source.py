"""A connection's `SourceSettings` from an Airflow Connection's fields (`ConnFields`, however
they were obtained: the Airflow Connection in a task, the credentials of an admin API create before
the Connection exists), by the system's connection form, with the config's custom-field paths."""

from __future__ import annotations

from connectors.base import SourceSettings
from connectors.connection import ConnFields, settings_from
from include.config.connection import ConnectionConfig
from include.model.timeutil import zone


def settings_for(cfg: ConnectionConfig, fields: ConnFields) -> SourceSettings:
    """The connector's settings for ``cfg`` (time zone, page size, options, the custom fields'
    source paths to request) from a Connection's ``fields``."""
    return settings_from(
        cfg.system, fields, connection_id=cfg.id, timezone=zone(cfg.source_timezone),
        page_size=cfg.page_size, options=cfg.options, custom_paths=cfg.custom_paths(),
    )  # fmt: skip
