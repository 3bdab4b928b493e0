"""Custom fields in the admin API: discovery (``GET /connections/{id}/fields``), preview
(``POST /connections/{id}/preview``) and the check of a create's or a patch's ``custom_fields``
against the source's metadata. The routes are in `include.api.system`; the work is in
`include.sync.fields`. The source is opened with ``app.state.source`` (a connection config ->
connector; inside Airflow: the connection's Airflow Connection), never with another connection's
credentials: every call names one connection and uses its config only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field

from connectors.base import Connector, SourceError, SourceField
from include.admin.base import validate_config
from include.admin.errors import LifecycleError
from include.api.errors import ApiError, domain_error
from include.config import ConnectionConfig
from include.model import CHILD_ENTITIES
from include.sync import fields
from include.sync.fields import MetadataUnavailable, NotDescribed

log = logging.getLogger(__name__)
SourceFactory = Callable[[ConnectionConfig], Connector]


class PreviewIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"entity": "work-orders", "limit": 5,
                                         "custom_fields": {"costCenter": "extraFields.Cost Center"}}]},
    )  # fmt: skip
    entity: str = Field(min_length=1, max_length=100, description="e.g. work-orders")
    custom_fields: dict[str, str] = Field(
        default_factory=dict,
        description="candidate custom fields of the entity: {unified name: source path}; "
        "default: the connection's",
    )
    limit: int = Field(default=fields.PREVIEW_DEFAULT, ge=1, le=fields.PREVIEW_MAX)


def _store(request: Request) -> Any:
    return request.app.state.store


def active_config(request: Request, cid: str) -> ConnectionConfig:
    """The connection's config (registry); 409 unless it is active."""
    lc = request.app.state.lifecycle
    try:
        view = lc.view(cid)
        cfg = validate_config(view["config"])
    except LifecycleError as exc:
        raise domain_error(exc) from None
    if view["status"] != "active":
        msg = f"connection {cid} is {view['status']}: its source is not read any more"
        raise ApiError(409, msg, {"id": [msg]})
    return cfg


def _entity(cfg: ConnectionConfig, entity: str, param: str = "entity") -> str:
    known = [*cfg.selected_entities(), *(c for c in CHILD_ENTITIES if c.split(".")[0]
                                          in cfg.selected_entities())]  # fmt: skip
    if entity not in known:
        msg = f"{entity!r} is not an entity of connection {cfg.id} (entities: {', '.join(known)})"
        raise ApiError(400, f"{param}: {msg}", {param: [msg]})
    return entity


def _open(request: Request, cfg: ConnectionConfig) -> Connector:
    factory: SourceFactory = getattr(request.state, "source", None) or request.app.state.source
    try:
        return factory(cfg)
    except Exception as exc:  # no Airflow Connection, no host, a credential missing
        msg = f"connection {cfg.id}: cannot open its source: {exc}"
        raise ApiError(409, msg, {"id": [msg]}) from None


def _source_failed(exc: Exception) -> ApiError:
    """502: the source failed; 409: its connector cannot describe fields (`NotDescribed`)."""
    msg = str(exc)
    return ApiError(409 if isinstance(exc, NotDescribed) else 502, msg, {"source": [msg]})


def metadata(request: Request, cfg: ConnectionConfig, entities: list[str]) -> dict:
    """Read (and cache) the source's metadata of ``entities``: 409 / 502 when it cannot."""
    with _open(request, cfg) as connector:
        try:
            return fields.refresh(connector, _store(request), cfg, entities)
        except MetadataUnavailable as exc:
            raise _source_failed(exc) from None


def discovery(request: Request, cid: str, entity: str) -> dict[str, Any]:
    cfg = active_config(request, cid)
    entity = _entity(cfg, entity)
    found: list[SourceField] = metadata(request, cfg, [entity])[entity]
    return {"entity": entity, "system": cfg.system, "fields": fields.discover(found, cfg, entity)}


