"""The connector manifest: a REST-style system described as data (``connectors/<system>/manifest.yaml``).

`load_manifest(path)` reads the YAML and validates it with the pydantic models below; any mistake
raises `ManifestError` naming the file, the field (``entities.work-orders.key``) and what is wrong.
The reference (every field, with examples) is docs/CONNECTORS.md; the models are the truth.

Sections: ``auth`` (API key in a header or the query, basic, bearer, OAuth2 client credentials),
``paginator`` (page number, offset/limit, cursor, next link, or a Python plug-in), ``records`` (the
record selector), ``incremental`` (window bounds as request parameters, as a filter expression, or
a client-side filter), ``order``, ``requested_fields``, ``rate_limit``, ``retry``, ``errors``,
``statuses``, ``entities`` (path, params, key, change time, fields, details, sub-resources), and
``writes`` / ``webhooks`` (typed, optional: filled by later issues).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

TimeFormat = Literal["iso_utc", "iso_utc_ms", "iso_offset", "iso_naive", "epoch_ms", "epoch_s"]
_PLUGIN = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the file and the field."""


class UnknownEntity(KeyError, ValueError):
    """An entity the manifest does not describe (a KeyError and a ValueError)."""

    def __str__(self) -> str:
        return str(self.args[0])


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- auth ------------------------------------------------------------------------------------------
class ApiKeyAuth(_Model):
    """``name: <credential>`` as a header, or ``?name=<credential>`` in the query."""

    kind: Literal["api_key"]
    in_: Literal["header", "query"] = Field("header", alias="in")
    name: str = Field(min_length=1)
    credential: str = "apikey"  # key in SourceSettings.credentials


class BasicAuth(_Model):
    kind: Literal["basic"]
    username: str = "user"  # credential keys
    password: str = "password"


class BearerAuth(_Model):
    kind: Literal["bearer"]
    credential: str = "token"


class OAuth2ClientCredentials(_Model):
    """Token from ``token_url`` (client id and secret from the credentials), sent as a bearer
    token, fetched again before it expires (``expires_in``) and once after a 401."""

    kind: Literal["oauth2_client_credentials"]
    token_url: str = Field(min_length=1)  # absolute, or a path on the connection's host
    client_id: str = "client_id"
    client_secret: str = "client_secret"
    scope: str | None = None
    client_auth: Literal["body", "basic"] = "body"


class NoAuth(_Model):
    kind: Literal["none"]


Auth = Annotated[
    ApiKeyAuth | BasicAuth | BearerAuth | OAuth2ClientCredentials | NoAuth,
    Field(discriminator="kind"),
]


# --- paginators ------------------------------------------------------------------------------------
class _Paging(_Model):
    size_param: str | None = None  # page size request parameter
    max_size: int = Field(1000, ge=1)  # the source's maximum page size


class PageNumberPaginator(_Paging):
    """``param`` = first, first+1, ... until a short or empty page (or ``total_pages``)."""

    kind: Literal["page_number"]
    param: str = "page"
    first: int = 1
    total_pages: str | None = None  # body path of the page count, when the source gives one


class OffsetPaginator(_Paging):
    """``offset_param`` = 0, n, 2n, ... with ``size_param`` = n, until a short or empty page (or
    the offset reaches ``total``)."""

    kind: Literal["offset_limit"]
    offset_param: str = "offset"
    size_param: str | None = "limit"
    total: str | None = None  # body path of the total count


class CursorPaginator(_Paging):
    """``param`` = the value at ``next`` in the body, until it is empty; the same cursor twice is
    an error (a source that loops)."""

    kind: Literal["cursor"]
    param: str = "cursor"
    next: str = Field(min_length=1)


class NextLinkPaginator(_Paging):
    """Follow the URL at ``next`` (a body path, or ``header:link`` for RFC 8288 ``rel="next"``),
    re-based onto the connection's host (a key in a header never goes to another host)."""

    kind: Literal["next_link"]
    next: str = Field(min_length=1)


class PluginPaginator(_Paging):
    """A Python paginator (`connectors.kit.engine.Paginator` subclass) for unusual protocols."""

    kind: Literal["plugin"]
    plugin: str  # "package.module:ClassName"
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("plugin")
    @classmethod
    def _plugin_path(cls, v: str) -> str:
        if not _PLUGIN.match(v):
            raise ValueError(f"must be 'package.module:ClassName', got {v!r}")
        return v


Paginator = Annotated[
    PageNumberPaginator | OffsetPaginator | CursorPaginator | NextLinkPaginator | PluginPaginator,
    Field(discriminator="kind"),
]


