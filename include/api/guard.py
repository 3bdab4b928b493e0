"""Input rules that hold for every route, checked before routing and authentication (so that a
hostile request costs no database work): the query string's size, the number of ``filter[...]``
and ``sort[...]`` parameters, and no control characters (NUL, ...) in the path or in any query
parameter's name or value. Each refusal is a 400 in the API's error shape naming the parameter.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from include.api.errors import CONTROL, ApiError, bad_request, error_response, escaped
from include.api.settings import ApiSettings

CONTROL_PROBLEM = "control characters (such as NUL) are not allowed"


def has_control(text: str) -> bool:
    return CONTROL.search(text) is not None


class InputGuard:
    """ASGI middleware applying the rules above; ``settings`` carries the caps."""

    def __init__(self, app: ASGIApp, settings: ApiSettings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = self.check(scope)
            if problem is not None:
                await error_response(problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def check(self, scope: Scope) -> ApiError | None:
        s = self.settings
        raw = scope.get("query_string", b"")
        if len(raw) > s.max_query_bytes:
            return bad_request(
                "query",
                f"the query string has {len(raw)} bytes, more than the limit of "
                f"{s.max_query_bytes} (MILLWRIGHT_API_MAX_QUERY_BYTES)",
            )
        if has_control(scope.get("path", "")):
            return bad_request(_path_param(scope), CONTROL_PROBLEM)
        pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
        for name, value in pairs:
            if has_control(name) or has_control(value):
                return bad_request(escaped(name), CONTROL_PROBLEM)
        for kind in ("filter", "sort"):
            n = sum(1 for name, _ in pairs if name.startswith(f"{kind}["))
            if n > s.max_filters:
                return bad_request(
                    kind,
                    f"{n} {kind}[...] parameters, more than the limit of {s.max_filters} "
                    "(MILLWRIGHT_API_MAX_FILTERS)",
                )
        return None


def _path_param(scope: Scope) -> str:
    """The name of the path parameter holding a control character (``key``, ...), else
    ``path``."""
    app = scope.get("app")
    for route in getattr(getattr(app, "router", None), "routes", ()):
        match, child = route.matches(scope)
        if match == Match.NONE:
            continue
        for name, value in child.get("path_params", {}).items():
            if isinstance(value, str) and has_control(value):
                return name
    return "path"
