"""Webhook verification schemes: pure functions over the raw body and the request headers.

No HTTP framework, no Airflow, no database: the receiver (include/api/webhooks.py) calls
`verify(scheme, secrets, headers, body, now)` and maps a `WebhookRejected` to its status code.
Every comparison of a secret or a signature is constant time (`hmac.compare_digest`); a missing or
malformed header is a `WebhookRejected` (400 or 401), never another exception.

Schemes (a connection picks one by name; `SCHEMES` lists them with the headers they read):

- ``standard``: Standard Webhooks (standardwebhooks.com). ``webhook-id``, ``webhook-timestamp``
  (Unix seconds), ``webhook-signature`` (space-separated ``v1,<base64 HMAC-SHA256>``, several
  during a rotation); signed content ``{id}.{timestamp}.{raw body}``; secret ``whsec_`` + base64.
  The event id is ``webhook-id``.
- ``maintainx``: ``x-maintainx-webhook-body-signature: t=<unix s>,v1=<hex HMAC-SHA256(secret,
  "<t>." + raw body)>``. MaintainX documents no event id: the id is the SHA-256 of the raw body
  (its retries resend the same body with a new timestamp and signature).
- ``limble``: headers ``timestamp``, ``token``, ``signature`` = hex HMAC-SHA256 keyed with the
  hex SHA-256 of the account's oldest API key, over ``timestamp + token``. Limble does not sign the
  body, so the body is only a hint (the apply step re-reads the record from the source); the
  event id is the token.
- ``header``: a static secret in a header (default ``x-webhook-secret``) for sources that cannot
  sign (a Maximo publish channel's HTTP endpoint). No timestamp: no replay window.
- ``basic``: HTTP basic auth, the secret being ``user:password``.

For ``header`` and ``basic`` the event id is the ``webhook-id`` header when the source sends one,
else the SHA-256 of the raw body.

Secrets: a connection may hold several (a rotation: the old and the new one); a request passes when
any of them verifies it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

DEFAULT_TOLERANCE = 300.0  # seconds, as Standard Webhooks and MaintainX recommend
MAX_ID_LEN = 200
_PRINTABLE_ID = re.compile(r"^[\x21-\x7e]{1,200}$")


MALFORMED = "malformed"  # a header or value the scheme cannot read
UNAUTHENTIC = "unauthentic"  # missing or wrong signature or secret, or outside the tolerance


class WebhookRejected(Exception):
    """The request is refused: ``kind`` (`MALFORMED` or `UNAUTHENTIC`; the API turns them into
    400 and 401) and a reason that names the header at fault. The reason never contains a secret
    or a signature."""

    def __init__(self, kind: str, reason: str) -> None:
        if kind not in (MALFORMED, UNAUTHENTIC):
            raise ValueError(f"unknown rejection kind {kind!r}")
        self.kind, self.reason = kind, reason
        super().__init__(f"{kind}: {reason}")


@dataclass(frozen=True)
class Verified:
    """An authentic request: the event id to dedupe on and the sender's timestamp (if any)."""

    event_id: str
    timestamp: int | None = None


Headers = Mapping[str, str]  # lower-case names (Starlette's Headers are case-insensitive)
Verifier = Callable[[Sequence[str], Headers, bytes, float, float, str | None], Verified]


@dataclass(frozen=True)
class Scheme:
    """A verification scheme: its name, the headers it reads, and its verifier."""

    name: str
    headers: tuple[str, ...]
    verify: Verifier
    timestamped: bool  # whether a tolerance applies (replays of old requests are refused)


