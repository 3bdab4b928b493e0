"""Verification schemes, pure: Standard Webhooks' reference vectors (signature, tolerance, rotation),
MaintainX's native scheme against its sandbox's signer, Limble's documented algorithm, static
secrets; malformed headers are 400/401 and never another exception."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest

from connectors.maintainx.sandbox.webhooks import sign as sandbox_sign
from include.webhooks import schemes
from include.webhooks import schemes as s
from include.webhooks.schemes import WebhookRejected, verify

# the receiver's answer per kind of refusal (include/api/webhooks.py)
HTTP = {schemes.MALFORMED: 400, schemes.UNAUTHENTIC: 401}

# Standard Webhooks' reference test vectors (standard-webhooks/libraries/python/tests)
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
PAYLOAD = b'{"test": 2432232314}'
SECRET = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_TS = 1614265330
VECTOR_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def std_headers(ts: int, sig: str | None = None, msg_id: str = MSG_ID) -> dict[str, str]:
    sig = sig or s.standard_sign("whsec_" + SECRET, msg_id, ts, PAYLOAD)
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sig}


def test_standard_reference_signature() -> None:
    assert s.standard_sign("whsec_" + SECRET, MSG_ID, VECTOR_TS, PAYLOAD) == VECTOR_SIG
    assert s.standard_sign(SECRET, MSG_ID, VECTOR_TS, PAYLOAD) == VECTOR_SIG  # prefix optional
    got = verify("standard", ["whsec_" + SECRET], std_headers(VECTOR_TS, VECTOR_SIG), PAYLOAD,
                 now=VECTOR_TS + 10)  # fmt: skip
    assert got.event_id == MSG_ID and got.timestamp == VECTOR_TS


def test_standard_reference_invalid_signature() -> None:
    bad = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="  # the vectors' invalid one
    with pytest.raises(WebhookRejected) as e:
        verify("standard", [SECRET], std_headers(VECTOR_TS, bad), PAYLOAD, now=VECTOR_TS)
    assert HTTP[e.value.kind] == 401
    with pytest.raises(WebhookRejected):  # the body changed by one byte
        verify("standard", [SECRET], std_headers(VECTOR_TS, VECTOR_SIG), PAYLOAD + b" ",
               now=VECTOR_TS)  # fmt: skip


@pytest.mark.parametrize("skew", [-301, 301])
def test_standard_tolerance(skew: int) -> None:
    now = int(time.time())
    with pytest.raises(WebhookRejected, match="tolerance") as e:
        verify("standard", [SECRET], std_headers(now + skew), PAYLOAD, now=now)
    assert HTTP[e.value.kind] == 401
    assert verify("standard", [SECRET], std_headers(now + skew), PAYLOAD, now=now,
                  tolerance=400).event_id == MSG_ID  # fmt: skip
    assert verify("standard", [SECRET], std_headers(now + skew // 2), PAYLOAD, now=now)


def test_standard_rotation_several_signatures_and_secrets() -> None:
    now = int(time.time())
    good = s.standard_sign(SECRET, MSG_ID, now, PAYLOAD)
    sigs = [
        "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        good,
        "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
    ]  # the reference vectors' multi-signature header
    assert verify("standard", [SECRET], std_headers(now, " ".join(sigs)), PAYLOAD, now=now)
    # receiver side: old and new secret both accepted during a rotation
    new_secret = base64.b64encode(b"n" * 32).decode()
    signed_new = s.standard_sign(new_secret, MSG_ID, now, PAYLOAD)
    assert verify("standard", [SECRET, "whsec_" + new_secret], std_headers(now, signed_new),
                  PAYLOAD, now=now)  # fmt: skip
    with pytest.raises(WebhookRejected):
        verify("standard", [SECRET], std_headers(now, signed_new), PAYLOAD, now=now)


def test_standard_agrees_with_the_standardwebhooks_library() -> None:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    lib = Webhook(SECRET)
    now = int(time.time())
    headers = std_headers(now)
    assert lib.verify(PAYLOAD.decode(), headers) == {"test": 2432232314}
    assert verify("standard", [SECRET], headers, PAYLOAD, now=now)
    tampered = dict(headers, **{"webhook-id": "msg_other"})
    with pytest.raises(WebhookVerificationError):
        lib.verify(PAYLOAD.decode(), tampered)
    with pytest.raises(WebhookRejected):
        verify("standard", [SECRET], tampered, PAYLOAD, now=now)


MALFORMED = [
    ({}, 401),
    ({"webhook-id": MSG_ID}, 401),
    ({"webhook-id": MSG_ID, "webhook-timestamp": "hello", "webhook-signature": "v1,x"}, 400),
    ({"webhook-id": MSG_ID, "webhook-timestamp": "{now}", "webhook-signature": "garbage"}, 400),
    ({"webhook-id": MSG_ID, "webhook-timestamp": "{now}", "webhook-signature": "v1,%%%"}, 400),
    ({"webhook-id": MSG_ID, "webhook-timestamp": "{now}", "webhook-signature": "v2,abc="}, 401),
    ({"webhook-id": MSG_ID, "webhook-timestamp": "{now}", "webhook-signature": "v1,"}, 401),
    ({"webhook-id": "a b", "webhook-timestamp": "{now}", "webhook-signature": "v1,AA=="}, 400),
    ({"webhook-id": "é", "webhook-timestamp": "{now}", "webhook-signature": "v1,AA=="}, 400),
    ({"webhook-id": MSG_ID, "webhook-timestamp": "9" * 40, "webhook-signature": "v1,AA=="}, 400),
    ({"webhook-id": MSG_ID, "webhook-timestamp": "-5", "webhook-signature": "v1,AA=="}, 400),
]


@pytest.mark.parametrize(("headers", "status"), MALFORMED)
def test_standard_malformed_headers(headers: dict[str, str], status: int) -> None:
    now = int(time.time())
    headers = {k: v.replace("{now}", str(now)) for k, v in headers.items()}
    with pytest.raises(WebhookRejected) as e:
        verify("standard", [SECRET], headers, PAYLOAD, now=now)
    assert HTTP[e.value.kind] == status


def test_maintainx_native_scheme_matches_the_sandbox_signer() -> None:
    secret = "a" * 64
    now = int(time.time())
    body = b'{"workOrderId":7,"orgId":1}'
    header = sandbox_sign(secret, now, body)
    assert header == s.maintainx_sign(secret, now, body)
    got = verify("maintainx", [secret], {s.MAINTAINX_HEADER: header}, body, now=now)
    assert got.event_id == "sha256:" + hashlib.sha256(body).hexdigest()
    # a retry: same body, new timestamp and signature -> same event id
    again = verify("maintainx", [secret], {s.MAINTAINX_HEADER: sandbox_sign(secret, now + 5, body)},
                   body, now=now + 5)  # fmt: skip
    assert again.event_id == got.event_id
    for bad_header, status in [
        (sandbox_sign("b" * 64, now, body), 401),  # wrong secret
        (sandbox_sign(secret, now - 400, body), 401),  # outside the tolerance
        (f"t={now}", 401),  # no signature
        (f"v1={'0' * 64}", 400),  # no timestamp
        (f"t={now},t={now},v1=00", 400),
        ("garbage", 400),
        (f"t=abc,v1={'0' * 64}", 400),
        (f"t={now},v1=ÿÿ", 401),
    ]:
        with pytest.raises(WebhookRejected) as e:
            verify("maintainx", [secret], {s.MAINTAINX_HEADER: bad_header}, body, now=now)
        assert HTTP[e.value.kind] == status, bad_header
    with pytest.raises(WebhookRejected):  # body tampered
        verify("maintainx", [secret], {s.MAINTAINX_HEADER: header}, body + b" ", now=now)


def test_limble_documented_algorithm() -> None:
    """Limble's docs: key = hex SHA-256 of the oldest API key; signature = hex HMAC-SHA256(key,
    timestamp + token). Vector computed independently here from that description."""
    api_key, ts, token = "limble-api-key-1", 1700000000, "tok_4f1b2c"
    key = hashlib.sha256(api_key.encode()).hexdigest()
    expected = hmac.new(key.encode(), f"{ts}{token}".encode(), hashlib.sha256).hexdigest()
    assert s.limble_sign(api_key, ts, token) == expected
    headers = {"timestamp": str(ts), "token": token, "signature": expected}
    body = b'{"taskID": 8203, "status": "COMPLETE", "category": "task"}'
    got = verify("limble", [api_key], headers, body, now=ts + 1)
    assert got.event_id == "limble:" + token
    assert verify("limble", [api_key], dict(headers, signature=expected.upper()), body, now=ts)
    for bad, status in [
        (dict(headers, signature="0" * 64), 401),
        (dict(headers, token="tok_other"), 401),
        (dict(headers, timestamp=str(ts + 1)), 401),
        ({k: v for k, v in headers.items() if k != "token"}, 401),
        (dict(headers, timestamp="yesterday"), 400),
    ]:
        with pytest.raises(WebhookRejected) as e:
            verify("limble", [api_key], bad, body, now=ts)
        assert HTTP[e.value.kind] == status
    with pytest.raises(WebhookRejected, match="tolerance"):
        verify("limble", [api_key], headers, body, now=ts + 301)


def test_static_header_and_basic_auth() -> None:
    body = b'{"entity": "work-orders", "id": "1001"}'
    got = verify("header", ["s3cret"], {"x-webhook-secret": "s3cret"}, body, now=0)
    assert got.event_id.startswith("sha256:")
    assert verify("header", ["s3cret"], {"x-maximo-key": "s3cret", "webhook-id": "m-1"}, body,
                  now=0, header="x-maximo-key").event_id == "m-1"  # fmt: skip
    with pytest.raises(WebhookRejected) as e:
        verify("header", ["s3cret"], {"x-webhook-secret": "s3cre"}, body, now=0)
    assert HTTP[e.value.kind] == 401
    basic = "Basic " + base64.b64encode(b"maximo:pw").decode()
    assert verify("basic", ["maximo:pw"], {"authorization": basic}, body, now=0)
    for bad, status in [("Basic !!!", 400), ("Bearer x", 401), (basic[:-4] + "AAAA", 401)]:
        with pytest.raises(WebhookRejected) as e:
            verify("basic", ["maximo:pw"], {"authorization": bad}, body, now=0)
        assert HTTP[e.value.kind] == status


def test_no_or_unusable_secret_is_401_and_unknown_scheme_is_an_error() -> None:
    with pytest.raises(WebhookRejected, match="no webhook secret") as e:
        verify("maintainx", [], {}, b"{}", now=0)
    assert HTTP[e.value.kind] == 401
    now = int(time.time())
    with pytest.raises(WebhookRejected, match="unusable") as e:
        verify("standard", ["not base64 !"], std_headers(now), PAYLOAD, now=now)
    assert HTTP[e.value.kind] == 401
    with pytest.raises(ValueError, match="unknown webhook scheme"):
        s.scheme("svix")


@pytest.mark.parametrize("scheme", ["standard", "maintainx", "limble", "header", "basic"])
def test_every_scheme_compares_with_compare_digest(scheme: str, monkeypatch) -> None:
    """A wrong signature or secret is judged by hmac.compare_digest (constant time), never ==."""
    calls: list[int] = []
    real = hmac.compare_digest

    def counting(a, b):  # noqa: ANN001, ANN202
        calls.append(1)
        return real(a, b)

    monkeypatch.setattr(s.hmac, "compare_digest", counting)
    now = int(time.time())
    headers = {
        "standard": std_headers(now, "v1,AAAA"),
        "maintainx": {s.MAINTAINX_HEADER: f"t={now},v1={'0' * 64}"},
        "limble": {"timestamp": str(now), "token": "t", "signature": "0" * 64},
        "header": {"x-webhook-secret": "nope"},
        "basic": {"authorization": "Basic " + base64.b64encode(b"a:b").decode()},
    }[scheme]
    with pytest.raises(WebhookRejected):
        verify(scheme, [SECRET], headers, PAYLOAD, now=now)
    assert calls
