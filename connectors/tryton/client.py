"""Tryton JSON-RPC: login, calls with a context, tagged values, errors inside HTTP 200, paging.

Protocol (trytond 8.2): ``POST /<db>/rpc/`` with a body of exactly ``{id, method, params}``;
``common.db.login`` answers ``[user_id, session, ...]`` and later calls send
``Authorization: Session base64(login:user_id:session)``. The context dict is the LAST param.
Failures: HTTP 401 (bad password or session), 403 (unknown method), 404 (unknown database), 422
(missing context), 429 (too many failed logins); application errors come back as HTTP 200
``{"error": [type, args]}`` and become `SourceError`. Bad credentials are never retried.

Values: tagged ``{"__class__": "datetime"|"date"|"time"|"timedelta"|"Decimal"|"bytes", ...}`` are
decoded to naive ISO strings (Tryton stores UTC), ISO dates, seconds, decimal strings and base64.
Related fields read as ``"party.code"`` come back under ``"party."``; they are renamed
``"party_rel"`` so that mapping paths stay dotted (``party_rel.code``).
"""

from __future__ import annotations

import base64
import itertools
import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import orjson
import requests

from connectors.base import SourceError
from connectors.http import HttpClient, RetryPolicy

log = logging.getLogger(__name__)

SYSTEM = "tryton"
TRYTON_ERRORS = frozenset(
    {"UserError", "UserWarning", "LoginException", "ConcurrencyException", "RateLimitException"}
)


