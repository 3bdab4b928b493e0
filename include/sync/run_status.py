"""A sync run's outcome in Makini's terms: how a failure is classified, the plain reason that is
stored, and the connection's ``sync_status`` computed from its runs' rows.

Classification is by type, never by the text of a message:

- `ConnectionSetupError` (the Airflow Connection is missing, or lacks the host or a credential the
  connector needs) and `SourceError` with status 401 or 403 (or Tryton's ``LoginException``) are
  authentication failures: Makini's ``fail`` ("invalid platform credentials");
- anything else (timeouts, refused connections, 5xx after retries, a broken store, too many
  quarantined records, a killed task) is ``error``.

The reason kept in the store is the exception's message with URLs cut to their path (no query
string, no user info), the connection's credential values masked and the length bounded: it never
holds a secret. Pure Python: no Airflow, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from connectors.base import SourceError
from include.store.types import KILLED

Failure = Literal["auth", "error"]
AUTH_STATUSES = frozenset({401, 403, "401", "403", "LoginException"})
REASON_MAX = 500
STATUSES_ROW = "statuses"  # the `statuses` task's row in sync_runs (it is not one entity's)

_URL = re.compile(r"\b([a-z][a-z0-9+.-]*://)(?:[^/\s@]*@)?([^\s?#'\"]*)(?:[?#][^\s'\"]*)?", re.I)
_SPACE = re.compile(r"\s+")


class ConnectionSetupError(RuntimeError):
    """The connector could not be built from the connection's Airflow Connection: the Connection
    is missing, or has no host, or lacks a credential the connector needs. Retrying cannot help
    until someone fixes the Airflow Connection."""


@dataclass(frozen=True)
class Outcome:
    """A failed attempt: Makini's kind (``auth`` -> ``fail``, ``error`` -> ``error``) and the
    plain reason to store."""

    failure: Failure
    reason: str


def _typed(exc: BaseException | None) -> BaseException | None:
    """The `SourceError` or `ConnectionSetupError` behind ``exc`` (``raise ... from``), if any."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, SourceError | ConnectionSetupError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__
    return None


def is_auth_failure(exc: BaseException | None) -> bool:
    """Authentication or credentials, by the exception's type (and a source's status code)."""
    typed = _typed(exc)
    if isinstance(typed, ConnectionSetupError):
        return True
    return isinstance(typed, SourceError) and typed.status in AUTH_STATUSES


def classify(exc: BaseException | str | None, secrets: Iterable[str] = ()) -> Outcome:
    """The outcome of a failed attempt. ``exc`` is the exception (or, from a callback Airflow runs
    for a task that died, a message or nothing); ``secrets`` are values to mask in the reason."""
    if exc is None or exc == "":
        return Outcome("error", KILLED)
    if isinstance(exc, str):
        return Outcome("error", safe_reason(exc, secrets))
    typed = _typed(exc)
    if typed is not None:
        text = str(typed)
    else:
        text = str(exc) or type(exc).__name__
        if type(exc).__name__ not in text and not type(exc).__module__.startswith("airflow"):
            text = f"{type(exc).__name__}: {text}"
    return Outcome("auth" if is_auth_failure(exc) else "error", safe_reason(text, secrets))


def safe_reason(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` on one line, URLs without query string or user info, ``secrets`` masked, at most
    `REASON_MAX` characters."""
    out = _URL.sub(lambda m: m.group(1) + m.group(2), text)
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        out = out.replace(secret, "***")
    out = _SPACE.sub(" ", out).strip()
    return out if len(out) <= REASON_MAX else out[: REASON_MAX - 3] + "..."


# ---------------------------------------------------------------- the connection's state


@dataclass(frozen=True)
class EntityState:
    """One entity's state for the API: ``status`` is ``running``, ``retrying``, ``success`` or
    ``failed``; ``failure``/``error`` are set while its latest finished attempt failed (also while
    a later attempt or run is still running)."""

    entity: str
    status: str
    failure: Failure | None
    error: str | None
    last_run_at: str | None
    last_success_at: str | None
    full_read: bool


def entity_state(latest: Mapping[str, Any], finished: Mapping[str, Any] | None,
                 last_success_at: str | None, full_read: bool) -> EntityState:  # fmt: skip
    """From the entity's latest row and its latest row that is not ``running``: a failure stays
    visible until a later attempt succeeds."""
    failure, error = None, None
    if latest["status"] != "success" and latest.get("failure"):
        failure, error = latest["failure"], latest.get("error")  # failed, retrying, or a retry
    elif latest["status"] in ("failed", "retrying"):  # rows from before failures were typed
        failure, error = "error", latest.get("error")
    elif latest["status"] == "running" and finished and finished["status"] != "success":
        failure, error = finished.get("failure") or "error", finished.get("error")
    return EntityState(
        entity=latest["entity"],
        status=latest["status"],
        failure=failure,
        error=error,
        last_run_at=latest.get("finished_at") or latest.get("started_at"),
        last_success_at=last_success_at,
        full_read=full_read,
    )


def sync_status(states: Sequence[EntityState]) -> str:
    """Makini's ``sync_status``: ``fail`` when any entity's latest outcome is an authentication
    failure, else ``error`` when any failed, else ``inprogress`` while a run runs (or none has
    finished), else ``fulldone`` once every entity has had a complete read, else ``done``."""
    if any(s.failure == "auth" for s in states):
        return "fail"
    if any(s.failure for s in states):
        return "error"
    if not states or any(s.status != "success" for s in states):
        return "inprogress"
    return "fulldone" if all(s.full_read for s in states) else "done"


def sync_reason(states: Sequence[EntityState]) -> str | None:
    """The reason to show next to ``fail``/``error``: the first failing entity's, named."""
    ordered = sorted(states, key=lambda s: s.entity == STATUSES_ROW)  # entities first
    for kind in ("auth", "error"):
        for s in ordered:
            if s.failure == kind:
                return f"{s.entity}: {s.error}" if s.error else s.entity
    return None