def body_id(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _header(headers: Headers, name: str) -> str:
    value = headers.get(name)
    if value is None or not value.strip():
        raise WebhookRejected(UNAUTHENTIC, f"missing header {name}")
    return value.strip()


def _timestamp(raw: str, name: str, now: float, tolerance: float) -> int:
    if not raw.isdigit() or len(raw) > 12:
        raise WebhookRejected(
            MALFORMED, f"header {name} must be Unix seconds, got a malformed value"
        )
    ts = int(raw)
    if abs(now - ts) > tolerance:
        raise WebhookRejected(
            UNAUTHENTIC,
            f"header {name} is outside the tolerance of {int(tolerance)} s (replay or clock)",
        )
    return ts


def _event_id(value: str, name: str) -> str:
    if not _PRINTABLE_ID.match(value):
        raise WebhookRejected(
            MALFORMED, f"header {name} must be 1-{MAX_ID_LEN} printable characters"
        )
    return value


def _any_equal(expected: Sequence[bytes | str], given: Sequence[bytes | str]) -> bool:
    """Whether any given value equals any expected one; every pair is compared (constant time
    per pair, no early exit that would tell which secret matched)."""
    ok = False
    for e in expected:
        eb = e.encode() if isinstance(e, str) else e
        for g in given:
            ok |= hmac.compare_digest(eb, g.encode() if isinstance(g, str) else g)
    return ok


# ---------------------------------------------------------------- Standard Webhooks


def standard_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret (``whsec_`` + base64; the prefix is optional)."""
    text = secret.strip().removeprefix("whsec_")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a Standard Webhooks secret must be 'whsec_' + base64") from None


def standard_sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature (for senders and tests)."""
    mac = hmac.new(standard_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def verify_standard(
    secrets: Sequence[str], headers: Headers, body: bytes, now: float,
    tolerance: float = DEFAULT_TOLERANCE, _opt: str | None = None,
) -> Verified:  # fmt: skip
    msg_id = _event_id(_header(headers, "webhook-id"), "webhook-id")
    raw_ts = _header(headers, "webhook-timestamp")
    sig_header = _header(headers, "webhook-signature")
    ts = _timestamp(raw_ts, "webhook-timestamp", now, tolerance)
    given: list[bytes] = []
    for item in sig_header.split(" "):
        version, sep, value = item.partition(",")
        if not sep or not version:
            raise WebhookRejected(
                MALFORMED, "header webhook-signature: each entry must be 'v1,<base64>'"
            )
        if version != "v1":
            continue  # other versions (v1a: asymmetric) are not ours to check
        try:
            given.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            raise WebhookRejected(
                MALFORMED, "header webhook-signature: a v1 value is not base64"
            ) from None
    if not given:
        raise WebhookRejected(UNAUTHENTIC, "header webhook-signature has no v1 signature")
    signed = f"{msg_id}.{ts}.".encode() + body
    expected = [hmac.new(standard_key(s), signed, hashlib.sha256).digest() for s in secrets]
    if not _any_equal(expected, given):
        raise WebhookRejected(UNAUTHENTIC, "webhook-signature does not match")
    return Verified(msg_id, ts)


# ---------------------------------------------------------------- MaintainX


def maintainx_sign(secret: str, timestamp: int, payload: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


MAINTAINX_HEADER = "x-maintainx-webhook-body-signature"


def verify_maintainx(
    secrets: Sequence[str], headers: Headers, body: bytes, now: float,
    tolerance: float = DEFAULT_TOLERANCE, _opt: str | None = None,
) -> Verified:  # fmt: skip
    value = _header(headers, MAINTAINX_HEADER)
    stamps: list[str] = []
    sigs: list[str] = []
    for element in value.split(","):
        prefix, sep, item = element.strip().partition("=")
        if not sep:
            raise WebhookRejected(MALFORMED, f"header {MAINTAINX_HEADER}: elements must be 'k=v'")
        if prefix == "t":
            stamps.append(item)
        elif prefix == "v1":
            sigs.append(item.lower())
    if len(stamps) != 1:
        raise WebhookRejected(MALFORMED, f"header {MAINTAINX_HEADER} must hold exactly one t=")
    if not sigs:
        raise WebhookRejected(UNAUTHENTIC, f"header {MAINTAINX_HEADER} has no v1 signature")
    ts = _timestamp(stamps[0], f"{MAINTAINX_HEADER} t", now, tolerance)
    signed = f"{ts}.".encode() + body
    expected = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets]
    if not _any_equal(expected, sigs):
        raise WebhookRejected(UNAUTHENTIC, f"{MAINTAINX_HEADER} does not match")
    return Verified(body_id(body), ts)


# ---------------------------------------------------------------- Limble


def limble_sign(api_key: str, timestamp: int, token: str) -> str:
    key = hashlib.sha256(api_key.encode()).hexdigest().encode()
    return hmac.new(key, f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()


def verify_limble(
    secrets: Sequence[str], headers: Headers, body: bytes, now: float,
    tolerance: float = DEFAULT_TOLERANCE, _opt: str | None = None,
) -> Verified:  # fmt: skip
    raw_ts = _header(headers, "timestamp")
    token = _event_id(_header(headers, "token"), "token")
    signature = _header(headers, "signature").lower()
    ts = _timestamp(raw_ts, "timestamp", now, tolerance)
    expected = [limble_sign(s, ts, token) for s in secrets]
    if not _any_equal(expected, [signature]):
        raise WebhookRejected(UNAUTHENTIC, "signature does not match")
    return Verified("limble:" + token, ts)


# ---------------------------------------------------------------- static secrets


DEFAULT_SECRET_HEADER = "x-webhook-secret"


def _optional_id(headers: Headers, body: bytes) -> str:
    given = headers.get("webhook-id")
    return _event_id(given.strip(), "webhook-id") if given and given.strip() else body_id(body)


def verify_header(
    secrets: Sequence[str], headers: Headers, body: bytes, now: float,
    tolerance: float = DEFAULT_TOLERANCE, header: str | None = None,
) -> Verified:  # fmt: skip
    name = (header or DEFAULT_SECRET_HEADER).lower()
    given = _header(headers, name)
    if not _any_equal([s.encode() for s in secrets], [given.encode()]):
        raise WebhookRejected(UNAUTHENTIC, f"header {name} does not match")
    return Verified(_optional_id(headers, body))


def verify_basic(
    secrets: Sequence[str], headers: Headers, body: bytes, now: float,
    tolerance: float = DEFAULT_TOLERANCE, _opt: str | None = None,
) -> Verified:  # fmt: skip
    value = _header(headers, "authorization")
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise WebhookRejected(
            UNAUTHENTIC, "header authorization must be 'Basic <base64 user:password>'"
        )
    try:
        given = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookRejected(
            MALFORMED, "header authorization: the Basic value is not base64"
        ) from None
    if not _any_equal([s.encode() for s in secrets], [given]):
        raise WebhookRejected(UNAUTHENTIC, "basic credentials do not match")
    return Verified(_optional_id(headers, body))


SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        Scheme("standard", ("webhook-id", "webhook-timestamp", "webhook-signature"),
               verify_standard, True),
        Scheme("maintainx", (MAINTAINX_HEADER,), verify_maintainx, True),
        Scheme("limble", ("timestamp", "token", "signature"), verify_limble, True),
        Scheme("header", (DEFAULT_SECRET_HEADER,), verify_header, False),
        Scheme("basic", ("authorization",), verify_basic, False),
    )
}  # fmt: skip


def scheme(name: str) -> Scheme:
    try:
        return SCHEMES[name]
    except KeyError:
        raise ValueError(
            f"unknown webhook scheme {name!r} (known: {', '.join(sorted(SCHEMES))})"
        ) from None


def verify(
    name: str, secrets: Sequence[str], headers: Headers, body: bytes, now: float,
    tolerance: float = DEFAULT_TOLERANCE, header: str | None = None,
) -> Verified:  # fmt: skip
    """Verify one request with scheme ``name``; raises `WebhookRejected`."""
    usable = [s for s in secrets if s]
    if not usable:
        raise WebhookRejected(UNAUTHENTIC, "no webhook secret is configured for this connection")
    try:
        return scheme(name).verify(usable, headers, body, now, tolerance, header)
    except WebhookRejected:
        raise
    except (ValueError, UnicodeError) as exc:  # a stored secret that is not what the scheme needs
        raise WebhookRejected(
            UNAUTHENTIC, f"the connection's webhook secret is unusable: {exc}"
        ) from None