def preview(request: Request, cid: str, body: PreviewIn) -> dict[str, Any]:
    cfg = active_config(request, cid)
    entity = _entity(cfg, body.entity, "entity")
    if entity in CHILD_ENTITIES:
        parent = CHILD_ENTITIES[entity][0]
        msg = f"preview {parent}: a child entity's records are previewed with their parent"
        raise ApiError(400, f"entity: {msg}", {"entity": [msg]})
    candidate = body.custom_fields or cfg.custom_fields.get(entity, {})
    try:
        trial = validate_config({**cfg.model_dump(mode="json"),
                                 "custom_fields": {**cfg.custom_fields, entity: candidate}})  # fmt: skip
    except LifecycleError as exc:
        raise ApiError(400, exc.message, {"custom_fields": [exc.message]}) from None
    with _open(request, trial) as connector:
        try:
            meta = fields.refresh(connector, _store(request), trial, [entity])
        except MetadataUnavailable as exc:
            raise _source_failed(exc) from None
        refuse(fields.check({entity: candidate}, meta), cfg.system, "custom_fields")
        try:
            return fields.preview(connector, trial, entity, body.limit)
        except SourceError as exc:
            raise _source_failed(exc) from None


def refuse(unknown: list, system: str, param: str = "custom_fields") -> None:
    """400 naming each unknown path, its entity and the closest fields."""
    if unknown:
        msgs = [u.message(system) for u in unknown]
        raise ApiError(400, "; ".join(msgs), {f"{param}.{u.entity}.{u.name}": [m]
                                             for u, m in zip(unknown, msgs, strict=True)})  # fmt: skip


def check_change(
    request: Request, cfg: ConnectionConfig, custom_fields: dict[str, dict[str, str]] | None,
    old: dict[str, dict[str, str]] | None = None,
) -> None:  # fmt: skip
    """Before a create or a patch saves ``custom_fields``: the changed entities' paths against the
    source's metadata (read now and cached; the cache when the source cannot be read now). 400
    for an unknown path; 409 when neither the source nor the cache can tell."""
    old = old or {}
    changed = {e: cf for e, cf in (custom_fields or {}).items() if cf and old.get(e) != cf}
    if not changed:
        return
    trial = cfg.model_copy(update={"custom_fields": {**cfg.custom_fields, **changed}})
    store = _store(request)
    try:
        with _open(request, trial) as connector:
            meta = fields.refresh(connector, store, trial, list(changed))
    except (ApiError, MetadataUnavailable) as exc:
        why = exc.message if isinstance(exc, ApiError) else str(exc)
        cached = {e: f for e, (f, _) in store.source_fields(cfg.id, list(changed)).items()}
        missing = [e for e in changed if e not in cached]
        if missing:
            msg = (f"custom_fields: cannot check {', '.join(missing)} against the source "
                   f"({why}) and no metadata of it is cached")  # fmt: skip
            raise ApiError(409, msg, {"custom_fields": [msg]}) from None
        log.warning("custom_fields of %s checked against cached metadata: %s", cfg.id, why)
        meta = cached
    refuse(fields.check(changed, meta), cfg.system)


def check_patch(request: Request, cid: str, changes: dict[str, Any]) -> None:
    """A patch that changes ``custom_fields``: its changed entities checked first."""
    if not isinstance(changes.get("custom_fields"), dict):
        return  # not a change of custom fields (a malformed one is the lifecycle's 400)
    lc = request.app.state.lifecycle
    try:
        view = lc.view(cid)
        old = validate_config(view["config"])
        new = validate_config({**view["config"], **changes})
    except LifecycleError:
        return  # the lifecycle's patch answers with the precise error
    if view["status"] != "active":
        return
    check_change(request, new, new.custom_fields, old.custom_fields)


def check_create(
    request: Request, system: str, cid: str | None, config: dict[str, Any], creds: Any,
    airflow_conn_id: str | None,
) -> None:  # fmt: skip
    """A create with ``custom_fields``: checked against the source before anything is saved,
    with the credentials of the request (or the named Airflow Connection)."""
    if not isinstance(config.get("custom_fields"), dict) or not config["custom_fields"]:
        return
    entry = {"id": cid or "new-connection", "customer": "-", "system": system,
             "airflow_conn_id": airflow_conn_id or "-", **config}  # fmt: skip
    try:
        cfg = validate_config(entry)
    except LifecycleError:
        return  # the lifecycle's create answers with the precise error
    if creds is not None:
        from connectors.connection import ConnFields, form
        from connectors.registry import get_connector
        from include.config.source import settings_for

        fields_ = ConnFields(
            host=creds.host, login=creds.login, password=creds.password, schema=creds.db_schema,
            port=creds.port, extra=creds.extra, conn_type=creds.conn_type or form(system).conn_type,
        )  # fmt: skip

        def from_request(c: ConnectionConfig) -> Connector:
            return get_connector(c.system)(settings_for(c, fields_))

        request.state.source = from_request
    check_change(request, cfg, cfg.custom_fields)
