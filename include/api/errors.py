"""The API's error shape: ``{"message": ..., "errors": {field: [problems]}}`` with a 4xx/5xx status.

Also: the ``Allow`` header of a 405 (every method served at the path), database timeouts as 503,
and logging of unexpected errors without query values, SQL parameters or control characters.
"""

from __future__ import annotations

import logging
import re
import traceback

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from include.admin.errors import (
    AirflowUnavailable,
    Conflict,
    LifecycleError,
    NotFound,
    OutOfCredits,
    SourceRefused,
)
from include.admin.operations.webhooks_source import RegisterFailed, RemoveFailed
from include.store.engine import hide_parameters

log = logging.getLogger(__name__)
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class ErrorBody(BaseModel):
    """Every error response's body."""

    message: str = Field(description="what is wrong, naming the parameter")
    errors: dict[str, list[str]] = Field(description="problems per parameter (may be empty)")


class ApiError(Exception):
    """A client error: status, a message naming what is wrong, per-parameter details."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.errors = errors or {}
        self.headers = headers


# Domain error type -> HTTP status: the one place where the admin layer's errors get their codes
# (the most specific type listed wins; every other LifecycleError is a bad request).
DOMAIN_STATUS: dict[type[LifecycleError], int] = {
    NotFound: 404,
    Conflict: 409,
    OutOfCredits: 402,
    AirflowUnavailable: 503,
    SourceRefused: 422,
    # the lifecycle pass's webhook steps at the source (kept on the pending operation; an API
    # request does not raise them, listed so none is ever answered as a bad request)
    RemoveFailed: 502,
    RegisterFailed: 502,
    LifecycleError: 400,
}


def domain_status(exc: LifecycleError) -> int:
    """The HTTP status of a domain error (its nearest type in `DOMAIN_STATUS`)."""
    return next(DOMAIN_STATUS[t] for t in type(exc).__mro__ if t in DOMAIN_STATUS)


def domain_error(exc: LifecycleError) -> ApiError:
    """A domain error as the API answers it: its status, message and the field it names."""
    return ApiError(domain_status(exc), exc.message, {exc.field: [exc.message]})


def bad_request(param: str, problem: str) -> ApiError:
    return ApiError(400, f"{param}: {problem}", {param: [problem]})


def _json(status: int, message: str, errors: dict, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"message": message, "errors": errors}, status, headers=headers)


def error_response(exc: ApiError) -> JSONResponse:
    return _json(exc.status, exc.message, exc.errors, exc.headers)


def escaped(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with control characters written as ``\\xNN`` (for logs and messages)."""

    def sub(m: re.Match) -> str:
        return m.group() if keep_newlines and m.group() == "\n" else f"\\x{ord(m.group()):02x}"

    return CONTROL.sub(sub, text)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path (for a 405's ``Allow``)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Register the handlers: ApiError, domain errors (`DOMAIN_STATUS`), request validation
    (-> 400), HTTP errors, the rest (500)."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(LifecycleError)
    async def _domain(_: Request, exc: LifecycleError) -> JSONResponse:
        return error_response(domain_error(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors: dict[str, list[str]] = {}
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "path", "header")]
            errors.setdefault(".".join(loc) or "request", []).append(err.get("msg", "invalid"))
        message = "; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items())
        return _json(400, message or "invalid request", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
            message = f"method {request.method} not allowed; allowed: {headers['Allow']}"
            return _json(405, message, {"method": [message]}, headers)
        return _json(exc.status_code, str(exc.detail), {}, headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # the path only (escaped): query strings and headers may carry tokens or customer data;
        # SQL parameters are left out of database errors for the same reason
        hide_parameters(exc)
        text = "".join(traceback.format_exception(exc))
        log.error(
            "unhandled error on %s %s\n%s",
            request.method,
            escaped(request.url.path),
            escaped(text, keep_newlines=True),
        )
        return _json(500, "internal server error", {})