def encode(value: Any) -> Any:
    """Python values -> Tryton's tagged JSON (datetimes must be naive, in the server's zone)."""
    if isinstance(value, datetime):
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, bytes):
        return {"__class__": "bytes", "base64": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def _decode_tagged(obj: dict) -> Any:
    cls = obj.get("__class__")
    if cls == "datetime":
        return datetime(
            obj["year"], obj["month"], obj["day"], obj.get("hour", 0), obj.get("minute", 0),
            obj.get("second", 0), obj.get("microsecond", 0),
        ).isoformat()  # fmt: skip
    if cls == "date":
        return date(obj["year"], obj["month"], obj["day"]).isoformat()
    if cls == "time":
        return time(
            obj.get("hour", 0), obj.get("minute", 0), obj.get("second", 0),
            obj.get("microsecond", 0),
        ).isoformat()  # fmt: skip
    if cls == "timedelta":
        return obj.get("seconds", 0)
    if cls == "Decimal":
        return obj["decimal"]
    if cls == "bytes":
        return obj["base64"]
    return obj


def decode(value: Any) -> Any:
    """Tryton's tagged JSON -> plain JSON values; ``"x."`` keys renamed ``"x_rel"``."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "__class__" in value:
            return _decode_tagged(value)
        return {(k[:-1] + "_rel" if k.endswith(".") else k): decode(v) for k, v in value.items()}
    return value


def error_text(error: Any) -> tuple[str, str]:
    """(type, message) of an ``error`` member: ``[type, args]`` or ``[str(exc), traceback]``."""
    if isinstance(error, list | tuple) and error:
        kind, args = error[0], error[1] if len(error) > 1 else ""
        if kind in TRYTON_ERRORS:
            if isinstance(args, list | tuple):
                # UserError: (message, description, domain); the domain dump is left out.
                shown = args[1:3] if kind == "UserWarning" else args[:2]
                parts = [str(a) for a in shown if a not in (None, "", [], {})]
                return kind, _short(" - ".join(parts))
            return kind, _short(str(args))
        # A Python exception on the server: its str() (a KeyError shows the key: "'nope'").
        return "ServerError", str(kind)
    return "ServerError", str(error)


class TrytonRpc:
    """One authenticated JSON-RPC session to one Tryton database."""

    def __init__(
        self,
        base_url: str,
        database: str,
        user: str,
        password: str,
        *,
        timeout: float = 60.0,
        max_retries: int = 5,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        if not database:
            raise ValueError("tryton: the database name is required (options.database)")
        if not user or not password:
            raise ValueError("tryton: credentials need 'user' and 'password'")
        self.database = database
        self._user, self._password = user, password
        self.http = HttpClient(
            SYSTEM,
            base_url,
            headers={"Content-Type": "application/json"},
            timeout=timeout,
            policy=RetryPolicy(max_retries=max_retries),
            error_detail=_http_detail,
        )
        # Logins are never retried: a bad password repeated gets the client rate-limited (429).
        self._login_http = HttpClient(
            SYSTEM, base_url, timeout=timeout, policy=RetryPolicy(max_retries=0),
            error_detail=_http_detail,
        )  # fmt: skip
        self._login_http.session = self.http.session
        self.context: dict[str, Any] = dict(context or {})
        self.user_id: int | None = None
        self._ids = itertools.count(1)

    @property
    def path(self) -> str:
        return f"/{self.database}/rpc/"

    def _post(self, method: str, params: list, http: HttpClient | None = None) -> Any:
        body = orjson.dumps({"id": next(self._ids), "method": method, "params": encode(params)})
        try:
            response = (http or self.http).request("POST", self.path, data=body, decode=True)
        except SourceError as exc:
            detail = str(exc).partition(f"status {exc.status}: ")[2]
            raise SourceError(SYSTEM, method, exc.status, detail) from None
        payload = response.decoded  # type: ignore[attr-defined]
        if not isinstance(payload, dict):
            raise SourceError(SYSTEM, method, "bad-response", "answer is not a JSON object")
        if payload.get("error") is not None:
            kind, message = error_text(payload["error"])
            error = SourceError(SYSTEM, method, kind, message)
            error.tryton_error = payload["error"]  # type: ignore[attr-defined]
            raise error
        return decode(payload.get("result"))

    def login(self) -> None:
        """Open a session. A bad password is HTTP 401 and is never retried (429 would follow)."""
        params = [self._user, {"password": self._password}, "en"]
        result = self._post("common.db.login", params, self._login_http)
        user_id, session = result[0], result[1]
        token = base64.b64encode(f"{self._user}:{user_id}:{session}".encode()).decode()
        self.http.session.headers["Authorization"] = f"Session {token}"
        self.user_id = user_id

    def call(self, method: str, *params: Any, context: Mapping[str, Any] | None = None) -> Any:
        """Call ``method`` with ``params`` and the session context (plus ``context``) last."""
        if self.user_id is None:
            self.login()
        ctx = {**self.context, **(context or {})}
        try:
            return self._post(method, [*params, ctx])
        except SourceError as exc:
            if exc.status != 401:
                raise
        log.info("tryton: session expired; logging in again")
        self.login()
        return self._post(method, [*params, ctx])

    def model(
        self, model: str, method: str, *params: Any, context: Mapping[str, Any] | None = None
    ) -> Any:
        return self.call(f"model.{model}.{method}", *params, context=context)

    def search_read(
        self,
        model: str,
        domain: Sequence,
        fields: Sequence[str],
        *,
        limit: int,
        offset: int = 0,
        order: Sequence[tuple[str, str]] = (("id", "ASC"),),
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        params = [list(domain), offset, limit, [list(o) for o in order], list(fields)]
        return self.model(model, "search_read", *params, context=context)

    def pages(
        self,
        model: str,
        domain: Sequence,
        fields: Sequence[str],
        *,
        page_size: int,
        context: Mapping[str, Any] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Keyset pages ordered by id: ``domain AND id > last id``; stable under inserts."""
        fields = list(dict.fromkeys(["id", *fields]))
        last = 0
        while True:
            # The caller's domain nested as one sub-domain: a leading "OR" stays its own.
            page_domain = [list(domain), ("id", ">", last)] if domain else [("id", ">", last)]
            rows = self.search_read(model, page_domain, fields, limit=page_size, context=context)
            if not rows:
                return
            yield rows
            if len(rows) < page_size:
                return
            last = rows[-1]["id"]

    def close(self) -> None:
        self.http.close()


def _short(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _http_detail(response: requests.Response) -> str:
    return _status_hint(response.status_code)


def _status_hint(status: int | str | None) -> str:
    return {
        401: "bad user, password or session",
        403: "unknown or forbidden method",
        404: "unknown database",
        422: "missing context argument",
        429: "too many failed logins; wait before retrying",
    }.get(status, "") if isinstance(status, int) else ""  # fmt: skip
