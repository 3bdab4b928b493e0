"""The webhook receiver: ``POST /webhooks/{connection id}`` (docs/WEBHOOKS.md).

Order of checks, each answered before any work the next needs:

1. the connection: unknown or without webhooks 404, disconnected 410;
2. the body: larger than ``MILLWRIGHT_WEBHOOK_MAX_BYTES`` (default 1 MiB) 413, read as raw bytes;
3. authenticity over the raw body with the connection's scheme (include/webhooks/schemes.py,
   constant-time compares): a malformed header 400, a missing or wrong signature, a timestamp
   outside the tolerance 401; the refusal is counted (`Inbox.reject`), nothing else is stored;
4. the body must be UTF-8 JSON, or the system's own format (a Maximo publish channel's XML or
   JSON message: `WebhookSource.spec`); 400 otherwise, naming what is wrong;
5. durable first: the event is stored in the inbox and committed BEFORE the answer; a repeated
   event id answers 200 too (``"duplicate": true``) and is stored once. A store failure answers
   503 (the sender retries), never 200.

Commits are grouped: one writer thread per process takes every event waiting and stores them in
one transaction (`GroupCommitter`), so concurrent senders share a commit (and its fsync) instead
of queueing for one each. Processing happens later, in Airflow (include/airflow/webhooks.py).

The connection's settings and secrets come from ``app.state.webhook_sources`` (a callable
``connection_id -> WebhookSource | None``; the Airflow layer builds it from the Variable and the
connection's Airflow Connection, cached briefly).
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from include.api.errors import ApiError
from include.config import SLUG
from include.store.inbox import Inbox, NewEvent, stamp
from include.store.registry import registry_status
from include.webhooks.schemes import DEFAULT_TOLERANCE, MALFORMED, WebhookRejected, verify
from include.webhooks.spec import WebhookSpec, check_body

log = logging.getLogger(__name__)
MAX_BYTES_ENV = "MILLWRIGHT_WEBHOOK_MAX_BYTES"
DEFAULT_MAX_BYTES = 1_048_576


@dataclass(frozen=True)
class WebhookSource:
    """What the receiver needs about one connection. ``secrets``: every secret that may sign (a
    rotation holds two); never logged, never part of a response."""

    connection_id: str
    status: str  # active | disconnected
    scheme: str
    secrets: tuple[str, ...] = field(repr=False)
    tolerance: float = DEFAULT_TOLERANCE
    header: str | None = None
    # the system's webhook declaration (its own body format, e.g. Maximo's publish channels)
    spec: WebhookSpec | None = None


SourceProvider = Callable[[str], WebhookSource | None]


def max_body_bytes() -> int:
    raw = os.environ.get(MAX_BYTES_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_BYTES
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{MAX_BYTES_ENV} must be a positive number of bytes, got {raw!r}")
    return int(raw)


class GroupCommitter:
    """One writer thread storing waiting events in one transaction per batch; ``submit``
    resolves once the batch holding the event has committed (True: new, False: duplicate)."""

    def __init__(self, inbox: Inbox, max_batch: int = 512) -> None:
        self.inbox, self.max_batch = inbox, max_batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def submit(self, event: NewEvent) -> bool:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[bool] = loop.create_future()
        self._start()
        self._queue.put((event, loop, fut))
        return await fut

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="millwright-webhook-inbox", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                results: list[bool] | BaseException = self.inbox.add([b[0] for b in batch])
            except Exception as exc:  # the store is down: every waiting sender gets a 503
                log.error(
                    "webhook inbox: cannot store %d events: %s", len(batch), type(exc).__name__
                )
                results = exc
            for i, (_, loop, fut) in enumerate(batch):
                value = results if isinstance(results, BaseException) else results[i]
                loop.call_soon_threadsafe(_resolve, fut, value)


def _resolve(fut: asyncio.Future, value: object) -> None:
    if fut.done():
        return
    if isinstance(value, BaseException):
        fut.set_exception(value)
    else:
        fut.set_result(value)


def _committer(request: Request) -> GroupCommitter:
    state = request.app.state
    committer = getattr(state, "webhook_committer", None)
    if committer is None:
        with _STATE_LOCK:
            committer = getattr(state, "webhook_committer", None)
            if committer is None:
                committer = state.webhook_committer = GroupCommitter(Inbox(state.store.engine))
    return committer


_STATE_LOCK = threading.Lock()


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ApiError(
                400, "content-length: not a number", {"content-length": ["not a number"]}
            )
        if int(declared) > limit:
            raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    msg = f"the body is larger than {limit} bytes ({MAX_BYTES_ENV})"
    return ApiError(413, msg, {"body": [msg]})


def _source(request: Request, connection_id: str) -> WebhookSource:
    provider: SourceProvider | None = getattr(request.app.state, "webhook_sources", None)
    src = provider(connection_id) if provider else None
    if src is None:
        msg = f"connection {connection_id!r} does not exist or has no webhooks configured"
        raise ApiError(404, msg, {"connection_id": [msg]})
    if src.status != "active" or _registry_status(request, connection_id) == "disconnected":
        raise _gone(connection_id)
    return src


REGISTRY_TTL = 2.0  # seconds a connection's registry status is cached per process


def _registry_status(request: Request, connection_id: str) -> str | None:
    """The lifecycle's status of the connection (the registry), cached `REGISTRY_TTL` seconds:
    a disconnect answers 410 within that time, and a burst of events costs no read each."""
    state = request.app.state
    cache: dict[str, tuple[float, str | None]] = getattr(state, "webhook_registry", None) or {}
    state.webhook_registry = cache
    now = time.monotonic()
    hit = cache.get(connection_id)
    if hit is not None and now - hit[0] < REGISTRY_TTL:
        return hit[1]
    with state.store.read() as conn:
        status = registry_status(conn, connection_id)
    cache[connection_id] = (now, status)
    return status


def _gone(connection_id: str) -> ApiError:
    msg = f"connection {connection_id!r} is disconnected: stop sending webhooks"
    return ApiError(410, msg, {"connection_id": [msg]})


async def _rejected(
    request: Request, connection_id: str, exc: WebhookRejected, scheme: str
) -> ApiError:
    status = 400 if exc.kind == MALFORMED else 401
    try:
        await run_in_threadpool(
            Inbox(request.app.state.store.engine).reject, connection_id, status, exc.reason
        )
    except Exception as err:  # counting a refusal must not turn it into a 500
        log.warning("cannot count a refused webhook of %s: %s", connection_id, type(err).__name__)
    headers = {"WWW-Authenticate": "Basic"} if status == 401 and scheme == "basic" else None
    return ApiError(status, exc.reason, {"signature": [exc.reason]}, headers)


def webhooks_router() -> APIRouter:
    r = APIRouter(tags=["Webhooks"])

    @r.post(
        "/webhooks/{connection_id}",
        summary="Receive a webhook from the connection's source (stored before the answer)",
        responses={
            400: {
                "description": "a malformed header, or a body that is not UTF-8 JSON (or "
                "not the system's own format, e.g. a Maximo publish channel message)"
            },
            401: {"description": "missing or wrong signature or secret, or a stale timestamp"},
            404: {"description": "unknown connection, or one without webhooks"},
            410: {"description": "the connection is disconnected"},
            413: {"description": "the body is larger than MILLWRIGHT_WEBHOOK_MAX_BYTES"},
            503: {"description": "the event could not be stored: retry"},
        },
    )
    async def receive(
        request: Request,
        connection_id: str = Path(pattern=SLUG.pattern, description="connection id"),
    ) -> JSONResponse:
        # inline: the provider and the registry status are cached (a miss costs one read)
        src = _source(request, connection_id)
        body = await _read_body(request, request.app.state.webhook_max_bytes)
        try:
            verified = verify(src.scheme, src.secrets, request.headers, body, time.time(),
                              src.tolerance, src.header)  # fmt: skip
        except WebhookRejected as exc:
            raise await _rejected(request, connection_id, exc, src.scheme) from None
        if src.spec is None or src.spec.parse is None:
            try:
                text = body.decode("utf-8")
                orjson.loads(body)
            except (UnicodeDecodeError, orjson.JSONDecodeError):
                msg = "the body must be UTF-8 JSON"
                raise ApiError(400, msg, {"body": [msg]}) from None
        else:  # the system's own format (XML or JSON): parsed off the event loop
            try:
                await run_in_threadpool(
                    check_body, src.spec, body, request.headers.get("content-type")
                )
            except ValueError as exc:
                msg = str(exc)
                raise ApiError(400, msg, {"body": [msg]}) from None
            text = body.decode("utf-8")
        event = NewEvent(connection_id, verified.event_id, text, verified.timestamp, stamp())
        try:
            new = await _committer(request).submit(event)
        except Exception:
            msg = "the event could not be stored; retry later"
            raise ApiError(503, msg, {"store": [msg]}, {"Retry-After": "5"}) from None
        return JSONResponse({"id": verified.event_id, "duplicate": not new})

    return r
