"""The shared retrying HTTP client, against a real local HTTP server."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from connectors.base import SourceError
from connectors.http import HttpClient, RetryPolicy, Verdict, retry_after_seconds


class Script:
    """Answers queued (status, headers, body) tuples, then 200s."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.seen = 0


def serve(script):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            script.seen += 1
            status, headers, body = script.answers.pop(0) if script.answers else (200, {}, b"{}")
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def sleeps():
    return []


def client(server, sleeps, retries=3):
    return HttpClient(
        "demo",
        f"http://127.0.0.1:{server.server_port}",
        policy=RetryPolicy(max_retries=retries, base_delay=0.01, max_sleep=2),
        sleep=sleeps.append,
    )


def test_retries_429_honouring_retry_after_then_succeeds(sleeps):
    server = serve(Script([(429, {"Retry-After": "1"}, b"slow down"), (200, {}, b'{"ok": 1}')]))
    try:
        assert client(server, sleeps).get_json("/x") == {"ok": 1}
        assert sleeps == [1.0]
    finally:
        server.shutdown()


def test_5xx_and_invalid_json_are_retried(sleeps):
    answers = [(500, {}, b"boom"), (200, {}, b'{"cut'), (200, {}, b'{"ok": 2}')]
    server = serve(Script(answers))
    try:
        assert client(server, sleeps).get_json("/x") == {"ok": 2}
        assert len(sleeps) == 2
    finally:
        server.shutdown()


def test_gives_up_with_error_naming_system_endpoint_status(sleeps):
    server = serve(Script([(503, {}, b"down")] * 10))
    try:
        with pytest.raises(SourceError) as err:
            client(server, sleeps, retries=2).get_json("/api/things?apikey=secret")
        msg = str(err.value)
        assert "demo: GET /api/things failed with status 503" in msg
        assert "secret" not in msg
        assert len(sleeps) == 2
    finally:
        server.shutdown()


def test_client_errors_fail_at_once(sleeps):
    server = serve(Script([(401, {}, b"no key")]))
    try:
        with pytest.raises(SourceError, match="status 401"):
            client(server, sleeps).get_json("/x")
        assert sleeps == []
    finally:
        server.shutdown()


def test_retry_after_forms():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("soon") is None


def rpc_classifier(response, body):
    """An RPC protocol's errors inside the body: ``busy`` (wait advice in ms), ``denied``, other."""
    err = body.get("error") if isinstance(body, dict) else None
    if not err:
        return None
    if err["kind"] == "busy":
        return Verdict("retry", "busy", err["wait_ms"] / 1000)
    if err["kind"] == "denied":
        return Verdict("auth", "the key was refused")
    return Verdict("permanent", f"bad request: {err['kind']}", status=f"error {err['code']}")


def classified(server, sleeps, retries=3):
    return HttpClient(
        "rpc", f"http://127.0.0.1:{server.server_port}", sleep=sleeps.append,
        policy=RetryPolicy(max_retries=retries, base_delay=0.01, max_sleep=2),
        classify=rpc_classifier,
    )  # fmt: skip


def test_a_classifier_retries_errors_in_a_200_after_the_advised_wait(sleeps):
    busy = b'{"error": {"kind": "busy", "wait_ms": 1500}}'
    server = serve(Script([(200, {}, busy), (429, {}, busy), (200, {}, b'{"ok": 3}')]))
    try:
        assert classified(server, sleeps).get_json("/rpc") == {"ok": 3}
        assert sleeps == [1.5, 1.5]  # the body's advice, for a 200 and for a 429 alike
    finally:
        server.shutdown()


def test_a_classifier_caps_advice_and_gives_up_after_the_retries(sleeps):
    busy = b'{"error": {"kind": "busy", "wait_ms": 60000}}'
    server = serve(Script([(200, {}, busy)] * 5))
    try:
        with pytest.raises(SourceError) as err:
            classified(server, sleeps, retries=2).get_json("/rpc")
        assert sleeps == [2, 2] and "gave up after 2 retries" in str(err.value)
    finally:
        server.shutdown()


def test_a_classifier_fails_auth_and_permanent_errors_at_once(sleeps):
    denied, bad = b'{"error": {"kind": "denied"}}', b'{"error": {"kind": "syntax", "code": 7}}'
    server = serve(Script([(200, {}, denied), (200, {}, bad)]))
    try:
        with pytest.raises(SourceError) as err:
            classified(server, sleeps).get_json("/rpc")
        assert err.value.status == 401 and "the key was refused" in str(err.value)
        with pytest.raises(SourceError) as err:
            classified(server, sleeps).get_json("/rpc")
        assert err.value.status == "error 7" and "bad request: syntax" in str(err.value)
        assert sleeps == []  # nothing was retried
    finally:
        server.shutdown()
