"""Shared HTTP client for connectors: one session, bounded retries (tenacity), clear failures.

Retries 429 and 503 honouring ``Retry-After`` (seconds or an HTTP date), other 5xx, connection errors,
timeouts and truncated bodies (a cut-off chunked body, or with ``decode=True`` a body that is not
complete JSON), with exponential backoff and full jitter, up to ``max_retries`` times and never
sleeping longer than ``max_sleep`` at once. The retry loop is tenacity's (`tenacity.Retrying`); this
module only says what is transient (`Transient`) and how long to wait (`HttpClient._delay`). After
the last retry it raises `SourceError` naming the system, the endpoint (path only: no query string,
which may hold a key) and the last status. 4xx other than 429 fail at once: retrying bad credentials
can lock an account.

Rate-limit headers (`RateLimitHeaders`, e.g. MaintainX's ``X-Rate-Limit-Remaining``/``-Reset``):
when the remaining budget reaches 0 the next call first waits until the reset, so a well-behaved
client never sees the 429.

Extension points:

- ``prepare(request)`` (a `requests.PreparedRequest`, every attempt) lets a connector sign requests
  (an HMAC over the body and a timestamp, say) right before they are sent;
- ``classify(response, body)`` reads errors a protocol puts inside the body (an RPC answering HTTP
  200 with an error object): it returns a `Verdict` (``retry`` with the source's advised wait,
  ``auth``, ``permanent``) or None when the response is what it says. It sees every response with
  a success status (``body``: the decoded JSON with ``decode=True``, else None) and every one with
  a retried status (``body``: its JSON if it has some), so throttling answered as HTTP 429 can
  carry its wait advice in the body too.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import orjson
import requests
import tenacity

from connectors.base import SourceError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    base_delay: float = 0.5
    max_sleep: float = 30.0


@dataclass(frozen=True)
class RateLimitHeaders:
    """Names of a source's rate-limit headers; ``reset`` is seconds to wait (``delta``) or the
    epoch second the budget comes back (``epoch``)."""

    remaining: str
    reset: str
    reset_kind: Literal["delta", "epoch"] = "delta"


class Transient(Exception):
    """One failed attempt that may succeed when retried (tenacity retries exactly these);
    ``retry_after``: the wait the source advised (seconds), if it did."""

    def __init__(self, status: int | str, detail: str, response: requests.Response | None = None,
                 retry_after: float | None = None):  # fmt: skip
        super().__init__(f"{status}: {detail}")
        self.status, self.detail, self.response = status, detail, response
        self.retry_after = retry_after


@dataclass(frozen=True)
class Verdict:
    """A response classifier's reading of one response (see the module docstring).

    - ``retry``: transient (throttled, busy); ``retry_after`` = the wait the source advises in
      seconds (None: the usual backoff), capped by the policy's ``max_sleep``;
    - ``auth``: refused credentials: fails at once as status 401 (never retried);
    - ``permanent``: fails at once; ``status`` names it in the error (default ``"error"``).

    ``detail`` is the source's message, safe to log (the classifier must leave secrets out)."""

    kind: Literal["retry", "auth", "permanent"]
    detail: str
    retry_after: float | None = None
    status: int | str | None = None


Classifier = Callable[[requests.Response, Any], "Verdict | None"]


