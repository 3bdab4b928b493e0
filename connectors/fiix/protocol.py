"""Fiix CMMS's RPC-style JSON API: request and response classes, signing, error objects.

Shared by the connector and the sandbox, so both speak exactly what Fiix's public client
libraries speak (fiixlabs/fiix-cmms-api ``com.ma.cmms.api``, fiixlabs/fiix-cmms-client-java
``FiixCmmsClient``):

- one endpoint per tenant (``https://<tenant>.macmms.com/api/``); every call is an HTTP POST,
  ``Content-Type: text/plain``, of ONE JSON request object whose ``_maCn`` names its class
  (`REQUESTS`); a CRUD request's ``className`` names the record class, ``fields`` the columns;
- the query string is ``action=<request class>&service=cmms&accessKey=..&appKey=..
  &timestamp=<epoch ms>&signatureVersion=1&signatureMethod=HmacSHA256`` (values encoded like
  JavaScript's ``encodeURIComponent``), and the ``Authorization`` header is the lower-case hex
  HMAC-SHA256, keyed with the secret key, of the whole request URI without its scheme
  (``host/path?query``): `signed_uri`;
- a response is ``{"_maCn": "<request class minus Request>Response", ...}``; a failure is its
  ``error`` object ``{leg, code, message, stackTrace, object}`` (`FiixError`), mostly with HTTP
  200. Throttling is code 1100 (``THROTTLED_CLIENT_SHOULD_AUTO_RETRY``) with the wait advisory in
  milliseconds at ``error.object.P_CLIENT_AUTO_RETRY_WAIT_ADVISORY_MS``; the Java transport
  accepts HTTP 200 and 429 and reads the body of both.

Dates (``java.util.Date``, fields ``dtm...``) travel as epoch milliseconds: Jackson's default.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

MAGIC = "_maCn"  # JsonFormatConstants.MAGICK_API_OBJECT_JSON_FIELD_NAME
CLIENT_VERSION = {"major": 2, "minor": 3, "patch": 1, "preRelease": "alpha"}  # Version.apiVersion

REQUESTS = (
    "FindRequest", "FindByIdRequest", "AddRequest", "ChangeRequest", "RemoveRequest",
    "RpcRequest", "BatchRequest",
)  # fmt: skip
LEGS = (  # com.ma.cmms.api.Error.Leg
    "CLIENT_REQUEST_PACK", "CLIENT_REQUEST_SEND_OR_RECEIVE", "SERVER_REQUEST_RECEIVE",
    "SERVER_REQUEST_UNPACK", "SERVER_REQUEST_PROCESS", "SERVER_RESPONSE_PACK",
    "CLIENT_RESPONSE_UNPACK",
)  # fmt: skip

# Codes published by the client libraries (com.ma.cmms.api.Error)
ERROR_PARSING_RESPONSE = 100
EMPTY_RESPONSE = 101
UNEXPECTED_HTTP_STATUS = 110
TIMEOUT = 120
THROTTLED_CLIENT_SHOULD_AUTO_RETRY = 1100
WAIT_ADVISORY = "P_CLIENT_AUTO_RETRY_WAIT_ADVISORY_MS"
DEFAULT_WAIT_ADVISORY_MS = 4000  # what FiixCmmsClient waits when the advisory is missing

# Server-side codes the client libraries do not publish: the sandbox's own, one per cause, so the
# connector can name the cause (docs: connectors/fiix/README.md).
AUTH_MISSING = 2101  # no Authorization header, or a query without the keys
AUTH_UNKNOWN_KEY = 2102  # appKey / accessKey unknown to the tenant
AUTH_BAD_SIGNATURE = 2103  # the HMAC does not match the URI
AUTH_CODES = frozenset({AUTH_MISSING, AUTH_UNKNOWN_KEY, AUTH_BAD_SIGNATURE})
BAD_REQUEST = 2201  # not JSON, unknown _maCn, action != _maCn
UNKNOWN_CLASS = 2301
BAD_FILTER = 2302  # ql does not parse, or its parameters do not match
UNKNOWN_FIELD = 2303
NOT_FOUND = 2304
SERVER_ERROR = 2500


def encode_component(value: str) -> str:
    """JavaScript's ``encodeURIComponent`` (FiixCmmsClient's UrlEncodingHelper)."""
    return quote(value, safe="!'()*-._~")


def query_string(action: str, app_key: str, access_key: str, timestamp_ms: int) -> str:
    """The signed query string, in FiixCmmsClient's order."""
    return (
        f"action={encode_component(action)}&service=cmms"
        f"&accessKey={encode_component(access_key)}&appKey={encode_component(app_key)}"
        f"&timestamp={timestamp_ms}&signatureVersion=1&signatureMethod=HmacSHA256"
    )


def signing_message(uri: str) -> str:
    """The URI without its scheme: what the HMAC covers."""
    for scheme in ("https://", "http://"):
        if uri.startswith(scheme):
            return uri[len(scheme) :]
    return uri


