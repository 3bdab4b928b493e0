"""The webhook inbox: every accepted event, stored durably before the receiver answers.

Lifecycle of a row (``status``): ``pending`` (stored by `Inbox.add`) -> claimed by an apply run
(`Inbox.claim`: ``claimed_at``/``claim_token`` set, ``attempts`` + 1) -> ``processed``
(`Inbox.done`) or back to ``pending`` with its ``error`` kept (`Inbox.fail`; ``failed`` for good
after `MAX_ATTEMPTS`). A claim older than the claim timeout (its run or trigger crashed) is
claimable again. Ids are unique per connection (``ux_webhook_inbox_event``): a redelivery is a
duplicate, counted on the stored row (``duplicates``) and not stored again. Rows are kept for the
retention (at least 72 hours: senders retry for up to three days) and then pruned.

Times are ISO-8601 UTC text with microseconds (fixed width, so text order is time order).
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from include.store.engine import write_txn
from include.store.schema import webhook_inbox as T
from include.store.schema import webhook_rejections as R
from include.store.types import StoreError

MAX_ATTEMPTS = 5
MIN_RETENTION = timedelta(hours=72)
MAX_REASON = 500


def stamp(dt: datetime | None = None) -> str:
    """``dt`` (default now) as fixed-width ISO UTC: ``2026-01-31T12:00:00.000000Z``."""
    dt = (dt or datetime.now(UTC)).astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class NewEvent:
    """An accepted request: its connection, event id, raw body (UTF-8 text: JSON, or a Maximo
    publish channel's XML), the sender's timestamp and when it arrived."""

    connection_id: str
    event_id: str
    body: str
    sent_at: int | None = None
    received_at: str = ""


@dataclass(frozen=True)
class InboxEvent:
    id: int
    connection_id: str
    event_id: str
    received_at: str
    body: str
    attempts: int


@dataclass(frozen=True)
class Claim:
    token: str
    events: list[InboxEvent]


class Inbox:
    """The inbox over a store's engine (``Inbox(store.engine)``)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    def _insert(self) -> Any:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(T)

    # -- receiving ------------------------------------------------------------------------------

    def add(self, events: Sequence[NewEvent]) -> list[bool]:
        """Store a batch in ONE transaction (one commit, one fsync); per event, whether it is new
        (False: its id was stored before, or earlier in this batch: a duplicate, counted)."""
        if not events:
            return []
        now = stamp()
        first: dict[tuple[str, str], int] = {}
        for i, e in enumerate(events):
            first.setdefault((e.connection_id, e.event_id), i)
        rows = [
            {
                "connection_id": e.connection_id, "event_id": e.event_id,
                "received_at": e.received_at or now, "sent_at": e.sent_at, "body": e.body,
                "status": "pending", "attempts": 0, "duplicates": 0,
            }
            for i, e in enumerate(events)
            if first[(e.connection_id, e.event_id)] == i
        ]  # fmt: skip
        stmt = (
            self._insert()
            .values(rows)
            .on_conflict_do_nothing(index_elements=["connection_id", "event_id"])
            .returning(T.c.connection_id, T.c.event_id)
        )
        with self.engine.connect() as conn, write_txn(conn):
            inserted = {(r.connection_id, r.event_id) for r in conn.execute(stmt)}
            new = [
                first[(e.connection_id, e.event_id)] == i
                and (e.connection_id, e.event_id) in inserted
                for i, e in enumerate(events)
            ]
            dups = Counter(
                (e.connection_id, e.event_id) for e, n in zip(events, new, strict=True) if not n
            )
            for (cid, eid), n in dups.items():
                conn.execute(
                    sa.update(T)
                    .where(T.c.connection_id == cid, T.c.event_id == eid)
                    .values(duplicates=T.c.duplicates + n)
                )
        return new

    def reject(self, connection_id: str, status: int, reason: str) -> None:
        """Count a refused request (its body is not kept)."""
        row = {"connection_id": connection_id, "at": stamp(), "status": int(status),
               "reason": reason[:MAX_REASON]}  # fmt: skip
        with self.engine.connect() as conn, write_txn(conn):
            conn.execute(sa.insert(R), [row])

    # -- processing -----------------------------------------------------------------------------

    def claim(
        self, connection_id: str, *, limit: int = 500, claim_timeout: float = 600.0,
        after_id: int = 0,
    ) -> Claim:  # fmt: skip
        """Claim up to ``limit`` pending events of a connection with an id above ``after_id``,
        oldest first: unclaimed ones and those whose claim is older than ``claim_timeout``
        seconds (a crashed run). A run passes its last claimed id, so what it failed waits for
        the next run instead of being retried at once."""
        if limit < 1 or claim_timeout <= 0:
            raise StoreError("claim: limit must be >= 1 and claim_timeout > 0")
        now = datetime.now(UTC)
        expired = stamp(now - timedelta(seconds=claim_timeout))
        token = secrets.token_hex(8)
        ids = (
            sa.select(T.c.id)
            .where(T.c.connection_id == connection_id, T.c.status == "pending")
            .where(T.c.id > after_id)
            .where(sa.or_(T.c.claimed_at.is_(None), T.c.claimed_at < expired))
            .order_by(T.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            sa.update(T)
            .where(T.c.id.in_(ids.scalar_subquery()))
            .values(claimed_at=stamp(now), claim_token=token, attempts=T.c.attempts + 1)
            .returning(
                T.c.id, T.c.connection_id, T.c.event_id, T.c.received_at, T.c.body, T.c.attempts
            )  # fmt: skip
        )
        with self.engine.connect() as conn, write_txn(conn):
            rows = conn.execute(stmt).all()
        events = sorted((InboxEvent(*r) for r in rows), key=lambda e: e.id)
        return Claim(token, events)

    def done(self, token: str, ids: Sequence[int]) -> int:
        """Mark claimed events processed (only while this claim holds them)."""
        if not ids:
            return 0
        stmt = (
            sa.update(T)
            .where(T.c.id.in_(list(ids)), T.c.claim_token == token)
            .values(status="processed", processed_at=stamp(), error=None, claim_token=None)
        )
        with self.engine.connect() as conn, write_txn(conn):
            return conn.execute(stmt).rowcount

    def fail(self, token: str, reasons: dict[int, str], max_attempts: int = MAX_ATTEMPTS) -> int:
        """Record why claimed events failed: back to ``pending`` (the next run retries them) with
        the reason kept, or ``failed`` for good once they have had ``max_attempts``."""
        n = 0
        with self.engine.connect() as conn, write_txn(conn):
            for event_id, reason in reasons.items():
                n += conn.execute(
                    sa.update(T)
                    .where(T.c.id == event_id, T.c.claim_token == token)
                    .values(
                        status=sa.case((T.c.attempts >= max_attempts, "failed"), else_="pending"),
                        error=reason[:MAX_REASON],
                        claimed_at=None,
                        claim_token=None,
                        processed_at=sa.case((T.c.attempts >= max_attempts, stamp()), else_=None),
                    )  # fmt: skip
                ).rowcount
        return n

    def claimable(self, claim_timeout: float = 600.0) -> dict[str, tuple[int, int]]:
        """Per connection with claimable events: (their count, the highest id). One query for
        every connection (the trigger's shared poll)."""
        expired = stamp(datetime.now(UTC) - timedelta(seconds=claim_timeout))
        stmt = (
            sa.select(T.c.connection_id, sa.func.count(), sa.func.max(T.c.id))
            .where(T.c.status == "pending")
            .where(sa.or_(T.c.claimed_at.is_(None), T.c.claimed_at < expired))
            .group_by(T.c.connection_id)
        )
        with self.engine.connect() as conn:
            return {r[0]: (int(r[1]), int(r[2])) for r in conn.execute(stmt)}

    # -- admin ----------------------------------------------------------------------------------

    def replay(self, connection_id: str, start: str, end: str) -> int:
        """Make the events received in [start, end) pending again (processed or failed ones
        too); returns how many. The apply step is idempotent, so a replay is safe."""
        stmt = (
            sa.update(T)
            .where(T.c.connection_id == connection_id)
            .where(T.c.received_at >= start, T.c.received_at < end)
            .values(
                status="pending",
                claimed_at=None,
                claim_token=None,
                attempts=0,
                processed_at=None,
                error=None,
            )  # fmt: skip
        )
        with self.engine.connect() as conn, write_txn(conn):
            return conn.execute(stmt).rowcount

    def prune(self, connection_id: str, retention: timedelta) -> int:
        """Delete processed and failed events (and rejections) received before ``retention``
        ago; pending ones stay. ``retention`` is at least 72 hours."""
        if retention < MIN_RETENTION:
            raise StoreError(f"webhook ids must be kept at least 72 hours, not {retention}")
        before = stamp(datetime.now(UTC) - retention)
        with self.engine.connect() as conn, write_txn(conn):
            n = conn.execute(
                sa.delete(T)
                .where(T.c.connection_id == connection_id, T.c.received_at < before)
                .where(T.c.status != "pending")
            ).rowcount
            conn.execute(sa.delete(R).where(R.c.connection_id == connection_id, R.c.at < before))
        return n

    def events(
        self, connection_id: str, *, status: str | None = None, limit: int = 100
    ) -> list[dict]:
        """The latest events of a connection (newest first), without bodies."""
        cols = [c for c in T.columns if c.name not in ("body", "claim_token")]
        stmt = sa.select(*cols).where(T.c.connection_id == connection_id)
        if status is not None:
            stmt = stmt.where(T.c.status == status)
        stmt = stmt.order_by(T.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(stmt).mappings()]

    def stats(self, connection_id: str, since: datetime) -> dict[str, Any]:
        """Monitoring of one connection since ``since``: received, duplicate, rejected,
        processed and failed counts, pending now, lag (receipt -> processed) p50/p95/max in
        seconds over the latest 1,000 processed events, the oldest pending event's age."""
        start = stamp(since)
        mine = T.c.connection_id == connection_id
        window = sa.and_(mine, T.c.received_at >= start)
        counts = sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(T.c.duplicates), 0),
            sa.func.count().filter(T.c.status == "processed"),
            sa.func.count().filter(T.c.status == "failed"),
            sa.func.count().filter(sa.and_(T.c.status == "pending", T.c.error.is_not(None))),
            sa.func.max(T.c.received_at),
        ).where(window)
        pending = sa.select(sa.func.count(), sa.func.min(T.c.received_at)).where(
            mine, T.c.status == "pending"
        )
        rejected = sa.select(sa.func.count()).where(R.c.connection_id == connection_id,
                                                    R.c.at >= start)  # fmt: skip
        lags = (
            sa.select(T.c.received_at, T.c.processed_at)
            .where(window, T.c.status == "processed")
            .order_by(T.c.processed_at.desc())
            .limit(1000)
        )
        with self.engine.connect() as conn:
            received, dups, processed, failed, retrying, last = conn.execute(counts).one()
            n_pending, oldest = conn.execute(pending).one()
            n_rejected = conn.execute(rejected).scalar_one()
            samples = sorted(
                (parse_stamp(p) - parse_stamp(r)).total_seconds() for r, p in conn.execute(lags)
            )
        now = datetime.now(UTC)
        return {
            "since": start,
            "received": int(received),
            "duplicates": int(dups),
            "rejected": int(n_rejected),
            "processed": int(processed),
            "failed": int(failed),
            "retrying": int(retrying),
            "pending": int(n_pending),
            "last_received_at": last,
            "oldest_pending_age_s": (
                round((now - parse_stamp(oldest)).total_seconds(), 3) if oldest else None
            ),
            "lag_s": _percentiles(samples),
        }


def _percentiles(samples: list[float]) -> dict[str, float | None]:
    if not samples:
        return {"p50": None, "p95": None, "max": None}

    def at(q: float) -> float:
        return round(samples[min(len(samples) - 1, int(q * len(samples)))], 3)

    return {"p50": at(0.5), "p95": at(0.95), "max": round(samples[-1], 3)}
