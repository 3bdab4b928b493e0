"""Connection configuration: the schema of the ``millwright_connections`` Airflow Variable.

The Variable holds a JSON array; each element configures one connection. Secrets never go in the
Variable: ``airflow_conn_id`` names the Airflow Connection holding host and credentials.

`parse_connections` validates each entry on its own, so one bad entry yields a `ConfigError` naming
the connection and the field while every other connection still loads. A Variable that is missing
or not a JSON array is a `VariableError` for the whole file: never silently "zero connections".
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from include.config.naming import dag_id as _dag_id
from include.model import STATUS_CATEGORIES
from include.model.timeutil import parse_duration, zone

VARIABLE_NAME = "millwright_connections"
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# option keys that name a secret, compared lowercased without ``_``/``-``/``.``: these exactly,
# or ending in one of SECRET_SUFFIXES (``client_secret``, ``refreshToken``, ``db-password``...)
SECRET_KEYS = frozenset(
    {"password", "passwd", "pwd", "passphrase", "apikey", "secret", "token", "privatekey",
     "credential", "credentials", "authorization", "cookie", "sessionid", "signature"}
)  # fmt: skip
SECRET_SUFFIXES = ("password", "passwd", "passphrase", "secret", "token", "apikey", "privatekey")
MASK = "***"
# a source path: up to 4 names joined by "."; a name is what the source calls it (MaintainX's
# custom fields are labels: "Cost Center"), no dot, no control character, no outer space
_SEGMENT = r"[^.\s\x00-\x1f\x7f](?:[^.\x00-\x1f\x7f]{0,98}[^.\s\x00-\x1f\x7f])?"
SOURCE_PATH = re.compile(rf"^{_SEGMENT}(?:\.{_SEGMENT}){{0,3}}$")
CUSTOM_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,100}$")
_KEY_NOISE = re.compile(r"[^a-z0-9]")


def is_secret_key(key: str) -> bool:
    """Whether an option's name says it holds a secret (case-insensitive)."""
    norm = _KEY_NOISE.sub("", str(key).lower())
    return norm in SECRET_KEYS or norm.endswith(SECRET_SUFFIXES)


def secret_paths(value: Any, path: str = "") -> list[str]:
    """Dotted paths of every secret-looking key in ``value`` (dicts and lists, nested)."""
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            here = f"{path}.{k}" if path else str(k)
            if is_secret_key(k):
                found.append(here)
            else:
                found += secret_paths(v, here)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += secret_paths(v, f"{path}[{i}]")
    return found


