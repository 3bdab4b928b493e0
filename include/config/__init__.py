"""Connection configuration (`connection`: the Variable's JSON, parsed and validated) and the
naming rules every layer shares (`naming`). Imports `include.model` (and the connector registry,
lazily, for the entities a system supports).

``from include.config import ConnectionConfig, task_group_id, ...`` keep working."""

from include.config.connection import (
    MASK,
    SECRET_KEYS,
    SECRET_SUFFIXES,
    SLUG,
    VARIABLE_NAME,
    ConfigError,
    ConnectionConfig,
    VariableError,
    WebhookConfig,
    is_secret_key,
    json_schema,
    mask_secrets,
    parse_connections,
    secret_paths,
)
from include.config.naming import dag_id, task_group_id

__all__ = [
    "MASK", "SECRET_KEYS", "SECRET_SUFFIXES", "SLUG", "VARIABLE_NAME", "ConfigError",
    "ConnectionConfig", "VariableError", "WebhookConfig", "dag_id", "is_secret_key", "json_schema", "mask_secrets",
    "parse_connections", "secret_paths", "task_group_id",
]  # fmt: skip
