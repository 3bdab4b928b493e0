"""Shared HTTP client for connectors: one session, bounded retries, clear failures.

Retries 429 and 503 honouring ``Retry-After`` (seconds or an HTTP date), other 5xx, connection errors,
timeouts and truncated bodies, with exponential backoff and full jitter, up to ``max_retries`` times and
never sleeping longer than ``max_sleep`` at once. After that it raises `SourceError` naming the system, the
endpoint (path only: no query string, which may hold a key) and the last status. 4xx other than 429 fail at
once: retrying bad credentials can lock an account.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests

from connectors.base import SourceError

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5
    base_delay: float = 0.5
    max_sleep: float = 30.0


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
    ) -> None:
        self.system = system
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self.error_detail = error_detail or (lambda r: r.text[:300])
        self._sleep = sleep
        self.retries = 0  # retries performed over the client's life (for task logs)

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        if response is not None:
            after = retry_after_seconds(response.headers.get("Retry-After"))
            if after is not None:
                return min(after, self.policy.max_sleep)
        cap = min(self.policy.max_sleep, self.policy.base_delay * (2**attempt))
        return random.uniform(0, cap)

    def request(
        self, method: str, path: str, *, decode: bool = False, **kwargs: Any
    ) -> requests.Response:
        """Send with retries; return the successful response or raise `SourceError`.

        With ``decode=True`` the body must be JSON (a cut-off body is retried) and is left decoded
        in ``response.decoded``.
        """
        url = self.url(path)
        endpoint = endpoint_of(url)
        kwargs.setdefault("timeout", self.timeout)
        last_status: int | str | None = None
        detail = ""
        for attempt in range(self.policy.max_retries + 1):
            response = None
            try:
                response = self.session.request(method, url, **kwargs)
                _ = response.content  # read the body now: a truncated body raises here
            except (requests.ConnectionError, requests.Timeout) as exc:
                last_status, detail = type(exc).__name__, "connection error or timeout"
            except requests.exceptions.ChunkedEncodingError:
                last_status, detail = "truncated", "response body was cut short"
            else:
                if response.status_code < 400:
                    if not decode:
                        return response
                    try:
                        response.decoded = orjson.loads(response.content)  # type: ignore[attr-defined]
                        return response
                    except orjson.JSONDecodeError:
                        last_status, detail = "truncated", "response is not valid JSON"
                        response = None
                else:
                    last_status = response.status_code
                    detail = self.error_detail(response)
                    if response.status_code not in RETRY_STATUSES:
                        raise SourceError(self.system, f"{method} {endpoint}", last_status, detail)
            if attempt == self.policy.max_retries:
                break
            delay = self._delay(attempt, response)
            self.retries += 1
            log.warning(
                "%s: %s %s answered %s; retry %d/%d in %.1fs",
                self.system, method, endpoint, last_status, attempt + 1, self.policy.max_retries, delay,
            )  # fmt: skip
            self._sleep(delay)
        raise SourceError(
            self.system,
            f"{method} {endpoint}",
            last_status,
            f"{detail} (gave up after {self.policy.max_retries} retries)",
        )

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """GET and decode JSON, retrying cut-off bodies like any other transient failure."""
        return self.request("GET", path, decode=True, **kwargs).decoded  # type: ignore[attr-defined]

    def close(self) -> None:
        self.session.close()