def mask_secrets(value: Any) -> Any:
    """``value`` with the value of every secret-looking key (nested too) replaced by `MASK`."""
    if isinstance(value, dict):
        return {k: MASK if is_secret_key(k) else mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value


class VariableError(ValueError):
    """The Variable as a whole cannot be used (missing, not JSON, not an array)."""


class ConfigError(ValueError):
    """One connection entry is invalid. ``connection_id`` is a placeholder like
    ``invalid_3`` when the entry has no usable id; ``schedule`` the entry's cron expression when
    it has a valid one (its placeholder DAG keeps failing on that schedule)."""

    def __init__(self, connection_id: str, message: str, schedule: str | None = None):
        self.connection_id = connection_id
        self.schedule = schedule
        super().__init__(f"connection {connection_id}: {message}")


class WebhookConfig(BaseModel):
    """Inbound webhooks of one connection (docs/WEBHOOKS.md). The secret is never here: it is
    the ``webhook_secret`` extra of the connection's Airflow Connection (Limble: its API key)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    scheme: str | None = Field(
        default=None,
        description="standard | maintainx | limble | header | basic; default: the system's "
        "own scheme, else standard (Standard Webhooks)",
    )
    header: str | None = Field(
        default=None, description="scheme header: the header carrying the static secret"
    )
    tolerance: str = Field(default="5m", description="accepted clock skew / replay window")
    claim_timeout: str = Field(
        default="10m", description="an event claimed this long ago by a crashed run is retried"
    )
    retention: str = Field(default="7d", description="how long event ids are kept (>= 72h)")
    alert_failed: int = Field(
        default=1, ge=1, description="alert when this many events failed in the last hour"
    )
    alert_lag: str = Field(
        default="15m", description="alert when the oldest pending event is older than this"
    )

    @field_validator("scheme")
    @classmethod
    def _scheme(cls, v: str | None) -> str | None:
        from include.webhooks.schemes import SCHEMES

        if v is not None and v not in SCHEMES:
            raise ValueError(f"unknown scheme {v!r} (known: {', '.join(sorted(SCHEMES))})")
        return v

    @field_validator("header")
    @classmethod
    def _header(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z0-9-]{1,100}", v):
            raise ValueError("must be an HTTP header name (letters, digits and -)")
        return v.lower() if v else v

    @field_validator("tolerance", "claim_timeout", "retention", "alert_lag")
    @classmethod
    def _duration(cls, v: str) -> str:
        if parse_duration(v).total_seconds() <= 0:
            raise ValueError(f"must be a positive duration, got {v!r}")
        return v

    @model_validator(mode="after")
    def _retention(self) -> WebhookConfig:
        if parse_duration(self.retention) < timedelta(hours=72):
            raise ValueError(
                "retention: event ids must be kept at least 72h (senders retry for days)"
            )
        return self

    def seconds(self, name: str) -> float:
        return parse_duration(getattr(self, name)).total_seconds()


class ConnectionConfig(BaseModel):
    """One connection to one source instance."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="slug: lowercase letters, digits, - and _; unique")
    customer: str = Field(min_length=1)
    system: str = Field(description="connector folder name, e.g. maximo")
    deployment: Literal["cloud", "on_premise"] = "cloud"
    airflow_conn_id: str = Field(min_length=1, description="Airflow Connection with host + secrets")
    schedule: str = Field(default="0 * * * *", description="cron expression, UTC")
    start_date: datetime = Field(default=datetime(2024, 1, 1))
    entities: list[str] | None = Field(default=None, description="default: all the system supports")
    custom_fields: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="{entity: {unified name: source field path}}"
    )
    status_categories: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="{entity: {raw status: statusCategory}}: overrides the system's default "
        "category of a raw status (entities and categories: docs/API.md, 'Unified status'); "
        "applies to records mapped after the change (a full read re-maps every record)",
    )
    overlap: str = Field(default="10m", description="look-back overlap for windows, e.g. 10m")
    source_timezone: str = Field(default="UTC", description="zone of naive source timestamps")
    status: Literal["active", "disconnected"] = "active"
    page_size: int = Field(default=1000, ge=1, le=10000)
    quarantine_threshold: float = Field(
        default=0.05, ge=0, le=1, description="share of quarantined records that fails a run"
    )
    reconcile_every: str = Field(
        default="1d", description="how often a run also reconciles hard deletes, e.g. 1d, 6h"
    )
    full_read_every: str = Field(
        default="1d",
        description="how often a scheduled run re-reads in full the entities with fields the "
        "source cannot date (e.g. computed stock quantities), e.g. 1d, 12h",
    )
    pipeline: Literal["streaming", "staged"] = Field(
        default="streaming",
        description="streaming: one task per entity runs extract, map and load at once; "
        "staged: extract -> map -> load as three tasks, each retried on its own",
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="connector-specific settings, never secrets: keys like password, token, "
        "api_key, client_secret, private_key (any case, nested too) are refused",
    )
    webhooks: WebhookConfig | None = Field(
        default=None, description="inbound webhooks (docs/WEBHOOKS.md); absent: none"
    )
    name: str | None = None
    tags: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError("must be a slug: lowercase letters, digits, '-' and '_' (max 63)")
        return v

    @field_validator("options")
    @classmethod
    def _no_secrets(cls, v: dict[str, Any]) -> dict[str, Any]:
        found = secret_paths(v)
        if found:
            raise ValueError(
                f"{', '.join(found)}: looks like a secret; the Variable is shown in the DAG's docs "
                "and the Airflow UI. Put secrets in the Airflow Connection named by "
                "airflow_conn_id (its password or extra), never in options"
            )
        return v

    @field_validator("status_categories")
    @classmethod
    def _categories(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for entity, table in v.items():
            allowed = STATUS_CATEGORIES.get(entity)
            if allowed is None:
                known = ", ".join(STATUS_CATEGORIES)
                raise ValueError(f"{entity}: no statusCategory for this entity (entities: {known})")
            for raw, category in table.items():
                if category not in allowed:
                    raise ValueError(
                        f"{entity}.{raw}: unknown category {category!r} "
                        f"(categories: {', '.join(allowed)})"
                    )
        return v

    @field_validator("custom_fields")
    @classmethod
    def _custom_paths(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for entity, fields in v.items():
            for name, path in fields.items():
                if not CUSTOM_NAME.fullmatch(name):
                    raise ValueError(
                        f"{entity}.{name}: a custom field's name is 1-100 letters, digits, _ or -"
                    )
                if not isinstance(path, str) or not SOURCE_PATH.fullmatch(path):
                    raise ValueError(
                        f"{entity}.{name}: {path!r} is not a source path (the source's names "
                        "joined by '.', at most 4 levels: crewid, assignment.laborcode, "
                        "extraFields.Cost Center)"
                    )
        return v

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str) -> str:
        from croniter import croniter  # airflow dependency

        if not croniter.is_valid(v):
            raise ValueError(f"not a valid cron expression: {v!r}")
        return v

    @field_validator("overlap", "reconcile_every", "full_read_every")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_duration(v)
        return v

    @field_validator("source_timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        zone(v)
        return v

    @model_validator(mode="after")
    def _system_and_entities(self) -> ConnectionConfig:
        from connectors.registry import get_connector

        try:
            connector = get_connector(self.system)
        except KeyError as exc:
            raise ValueError(str(exc.args[0])) from None
        supported = set(connector.entities)
        unknown = [e for e in (self.entities or []) if e not in supported]
        if unknown:
            raise ValueError(
                f"entities: {', '.join(unknown)} not supported by {self.system} "
                f"(supported: {', '.join(sorted(supported))})"
            )
        bad_cf = [e for e in self.custom_fields if e not in supported and "." not in e]
        if bad_cf:
            raise ValueError(f"custom_fields: unknown entity {', '.join(bad_cf)}")
        return self

    @property
    def overlap_delta(self) -> timedelta:
        return parse_duration(self.overlap)

    @property
    def reconcile_delta(self) -> timedelta:
        return parse_duration(self.reconcile_every)

    @property
    def full_read_delta(self) -> timedelta:
        return parse_duration(self.full_read_every)

    @property
    def webhooks_on(self) -> bool:
        return self.webhooks is not None and self.webhooks.enabled

    def webhook_scheme(self) -> str:
        """The connection's scheme: configured, else the system's own, else ``standard``."""
        from connectors.registry import get_connector

        if self.webhooks and self.webhooks.scheme:
            return self.webhooks.scheme
        spec = getattr(get_connector(self.system), "webhooks", None)
        return spec.scheme if spec else "standard"

    @property
    def dag_id(self) -> str:
        return _dag_id(self.id)

    def status_category_table(self, entity: str) -> dict[str, str] | None:
        """Raw status -> statusCategory for ``entity`` on this connection: the system's
        defaults (its connector's ``status_categories``) with this config's overrides; None
        when the entity carries no statusCategory."""
        from connectors.registry import get_connector

        if entity not in STATUS_CATEGORIES:
            return None
        defaults = getattr(get_connector(self.system), "status_categories", {}) or {}
        return {**defaults.get(entity, {}), **self.status_categories.get(entity, {})}

    def entity_custom_fields(self, entity: str) -> dict[str, dict[str, str]]:
        """The custom fields an entity's sync maps: its own and its child entities'
        (``purchase-orders.line-items`` under ``purchase-orders``)."""
        return {
            e: dict(cf) for e, cf in sorted(self.custom_fields.items())
            if cf and (e == entity or e.startswith(f"{entity}."))
        }  # fmt: skip

    def fields_fingerprint(self, entity: str) -> str:
        """A digest of `entity_custom_fields`: a change makes the entity's next run a full read."""
        from include.model.source_fields import fingerprint

        return fingerprint(self.entity_custom_fields(entity))

    def custom_paths(self) -> dict[str, tuple[str, ...]]:
        """Per entity, the source paths its custom fields read (what connectors request)."""
        return {e: tuple(dict.fromkeys(cf.values())) for e, cf in self.custom_fields.items() if cf}

    def selected_entities(self) -> list[str]:
        from connectors.registry import get_connector

        supported = list(get_connector(self.system).entities)
        return [e for e in supported if self.entities is None or e in self.entities]


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(entry)"
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def parse_connections(raw: str | None) -> list[ConnectionConfig | ConfigError]:
    """Parse the Variable's text. One result per entry, in order: a config or the error for it."""
    if raw is None:
        raise VariableError(f"Airflow Variable {VARIABLE_NAME!r} is not set")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise VariableError(
            f"Airflow Variable {VARIABLE_NAME!r} is not valid JSON: {exc}"
        ) from None
    if not isinstance(data, list):
        raise VariableError(f"Airflow Variable {VARIABLE_NAME!r} must be a JSON array of objects")
    out: list[ConnectionConfig | ConfigError] = []
    seen: set[str] = set()
    for i, entry in enumerate(data):
        cid = entry.get("id") if isinstance(entry, dict) else None
        label = cid if isinstance(cid, str) and SLUG.match(cid) else f"invalid_{i}"
        if not isinstance(entry, dict):
            out.append(ConfigError(label, "entry must be a JSON object"))
            continue
        try:
            cfg = ConnectionConfig.model_validate(entry)
        except ValidationError as exc:
            out.append(ConfigError(label, _describe(exc), _valid_cron(entry.get("schedule"))))
            continue
        if cfg.id in seen:
            out.append(
                ConfigError(
                    f"{cfg.id}__duplicate_{i}",
                    f"id: duplicate connection id {cfg.id!r}",
                    cfg.schedule,
                )  # fmt: skip
            )
            continue
        seen.add(cfg.id)
        out.append(cfg)
    return out


def _valid_cron(value: Any) -> str | None:
    from croniter import croniter  # airflow dependency

    return value if isinstance(value, str) and croniter.is_valid(value) else None


def json_schema() -> dict[str, Any]:
    """JSON Schema of the Variable (an array of connection objects)."""
    return {"type": "array", "items": ConnectionConfig.model_json_schema()}
