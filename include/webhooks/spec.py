"""What a system's webhooks look like: the verification scheme (by name, `schemes.SCHEMES`) and how
an event's body names the record it is about. Pure data, declared by each connector
(``Connector.webhooks``) or, for a connector manifest, as ``webhooks: {scheme: <name>, ...}``.

Events are notifications: the apply step re-reads the named record from the source (so an older
event can never overwrite newer data, and a record the source no longer has is soft-deleted). An
event is therefore reduced to `EventTarget`s: (unified entity, source id).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from include.webhooks.schemes import SCHEMES


@dataclass(frozen=True)
class EventRule:
    """One kind of event: the top-level field holding the source id, and the unified entities
    whose records come from that source record (re-read each). ``when``: other top-level fields
    that must hold these values for the rule to apply (Limble's ``category``)."""

    id_field: str
    entities: tuple[str, ...]
    when: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EventTarget:
    """A record an event names: by its source id (``remote_id``, the mapping's ``remote_id``)
    or, for a system whose events carry the record itself (a Maximo publish channel), by its
    natural key (``key``: ``(field, value)`` pairs of the entity's key fields; ``remote_id`` is
    then ``""``)."""

    entity: str
    remote_id: str
    key: tuple[tuple[str, str], ...] = ()


# A system's own body format (``WebhookSpec.parse``): the raw body (UTF-8 text) and the request's
# content type (None in the apply step, which sniffs) -> the records it names, for every entity
# of the system; None when the body is not in that format (the generic JSON shapes apply).
# Raises ValueError naming what is wrong with the body.
BodyParser = Callable[[str, "str | None"], "list[EventTarget] | None"]


@dataclass(frozen=True)
class WebhookSpec:
    """A system's webhooks. ``scheme``: a name in `SCHEMES`; ``rules`` are tried in order, the
    first whose ``id_field`` is present (and whose ``when`` matches) names the record;
    ``subscribe``: whether the source has an API to register the receiver's URL (the lifecycle
    registers it on create/reconnect and removes it on disconnect)."""

    scheme: str
    rules: tuple[EventRule, ...] = ()
    subscribe: bool = False
    event_types: tuple[str, ...] = ()  # what a subscription asks for (MaintainX: one per type)
    # the source record's field an event's id matches (None: the mapping's ``remote_id``)
    record_id_field: str | None = None
    # the system's own body format (Maximo's publish channel messages, XML or JSON); None: JSON
    parse: BodyParser | None = None

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(f"unknown webhook scheme {self.scheme!r} (known: {sorted(SCHEMES)})")

    @property
    def headers(self) -> tuple[str, ...]:
        return SCHEMES[self.scheme].headers


# The body of a source with no declaration of its own (Standard Webhooks, a static secret):
# {"entity": "work-orders", "id": "1234"} (also "remote_id"), one record per event.
GENERIC_ENTITY_FIELD = "entity"


def targets(
    spec: WebhookSpec | None, payload: Any, entities: Mapping[str, Any]
) -> list[EventTarget]:
    """The records an event body is about; [] when it names none this connection syncs.

    Raises ValueError (the event fails with that reason) for a body that is not a JSON object or
    names an entity the system does not have."""
    if not isinstance(payload, dict):
        raise ValueError("the event body is not a JSON object")
    for rule in spec.rules if spec else ():
        if rule.id_field not in payload:
            continue
        if any(str(payload.get(k)) != v for k, v in rule.when.items()):
            continue
        rid = _id(payload[rule.id_field], rule.id_field)
        return [EventTarget(e, rid) for e in rule.entities if e in entities]
    entity = payload.get(GENERIC_ENTITY_FIELD)
    if entity is None:
        raise ValueError("the event body names no record this system's webhooks describe")
    if entity not in entities:
        raise ValueError(f"the event names entity {entity!r}, which this system does not have")
    raw = payload.get("id", payload.get("remote_id"))
    return [EventTarget(str(entity), _id(raw, "id"))]


def body_targets(
    spec: WebhookSpec | None, body: str, entities: Mapping[str, Any]
) -> list[EventTarget]:
    """The records a stored event's body names (the apply step): the system's own format when
    it has one (`WebhookSpec.parse`), else the JSON shapes of `targets`. Records of entities
    this connection does not sync are dropped. Raises ValueError with the reason."""
    if spec is not None and spec.parse is not None:
        found = spec.parse(body, None)
        if found is not None:
            return [t for t in found if t.entity in entities]
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"the event body is not JSON ({exc})") from None
    return targets(spec, payload, entities)


def check_body(spec: WebhookSpec | None, body: bytes, content_type: str | None) -> None:
    """The receiver's check before storing an event: UTF-8, and the system's own format or
    JSON. Raises ValueError naming what is wrong (the receiver answers 400, stores nothing)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the body is not UTF-8 (byte {exc.start})") from None
    if spec is not None and spec.parse is not None and spec.parse(text, content_type) is not None:
        return
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"the body is not JSON ({exc})") from None


def _id(value: Any, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        raise ValueError(f"the event's {name} must be a non-empty string or integer")
    return str(value)


# Limble (REST v2): the body names a category and an id field; the record is re-read. Declared
# here for the Limble connector (``connectors.limble``); ``event_types``: the webhook types it
# subscribes (``POST /v2/webhooks {endpoint, type}``, one each).
LIMBLE = WebhookSpec(
    scheme="limble",
    rules=(
        EventRule("taskID", ("work-orders",), {"category": "task"}),
        EventRule("assetID", ("assets",), {"category": "asset"}),
        EventRule("partID", ("materials", "stocks"), {"category": "part"}),
        EventRule("poID", ("purchase-orders",), {"category": "po"}),
    ),
    subscribe=True,
    event_types=("task", "asset", "part", "po"),
)