# --- windows, order, fields, limits ----------------------------------------------------------------
class Expression(_Model):
    """A filter expression in one parameter: ``start``/``end`` are templates with ``{field}`` and
    ``{value}`` (``'{field}>="{value}"'``), joined by ``join``."""

    param: str
    start: str
    end: str
    join: str = " and "


class Incremental(_Model):
    """How a window ``[start, end)`` on an entity's ``change_time`` reaches the source.

    ``mode``: ``params`` (``start_param``/``end_param`` request parameters), ``expression`` (one
    filter parameter), or ``client`` (the source cannot filter: every record is read and the
    window is applied here). ``end_inclusive``: the source's end bound includes it, so records
    at exactly ``end`` are dropped here (they belong to the next window). ``client_filter``: apply
    ``[start, end)`` here too. ``round_end_up``: the source compares whole seconds; the end bound
    is rounded up so nothing is lost (the overlap re-reads the rest)."""

    mode: Literal["params", "expression", "client"] = "params"
    start_param: str | None = None
    end_param: str | None = None
    expression: Expression | None = None
    format: TimeFormat = "iso_utc"
    end_inclusive: bool = False
    client_filter: bool = False
    round_end_up: bool = False

    @model_validator(mode="after")
    def _complete(self) -> Incremental:
        if self.mode == "params" and not self.start_param:
            raise ValueError("mode 'params' needs start_param")
        if self.mode == "expression" and self.expression is None:
            raise ValueError("mode 'expression' needs expression")
        return self


class Order(_Model):
    """Sort parameter: ``item`` per attribute (``"+{field}"``), joined by ``join``. Records are
    ordered by the change time, then (``keys: true``) the key; key listings by the key alone."""

    param: str
    item: str = "{field}"
    join: str = ","
    keys: bool = False


class RequestedFields(_Model):
    """The parameter listing the fields a request asks for (``oslc.select``, ``fields``...)."""

    param: str
    join: str = ","


class RateLimit(_Model):
    remaining: str  # header names
    reset: str
    reset_kind: Literal["delta", "epoch"] = "delta"


class Retry(_Model):
    base_delay: float = Field(0.5, ge=0)
    max_sleep: float = Field(30.0, ge=0)


class Errors(_Model):
    """Body paths of the source's error code and message (``Error.reasonCode``); first found."""

    code: list[str] = Field(default_factory=list)
    message: list[str] = Field(default_factory=list)


class Detail(_Model):
    """Fetch every listed record again by id (``/purchaseorders/{id}``) for its full form."""

    path: str
    records: str  # body path of the record


class SubResource(_Model):
    """A list attached to each record (``/teams/{id}/members`` -> ``members``), paged like the
    entity's list."""

    path: str
    records: str


class ById(_Model):
    """How the source lists records by id (the webhooks' re-read, `ManifestConnector.read_records`):
    the entity's usual request with ``param`` = ``format`` filled with the ids (``{ids}``: joined
    by ``join``, each quoted when ``quote``) and the id field (``{field}``). ``field``: the
    record's id field (default: the mapping's ``remote_id``, else the entity's one key field).
    ``batch``: ids per request."""

    param: str = Field(min_length=1)  # oslc.where, tasks, $filter...
    format: str = "{ids}"  # '{field} in [{ids}]'
    field: str | None = None
    join: str = ","
    quote: bool = False
    batch: int = Field(default=100, ge=1, le=1000)

    @field_validator("format")
    @classmethod
    def _has_ids(cls, v: str) -> str:
        if "{ids}" not in v:
            raise ValueError("format must contain {ids}")
        try:
            v.format(ids="1", field="f")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"format: only {{ids}} and {{field}} may be used ({exc})") from None
        return v


class Entity(_Model):
    path: str = Field(min_length=1)  # under the base path; "{option}" placeholders not allowed
    records: str | None = None  # record selector override
    key: list[str] = Field(min_length=1)  # natural key fields (must match the mapping's key)
    # the listed record's id (dedupe, detail and sub-resource paths) when the rows a transform
    # derives have another key (stocks: part id -> (partId, locationId)); default: key
    record_id: str | None = None
    change_time: str | None = None  # None: a snapshot, read in full every run
    incremental: bool | None = None  # default: change_time is set
    fields: list[str] = Field(default_factory=list)  # requested fields (see requested_fields)
    params: dict[str, str | list[str]] = Field(default_factory=dict)  # every request
    record_params: dict[str, str | list[str]] = Field(default_factory=dict)  # not key listings
    detail: Detail | None = None
    sub_resources: dict[str, SubResource] = Field(default_factory=dict)
    transform: str | None = None  # name of a Python method of the connector (see kit docs)
    dedupe: bool = False  # drop a key seen on an earlier page (a record moved by an update)
    reconcile: bool = True
    paginator: Paginator | None = None
    by_id: ById | None = None  # overrides the manifest's ``by_id``

    @model_validator(mode="after")
    def _windows_need_a_time(self) -> Entity:
        if self.incremental and not self.change_time:
            raise ValueError("incremental needs change_time")
        return self

    @property
    def is_incremental(self) -> bool:
        return bool(self.change_time) if self.incremental is None else self.incremental


