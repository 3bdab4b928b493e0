"""Limble's webhooks as its API v2 documents them (../reference/limble/openapi.yaml: "Webhooks",
"Securing Webhooks", ``/v2/webhooks``).

- ``GET /v2/webhooks`` (filters ``webhooks`` = ids, ``endpoint`` with ``%`` wildcards, ``type``,
  ``enabled``, ``cursor``, ``limit``): a bare array of ``{webhookID, endpoint, type, enabled}``;
  ``POST /v2/webhooks {endpoint, type, enabled?}`` -> 201 ``{webhookID}``;
  ``PATCH /v2/webhooks/<id>`` -> ``{success: true}``; ``DELETE /v2/webhooks/<id>`` -> 200 with an
  empty body; an unknown id -> 404 ``{message}``; a bad body -> 400 ``{message}``.
- A delivery is a POST of ``{<category id field>: id, status, category, user}`` with the headers
  ``timestamp`` (Unix seconds), ``token`` (random) and ``signature`` = hex HMAC-SHA256 keyed with
  the hex SHA-256 of the account's oldest API key (here the client secret), over
  ``timestamp + token`` (the body is not signed).
- 200 or 406 ends a delivery; anything else (an error, a timeout after 10 s) is retried after
  10 min, 1 h, 2 h, 4 h (``retry_delays``; the sandbox's default is fast), then the webhook is
  disabled (``enabled: 0``). The docs do not say whether a retry keeps the token: the sandbox
  keeps it (new timestamp and signature each try), so a receiver can deduplicate on it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests

from connectors.kit.sandbox.deliveries import Deliveries

TYPES = ("task", "asset", "assetField", "location", "part", "po", "poItem", "instruction")
# collection -> (category, id field) of its events
CATEGORY = {"/tasks": ("task", "taskID"), "/assets": ("asset", "assetID"),
            "/parts": ("part", "partID"), "/po": ("po", "poID"),
            "/po/items": ("poItem", "poItemID"), "/locations": ("location", "locationID")}  # fmt: skip
CHANGED = {"/tasks": "CHANGED TASK DESCRIPTION", "/assets": "CHANGED ASSET NAME",
           "/parts": "NAME UPDATED", "/po": "CHANGE NOTES TO VENDOR",
           "/po/items": "CHANGE DESCRIPTION", "/locations": "UPDATED"}  # fmt: skip
FAST_RETRIES = (0.2, 0.4, 0.8, 1.6)  # the documented 10 min, 1 h, 2 h, 4 h, scaled down
USER = "sandbox@limblecmms.com"


def sign(api_key: str, timestamp: int, token: str) -> str:
    """Limble's signature, as its PHP/NodeJS samples compute it."""
    key = hashlib.sha256(api_key.encode()).hexdigest()
    return hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()