def signature(uri: str, secret_key: str) -> str:
    """Lower-case hex HMAC-SHA256 of the scheme-less URI, keyed with the secret key."""
    mac = hmac.new(secret_key.encode(), signing_message(uri).encode(), hashlib.sha256)
    return mac.hexdigest()


def signed_uri(
    endpoint: str, action: str, app_key: str, access_key: str, secret_key: str, timestamp_ms: int
) -> tuple[str, dict[str, str]]:
    """(URI, headers) for one call: the query string and its ``Authorization`` signature."""
    uri = f"{endpoint}?{query_string(action, app_key, access_key, timestamp_ms)}"
    return uri, {"Content-Type": "text/plain", "Authorization": signature(uri, secret_key)}


def response_class(request_class: str) -> str:
    return request_class.removesuffix("Request") + "Response"


@dataclass(frozen=True)
class FiixError:
    """``com.ma.cmms.api.Error`` as it travels: leg, code, message, stackTrace, object."""

    code: int
    message: str | None = None
    leg: str | None = None
    stack_trace: str | None = None
    object: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"leg": self.leg, "code": self.code, "message": self.message}
        if self.stack_trace:
            out["stackTrace"] = self.stack_trace
        if self.object:
            out["object"] = self.object
        return out

    @classmethod
    def from_json(cls, err: Any) -> FiixError:
        if not isinstance(err, dict):
            return cls(code=0, message=str(err))
        try:
            code = int(err.get("code") or 0)
        except (TypeError, ValueError):
            code = 0
        obj = err.get("object")
        return cls(
            code=code, message=err.get("message"), leg=err.get("leg"),
            stack_trace=err.get("stackTrace"), object=obj if isinstance(obj, dict) else {},
        )  # fmt: skip

    @property
    def throttled(self) -> bool:
        return self.code == THROTTLED_CLIENT_SHOULD_AUTO_RETRY

    @property
    def wait_ms(self) -> int:
        """The server's wait advisory (FiixCmmsClient's default when it gives none)."""
        try:
            return max(0, int(self.object[WAIT_ADVISORY]))
        except (KeyError, TypeError, ValueError):
            return DEFAULT_WAIT_ADVISORY_MS

    def describe(self) -> str:
        """``code 2103 (SERVER_REQUEST_RECEIVE): message``."""
        where = f" ({self.leg})" if self.leg else ""
        return f"code {self.code}{where}: {self.message or 'no message'}"


def error_response(request_class: str, error: FiixError) -> dict[str, Any]:
    return {MAGIC: response_class(request_class), "error": error.to_json()}


# --- requests ----------------------------------------------------------------------------------
def _envelope(cls: str, request_id: int, sent_ms: int) -> dict[str, Any]:
    return {
        MAGIC: cls, "requestId": request_id, "requestSentUnixTime": sent_ms,
        "clientVersion": dict(CLIENT_VERSION),
    }  # fmt: skip


@dataclass(frozen=True)
class FindFilter:
    """``{"ql": "intSiteID = ? AND dtmDateLastModified >= ?", "parameters": [...]}``."""

    ql: str
    parameters: tuple[Any, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"ql": self.ql, "parameters": list(self.parameters)}


@dataclass(frozen=True)
class FindRequest:
    class_name: str
    fields: str | None = None  # "id, strCode, ..."
    filters: tuple[FindFilter, ...] = ()
    order_by: str | None = None
    start_index: int | None = None
    max_objects: int | None = None

    def body(self, nested: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {MAGIC: "FindRequest", "className": self.class_name}
        if self.fields:
            out["fields"] = self.fields
        if self.filters:
            out["filters"] = [f.to_json() for f in self.filters]
        if self.order_by:
            out["orderBy"] = self.order_by
        if self.start_index is not None:
            out["startIndex"] = self.start_index
        if self.max_objects is not None:
            out["maxObjects"] = self.max_objects
        return out


@dataclass(frozen=True)
class RpcRequest:
    name: str
    action: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)

    def body(self, nested: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {MAGIC: "RpcRequest", "name": self.name}
        if self.action:
            out["action"] = self.action
        if self.parameters:
            out["parameters"] = dict(self.parameters)
        return out


@dataclass(frozen=True)
class BatchRequest:
    """Several simple requests in one call; ``responses`` come back in the same order."""

    requests: tuple[FindRequest | RpcRequest, ...]
    single_transaction: bool = False

    def body(self, nested: bool = False) -> dict[str, Any]:
        return {
            MAGIC: "BatchRequest", "singleTransaction": self.single_transaction,
            "requests": [r.body(nested=True) for r in self.requests],
        }  # fmt: skip


def request_body(
    req: FindRequest | RpcRequest | BatchRequest, request_id: int, sent_ms: int
) -> dict:
    """The top-level request object: the request plus requestId, sent time and client version."""
    body = req.body()
    return {**_envelope(body[MAGIC], request_id, sent_ms), **body}
