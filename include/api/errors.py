"""The API's error shape: ``{"message": ..., "errors": {field: [problems]}}`` with a 4xx status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


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


def bad_request(param: str, problem: str) -> ApiError:
    return ApiError(400, f"{param}: {problem}", {param: [problem]})


def _json(status: int, message: str, errors: dict, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"message": message, "errors": errors}, status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers: ApiError, request validation (-> 400), HTTP errors, the rest (500)."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return _json(exc.status, exc.message, exc.errors, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors: dict[str, list[str]] = {}
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "path", "header")]
            errors.setdefault(".".join(loc) or "request", []).append(err.get("msg", "invalid"))
        message = "; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items())
        return _json(400, message or "invalid request", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _json(exc.status_code, str(exc.detail), {}, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # the path only: query strings and headers may carry tokens or customer data
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _json(500, "internal server error", {})
