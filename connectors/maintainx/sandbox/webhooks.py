"""Webhook subscriptions and signed deliveries, as MaintainX sends them.

Each delivery is a POST of a JSON body with
``x-maintainx-webhook-body-signature: t=<unix ts>,v1=<hex HMAC-SHA256(secret, "<ts>." + raw body)>`` and
``x-maintainx-webhook-uri-signature`` (same scheme over ``"<ts>." + url``). A failed delivery (non-2xx,
timeout, refused) is retried a few times with the same body; only the timestamp and signatures change.
The sandbox also sends ``x-maintainx-webhook-event-id`` (stable across retries) so receivers can test
dedupe; MaintainX's spec does not document such a header, so receivers must not depend on it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests

from connectors.kit.sandbox.deliveries import Deliveries

log = logging.getLogger(__name__)

EVENT_TYPES = (
    "API_TOKEN_CREATED", "API_TOKEN_REVOKED", "ASSET_STATUS_CHANGE", "CONNECTOR_TOKEN_REVOKED",
    "DATA_EXPORT_INITIATED", "INVITE_LINK_ARCHIVED", "INVITE_LINK_CREATED", "INVITE_LINK_UPDATED",
    "METER_TRIGGER_STATE_CHANGE", "NEW_ASSET", "NEW_CATEGORY_ON_WORK_ORDER",
    "NEW_COMMENT_ON_WORK_ORDER", "NEW_LOCATION", "NEW_PART", "NEW_PURCHASE_ORDER",
    "NEW_SLASH_COMMAND", "NEW_VENDOR", "NEW_WORK_ORDER", "NEW_WORK_REQUEST", "PART_CHANGE",
    "PART_DELETE", "PART_QUANTITY_CHANGE", "PART_TRANSFER", "PURCHASE_ORDER_CHANGE",
    "PURCHASE_ORDER_STATUS_CHANGE", "ROLE_ARCHIVED", "ROLE_CREATED", "ROLE_UPDATED",
    "SSO_CONFIG_CHANGED", "USER_ACTIVATED", "USER_INVITED", "USER_LOGIN_FAILURE",
    "USER_LOGIN_SUCCESS", "USER_LOGOUT", "USER_PERMISSIONS_CHANGED", "USER_REMOVED",
    "USER_ROLE_CHANGED", "USER_SESSION_REVOKED", "WEBHOOK_ARCHIVED", "WEBHOOK_CREATED",
    "WORK_ORDER_CHANGE", "WORK_ORDER_DELETE", "WORK_ORDER_OVERDUE",
    "WORK_ORDER_PART_STATUS_CHANGE", "WORK_ORDER_STATUS_CHANGE", "WORK_REQUEST_STATUS_CHANGE",
)  # fmt: skip
MAX_URL = 512


def sign(secret: str, timestamp: int, payload: bytes) -> str:
    """The signature header value for ``payload`` (raw body or URL bytes)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str | None, body: bytes, tolerance: float = 300.0) -> bool:
    """Check a ``x-maintainx-webhook-body-signature`` header (constant time, with a time tolerance).
    A missing or malformed header is simply not valid."""
    if not header:
        return False
    parts: dict[str, list[str]] = {}
    for element in header.split(","):
        prefix, sep, value = element.strip().partition("=")
        if sep:
            parts.setdefault(prefix, []).append(value)
    try:
        ts = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - ts) > tolerance:
        return False
    expected = sign(secret, ts, body).rpartition("v1=")[2]
    return any(hmac.compare_digest(expected, sig) for sig in parts.get("v1", []))


@dataclass
class Subscription:
    id: int
    type: str
    url: str
    secret: str
    filters: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "url": self.url, "status": "VALID"}


@dataclass
class Delivery:
    """One event sent to one subscription; ``attempts`` holds the status of each try."""

    event_id: str
    subscription_id: int
    type: str
    url: str
    body: bytes
    attempts: list[int | str] = field(default_factory=list)
    delivered: bool = False


class Webhooks(Deliveries):
    """Subscriptions plus a background sender with bounded retries."""

    def __init__(self, retries: int = 3, backoff: float = 0.2, timeout: float = 10.0) -> None:
        self.subs: dict[int, Subscription] = {}
        self.retries, self.backoff, self.timeout = retries, backoff, timeout
        self._next_id = 963
        super().__init__("maintainx-webhooks")

    def validate(self, body: Any) -> str | None:
        """Error message for a bad subscription body, or None."""
        if not isinstance(body, dict):
            return "Body must be a JSON object."
        if body.get("type") not in EVENT_TYPES:
            return f"Invalid type {body.get('type')!r}."
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return "url must be an http(s) URL."
        if len(url) > MAX_URL:
            return f"url is longer than {MAX_URL} characters."
        return None

    def create(self, body: dict[str, Any]) -> Subscription:
        with self._lock:
            self._next_id += 1
            sub = Subscription(self._next_id, body["type"], body["url"], secrets.token_hex(32),
                               body.get("filters") or {})  # fmt: skip
            self.subs[sub.id] = sub
            return sub

    def emit(self, event_type: str, payload: dict[str, Any]) -> int:
        """Queue ``payload`` for every subscription to ``event_type``; returns how many."""
        body = orjson.dumps(payload)
        with self._lock:
            targets = [s for s in self.subs.values() if s.type == event_type]
        for sub in targets:
            self._enqueue(Delivery(uuid.uuid4().hex, sub.id, event_type, sub.url, body))
        return len(targets)

    def _send(self, d: Delivery) -> int | str:
        sub = self.subs.get(d.subscription_id)
        if sub is None:
            return "unsubscribed"
        ts = int(time.time())
        headers = {
            "content-type": "application/json",
            "x-maintainx-webhook-body-signature": sign(sub.secret, ts, d.body),
            "x-maintainx-webhook-uri-signature": sign(sub.secret, ts, d.url.encode()),
            "x-maintainx-webhook-event-id": d.event_id,
        }
        try:
            r = self._session.post(d.url, data=d.body, headers=headers, timeout=self.timeout)
            return r.status_code
        except requests.RequestException as exc:
            return type(exc).__name__

    def _deliver(self, d: Delivery) -> None:
        for attempt in range(self.retries + 1):
            status = self._send(d)
            d.attempts.append(status)
            if isinstance(status, int) and 200 <= status < 300:
                d.delivered = True
                return
            if status == "unsubscribed" or attempt == self.retries:
                return
            time.sleep(self.backoff * (2**attempt))