def retry_after_seconds(value: str | None) -> float | None:
    """Parse a Retry-After header: delta seconds or an HTTP date. None if absent or unparsable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def endpoint_of(url: str) -> str:
    """The path of a URL, safe to log (no query string, no credentials)."""
    return urlsplit(url).path or "/"


class HttpClient:
    """A `requests.Session` with retries. ``error_detail(response)`` extracts the source's message."""

    def __init__(
        self,
        system: str,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        policy: RetryPolicy | None = None,
        error_detail: Callable[[requests.Response], str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rate_limit: RateLimitHeaders | None = None,
        prepare: Callable[[requests.PreparedRequest], None] | None = None,
        classify: Classifier | None = None,
    ) -> None:
        self.system = system
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.error_detail = error_detail or (lambda r: r.text[:300])
        self._sleep = sleep
        self.prepare = prepare
        self.classify = classify
        self.retries = 0  # retries performed over the client's life (for task logs)
        self.rate_limit = rate_limit
        self._resume_at = 0.0
        self.rate_limit_waits = 0  # calls that waited for a spent budget to come back
        self.rate_limit_waited = 0.0
        if rate_limit is not None:
            self.session.hooks["response"].append(self._observe)

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"

    # --- rate-limit headers --------------------------------------------------------------------
    def _observe(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        rl = self.rate_limit
        assert rl is not None
        remaining = response.headers.get(rl.remaining)
        reset = response.headers.get(rl.reset)
        try:
            if remaining is not None and reset is not None and int(remaining) <= 0:
                wait = float(reset) - (time.time() if rl.reset_kind == "epoch" else 0.0)
                self._resume_at = time.monotonic() + max(0.0, wait)
        except ValueError:
            pass  # malformed headers: fall back to 429 handling

    def _pending(self) -> float:
        return max(0.0, self._resume_at - time.monotonic())

    def _wait_for_budget(self) -> None:
        wait = self._pending()
        if wait > 0:
            self.rate_limit_waits += 1
            self.rate_limit_waited += wait
            self._sleep(wait)

    # --- retries -------------------------------------------------------------------------------
    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        """Seconds before retry ``attempt + 1``: Retry-After when given, else full jitter."""
        delay = None
        if response is not None:
            after = retry_after_seconds(response.headers.get("Retry-After"))
            if after is not None:
                delay = min(after, self.policy.max_sleep)
        if delay is None:
            cap = min(self.policy.max_sleep, self.policy.base_delay * (2**attempt))
            delay = random.uniform(0, cap)
        return max(delay, self._pending())

    def _attempt(self, method: str, url: str, decode: bool, kwargs: dict) -> requests.Response:
        self._wait_for_budget()
        try:
            if self.prepare is None:
                response = self.session.request(method, url, **kwargs)
            else:
                response = self._send_prepared(method, url, kwargs)
            _ = response.content  # read the body now: a truncated body raises here
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise Transient(type(exc).__name__, "connection error or timeout") from None
        except requests.exceptions.ChunkedEncodingError:
            raise Transient("truncated", "response body was cut short") from None
        status = response.status_code
        where = f"{method} {endpoint_of(url)}"
        if status < 400:
            body = None
            if decode:
                try:
                    body = response.decoded = orjson.loads(response.content)  # type: ignore[attr-defined]
                except orjson.JSONDecodeError:
                    raise Transient("truncated", "response is not valid JSON") from None
            if self.classify is not None:
                self._judge(self.classify(response, body), status, where, response)
            return response
        detail = self.error_detail(response)
        if status not in RETRY_STATUSES:
            raise SourceError(self.system, where, status, detail)
        if self.classify is not None:
            try:
                body = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                body = None
            self._judge(self.classify(response, body), status, where, response)
        raise Transient(status, detail, response)

    def _judge(
        self, v: Verdict | None, status: int, where: str, response: requests.Response
    ) -> None:
        """Raise what a classifier's verdict means (nothing for None)."""
        if v is None:
            return
        if v.kind == "retry":
            raise Transient(v.status or status, v.detail, response, v.retry_after)
        if v.kind == "auth":
            raise SourceError(self.system, where, 401, v.detail)
        if v.kind == "permanent":
            raise SourceError(self.system, where, v.status or "error", v.detail)
        raise ValueError(f"{self.system}: a classifier answered an unknown verdict {v.kind!r}")

    def _send_prepared(self, method: str, url: str, kwargs: dict) -> requests.Response:
        kwargs = dict(kwargs)
        send = {k: kwargs.pop(k) for k in ("timeout", "verify", "stream", "cert") if k in kwargs}
        prepared = self.session.prepare_request(requests.Request(method, url, **kwargs))
        assert self.prepare is not None
        self.prepare(prepared)  # sign what is actually sent
        return self.session.send(prepared, **send)

    def request(
        self, method: str, path: str, *, decode: bool = False, **kwargs: Any
    ) -> requests.Response:
        """Send with retries; return the successful response or raise `SourceError`.

        With ``decode=True`` the body must be JSON (a cut-off body is retried) and is left decoded
        in ``response.decoded``.
        """
        url = self.url(path)
        kwargs.setdefault("timeout", self.timeout)
        policy = self.policy

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, Transient) and exc.retry_after is not None:  # the source's advice
                return max(min(max(0.0, exc.retry_after), policy.max_sleep), self._pending())
            response = exc.response if isinstance(exc, Transient) else None
            return self._delay(state.attempt_number - 1, response)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            self.retries += 1
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "%s: %s %s answered %s; retry %d/%d in %.1fs",
                self.system, method, endpoint_of(url), getattr(exc, "status", exc),
                state.attempt_number, policy.max_retries, state.upcoming_sleep,
            )  # fmt: skip

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(policy.max_retries + 1),
            retry=tenacity.retry_if_exception_type(Transient),
            wait=wait,
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(self._attempt, method, url, decode, dict(kwargs))
        except Transient as last:
            raise SourceError(
                self.system,
                f"{method} {endpoint_of(url)}",
                last.status,
                f"{last.detail} (gave up after {policy.max_retries} retries)",
            ) from None

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """GET and decode JSON, retrying cut-off bodies like any other transient failure."""
        return self.request("GET", path, decode=True, **kwargs).decoded  # type: ignore[attr-defined]

    def close(self) -> None:
        self.session.close()