class Invalid(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class Hook:
    webhookID: int  # noqa: N815 - Limble's name
    endpoint: str
    type: str
    enabled: int = 1

    def public(self) -> dict[str, Any]:
        return {"webhookID": self.webhookID, "endpoint": self.endpoint, "type": self.type,
                "enabled": self.enabled}  # fmt: skip


@dataclass
class Delivery:
    webhook_id: int
    token: str
    body: bytes
    attempts: list[int | str] = field(default_factory=list)
    delivered: bool = False


class Webhooks(Deliveries):
    """The account's webhooks and a background sender."""

    def __init__(self, api_key: str, retry_delays: tuple[float, ...] = FAST_RETRIES,
                 timeout: float = 10.0) -> None:  # fmt: skip
        self.api_key, self.retry_delays, self.timeout = api_key, retry_delays, timeout
        self.hooks: dict[int, Hook] = {}
        self._next = 40
        super().__init__("limble-webhooks")

    # -- the API
    def _fields(self, body: Any, partial: bool) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise Invalid(400, "The request body must be a JSON object.")
        out: dict[str, Any] = {}
        if "endpoint" in body or not partial:
            url = body.get("endpoint")
            if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+", url):
                raise Invalid(400, '"endpoint" must be a valid uri')
            out["endpoint"] = url
        if "type" in body or not partial:
            if body.get("type") not in TYPES:
                raise Invalid(400, f'"type" must be one of [{", ".join(TYPES)}]')
            out["type"] = body["type"]
        if "enabled" in body:
            if body["enabled"] not in (0, 1) or isinstance(body["enabled"], bool):
                raise Invalid(400, '"enabled" must be 0 or 1')
            out["enabled"] = body["enabled"]
        return out

    def create(self, body: Any) -> dict[str, Any]:
        fields = self._fields(body, partial=False)
        with self._lock:
            self._next += 1
            hook = Hook(self._next, **fields)
            self.hooks[hook.webhookID] = hook
        return {"webhookID": hook.webhookID}

    def update(self, wid: int, body: Any) -> dict[str, Any]:
        fields = self._fields(body, partial=True)
        with self._lock:
            hook = self.hooks.get(wid)
            if hook is None:
                raise Invalid(404, f"Webhook {wid} not found")
            for k, v in fields.items():
                setattr(hook, k, v)
        return {"success": True}

    def delete(self, wid: int) -> None:
        with self._lock:
            if self.hooks.pop(wid, None) is None:
                raise Invalid(404, f"Webhook {wid} not found")

    def list(self, q: dict[str, list[str]]) -> list[dict[str, Any]]:
        def one(name: str) -> str | None:
            return q[name][0] if q.get(name) else None

        try:
            ids = {int(v) for v in (one("webhooks") or "").split(",") if v.strip()}
            cursor = int(one("cursor") or 0)
            limit = int(one("limit") or 100)
            enabled = None if one("enabled") is None else int(one("enabled") or 0)
        except ValueError:
            raise Invalid(400, "webhooks, cursor, limit and enabled must be integers") from None
        types = {t for t in (one("type") or "").split(",") if t}
        endpoint = one("endpoint")
        like = re.compile("^" + ".*".join(map(re.escape, endpoint.split("%"))) + "$") \
            if endpoint else None  # fmt: skip
        with self._lock:
            hooks = sorted(self.hooks.values(), key=lambda h: h.webhookID)
        out = [h.public() for h in hooks if h.webhookID > cursor
               and (not ids or h.webhookID in ids) and (not types or h.type in types)
               and (enabled is None or h.enabled == enabled)
               and (like is None or like.match(h.endpoint))]  # fmt: skip
        return out[: max(1, limit)]

    # -- deliveries
    def emit(self, coll: str, rid: Any, status: str) -> int:
        """Queue the event of a change to ``coll`` record ``rid`` for every enabled webhook of
        its category; returns how many deliveries."""
        if coll not in CATEGORY:
            return 0
        category, id_field = CATEGORY[coll]
        body = orjson.dumps({id_field: rid, "status": status, "category": category, "user": USER})
        with self._lock:
            targets = [h for h in self.hooks.values() if h.type == category and h.enabled]
        for hook in targets:
            self._enqueue(Delivery(hook.webhookID, secrets.token_hex(16), body))
        return len(targets)

    def _send(self, d: Delivery) -> int | str:
        hook = self.hooks.get(d.webhook_id)
        if hook is None or not hook.enabled:
            return "removed"
        ts = int(time.time())
        headers = {"content-type": "application/json", "timestamp": str(ts), "token": d.token,
                   "signature": sign(self.api_key, ts, d.token)}  # fmt: skip
        try:
            r = self._session.post(hook.endpoint, data=d.body, headers=headers,
                                   timeout=self.timeout)  # fmt: skip
            return r.status_code
        except requests.RequestException as exc:
            return type(exc).__name__

    def _deliver(self, d: Delivery) -> None:
        for attempt in range(len(self.retry_delays) + 1):
            status = self._send(d)
            d.attempts.append(status)
            if status in (200, 406):  # 406: received and ignored on purpose
                d.delivered = status == 200
                return
            if status == "removed":
                return
            if attempt == len(self.retry_delays):  # the last retry failed: disabled
                with self._lock:
                    if d.webhook_id in self.hooks:
                        self.hooks[d.webhook_id].enabled = 0
                return
            time.sleep(self.retry_delays[attempt])
