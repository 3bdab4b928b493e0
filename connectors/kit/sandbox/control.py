"""The control endpoint every sandbox serves beside its protocol: change, add and hard-delete
records, and change fault rates, while it runs (from tests, demos, another process).

    POST   /_sandbox/records/<entity>   {"record": {...}}                 -> 201 {"record": ...}
    PATCH  /_sandbox/records/<entity>   {"key": [...], "set": {...}}      -> 200 {"record": ...}
    DELETE /_sandbox/records/<entity>   {"key": [...]}                    -> 204
    GET    /_sandbox/faults                                              -> 200 rates and counts
    PUT    /_sandbox/faults             {"fail_429": 0.2, "retry_after": 0}  -> 200

``<entity>`` is the unified name (``work-orders``); ``key`` the natural key's values in the
manifest's order. Every call needs the header ``X-Sandbox-Key: <the sandbox's API key or
password>`` (compared in constant time). A change dates the record now (its change time moves),
as an edit in the source would. Errors are ``{"error": "..."}`` with 400/401/404.
"""

from __future__ import annotations

import hmac
from typing import Any, Protocol

import orjson

from connectors.kit.sandbox.faults import Faults

PREFIX = "/_sandbox/"


class Records(Protocol):
    """What a sandbox implements for the control endpoint (unified entity names)."""

    def add(self, entity: str, record: dict[str, Any]) -> dict[str, Any]: ...
    def change(self, entity: str, key: list[Any], values: dict[str, Any]) -> dict[str, Any]: ...
    def delete(self, entity: str, key: list[Any]) -> bool: ...


class Control:
    def __init__(self, records: Records, faults: Faults, secret: str) -> None:
        self.records, self.faults, self._secret = records, faults, secret.encode()

    def handle(self, method: str, path: str, headers: Any, raw: bytes) -> tuple[int, bytes]:
        """(status, JSON body) for a control request (``path`` starts with ``/_sandbox/``)."""
        given = (headers.get("X-Sandbox-Key") or "").encode()
        if not hmac.compare_digest(given, self._secret):
            return _err(401, "X-Sandbox-Key is missing or wrong")
        try:
            body = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            return _err(400, "the body is not JSON")
        if not isinstance(body, dict):
            return _err(400, "the body must be a JSON object")
        rest = path[len(PREFIX) :].split("?", 1)[0].strip("/").split("/")
        try:
            if rest == ["faults"]:
                if method == "PUT":
                    self.faults.update(**body)
                elif method != "GET":
                    return _err(405, f"{method} /_sandbox/faults: use GET or PUT")
                return 200, orjson.dumps(self.faults.state())
            if len(rest) == 2 and rest[0] == "records":
                return self._records(method, rest[1], body)
        except KeyError as exc:
            return _err(404, str(exc.args[0]) if exc.args else "not found")
        except (ValueError, TypeError) as exc:
            return _err(400, str(exc))
        return _err(404, f"no control resource {path}")

    def _records(self, method: str, entity: str, body: dict) -> tuple[int, bytes]:
        if method == "POST":
            record = body.get("record")
            if not isinstance(record, dict):
                raise ValueError('POST needs {"record": {...}}')
            return 201, orjson.dumps({"record": self.records.add(entity, record)}, default=str)
        key = body.get("key")
        if not isinstance(key, list) or not key:
            raise ValueError(f'{method} needs {{"key": [...]}} (the natural key\'s values)')
        if method == "PATCH":
            values = body.get("set")
            if not isinstance(values, dict) or not values:
                raise ValueError('PATCH needs {"set": {field: value, ...}}')
            return 200, orjson.dumps(
                {"record": self.records.change(entity, key, values)}, default=str
            )
        if method == "DELETE":
            if not self.records.delete(entity, key):
                raise KeyError(f"{entity}: no record with key {key}")
            return 204, b""
        return _err(405, f"{method} /_sandbox/records: use POST, PATCH or DELETE")


def _err(status: int, message: str) -> tuple[int, bytes]:
    return status, orjson.dumps({"error": message})