class StatusList(_Model):
    values: list[str] = Field(min_length=1)


# --- writes and webhooks (placeholders for the issues that add them) -------------------------------
class Write(_Model):
    method: Literal["POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str
    body: str | None = None  # body path the record goes to ("" = the body is the record)


class WebhookEvent(_Model):
    entity: str
    action: Literal["created", "changed", "deleted"]
    id_field: str  # payload path of the record's id


class Webhooks(_Model):
    signature_header: str | None = None
    algorithm: Literal["hmac-sha256"] = "hmac-sha256"
    secret_credential: str = "webhook_secret"
    event_field: str = "type"  # payload path of the event name
    events: dict[str, WebhookEvent] = Field(default_factory=dict)


# --- the manifest ----------------------------------------------------------------------------------
class Manifest(_Model):
    system: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = ""
    base_path: str = ""  # appended to the connection's host ("/maximo/api", "/v1")
    headers: dict[str, str] = Field(default_factory=dict)
    params: dict[str, str] = Field(default_factory=dict)  # every request
    auth: Auth
    paginator: Paginator
    records: str = ""  # dotted body path of the record list; "" = the body is the list
    require_records: bool = True  # a body without it is an error, not "no records"
    incremental: Incremental | None = None
    order: Order | None = None
    requested_fields: RequestedFields | None = None
    rate_limit: RateLimit | None = None
    retry: Retry = Field(default_factory=Retry)
    errors: Errors = Field(default_factory=Errors)
    statuses: dict[str, StatusList] = Field(default_factory=dict)
    entities: dict[str, Entity] = Field(min_length=1)
    check_entity: str | None = None  # the connection test reads one record of it (default: first)
    writes: dict[str, Write] = Field(default_factory=dict)
    webhooks: Webhooks | None = None
    by_id: ById | None = None  # every entity's re-read by id (None: entities without one cannot)

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        for name, e in self.entities.items():
            if e.is_incremental and self.incremental is None:
                raise ValueError(f"entities.{name}: change_time needs a top-level incremental")
            if e.fields and self.requested_fields is None:
                raise ValueError(f"entities.{name}: fields need a top-level requested_fields")
        if self.check_entity is not None and self.check_entity not in self.entities:
            raise ValueError(f"check_entity: no entity {self.check_entity!r}")
        for name in self.statuses:
            if name not in self.entities:
                raise ValueError(f"statuses.{name}: no such entity")
        return self

    def entity(self, name: str) -> Entity:
        try:
            return self.entities[name]
        except KeyError:
            known = ", ".join(self.entities)
            raise UnknownEntity(
                f"{self.system}: unsupported entity {name!r}; supported: {known}"
            ) from None


def requested_fields(manifest: Manifest, entity: str, extra: tuple[str, ...] = ()) -> list[str]:
    """The fields a read of ``entity`` asks for: the manifest's, then ``extra`` (configured
    custom-field source paths), each once, in that order. Dotted paths ask for their first part
    (``poline.x`` -> ``poline``): sources select top-level attributes."""
    out: dict[str, None] = dict.fromkeys(manifest.entity(entity).fields)
    for path in extra:
        head = path.split(".", 1)[0]
        if head and not any(f == head or f.startswith(head + "{") for f in out):
            out[head] = None
    return list(out)


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if not str(p).startswith(("function-", "tagged-union")))


def parse_manifest(data: Any, source: str = "manifest") -> Manifest:
    """Validate manifest data; `ManifestError` lists every problem as ``field: what is wrong``."""
    if not isinstance(data, dict):
        raise ManifestError(f"{source}: expected a mapping at the top, got {type(data).__name__}")
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = _where(err["loc"]) or "(top)"
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {msg}")
        raise ManifestError(f"{source}: invalid manifest\n  " + "\n  ".join(problems)) from None


@lru_cache(maxsize=32)
def load_manifest(path: str | Path) -> Manifest:
    """Read and validate a manifest file (cached per path)."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text())
    except OSError as exc:
        raise ManifestError(f"{p}: cannot read it ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"{p}: not valid YAML ({exc})") from None
    return parse_manifest(data, p.name if p.parent.name == "" else f"{p.parent.name}/{p.name}")
