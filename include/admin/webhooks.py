"""Webhook monitoring and replay for the admin API and ``/api/integrations/current`` (no HTTP).

`webhook_status`: received / duplicate / rejected / processed / failed counts, pending events
and lag for one connection (`include.store.inbox.Inbox.stats`), plus the latest failures with
their reasons. `replay`: an admin makes the events of a time range pending again (the apply step
is idempotent: a replay re-reads the records), recorded in the audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from include.admin.errors import LifecycleError
from include.model.timeutil import parse_datetime
from include.store import Store
from include.store import registry as db
from include.store.inbox import Inbox, stamp

DEFAULT_WINDOW = timedelta(hours=24)


def webhook_status(store: Store, connection_id: str, since: datetime | None = None) -> dict:
    inbox = Inbox(store.engine)
    since = since or datetime.now(UTC) - DEFAULT_WINDOW
    stats = inbox.stats(connection_id, since)
    failures = [
        {k: e[k] for k in ("event_id", "received_at", "attempts", "status", "error")}
        for e in inbox.events(connection_id, limit=50)
        if e["error"]
    ][:10]
    return {"connection_id": connection_id, "stats": stats, "recent_failures": failures}


def _time(value: str, field: str) -> datetime:
    try:
        dt = parse_datetime(value)
    except (TypeError, ValueError):
        dt = None
    if dt is None:
        raise LifecycleError(f"{field}: not an ISO-8601 time: {value!r}", field)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def replay(store: Store, connection_id: str, start: str, end: str, actor: str) -> dict[str, Any]:
    """Make the connection's events received in [start, end) pending again; returns how many."""
    lo, hi = _time(start, "start"), _time(end, "end")
    if hi <= lo:
        raise LifecycleError("end must be after start", "end")
    with store.read() as conn:
        row = db.get(conn, connection_id) or {}  # a hand-made Variable entry has no row
    n = Inbox(store.engine).replay(connection_id, stamp(lo), stamp(hi))
    with store.write() as conn:
        db.add_audit(conn, actor, "webhooks_replay", connection_id, row.get("customer"),
                     {"start": stamp(lo), "end": stamp(hi), "events": n})  # fmt: skip
    return {"connection_id": connection_id, "start": stamp(lo), "end": stamp(hi), "events": n}
