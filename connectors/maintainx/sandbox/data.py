"""Lazy, deterministic MaintainX records: record ``i`` of a collection is a pure function of
(seed, collection, i), so 100,000 work orders cost nothing until served.

Base records have ``createdAt``/``updatedAt`` that never decrease with the index, and records come in
groups of ``GROUP`` that share one ``updatedAt`` to the millisecond (the boundary case that breaks
strict ``>`` cursors). Changes made later (`Collection.change`, `create`, `delete`) are kept as
overrides, so a listing is a merge of the untouched base range and the changed records.
"""

from __future__ import annotations

import bisect
import heapq
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from threading import RLock
from typing import Any

GROUP = 7  # records per shared updatedAt
END_MS = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)
SPAN_MS = 365 * 86_400_000
DAY_MS = 86_400_000
ORG_ID = 4242
_MASK = (1 << 64) - 1

WORDS = [
    "pump",
    "motor",
    "conveyor",
    "valve",
    "boiler",
    "chiller",
    "compressor",
    "fan",
    "belt",
    "bearing",
    "filter",
    "gearbox",
    "sensor",
    "panel",
    "hydraulic",
    "press",
    "lathe",
    "mixer",
    "tank",
    "heater",
]
FIRST = [
    "Ana",
    "Ben",
    "Chen",
    "Dara",
    "Eli",
    "Fay",
    "Gus",
    "Hana",
    "Ivo",
    "Jade",
    "Kai",
    "Lea",
    "Max",
    "Noor",
    "Omar",
    "Pia",
    "Quin",
    "Rui",
    "Sam",
    "Tara",
]
LAST = [
    "Alvarez",
    "Brown",
    "Costa",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kumar",
    "Lopez",
]


def mix(*values: int) -> int:
    """splitmix64 over the values: a fast, well-spread 64-bit hash."""
    x = 0x9E3779B97F4A7C15
    for v in values:
        x = (x ^ (v & _MASK)) * 0xBF58476D1CE4E5B9 & _MASK
        x = (x ^ (x >> 31)) * 0x94D049BB133111EB & _MASK
        x ^= x >> 29
    return x


@lru_cache(maxsize=1 << 16)
def _iso_second(seconds: int) -> str:
    t = time.gmtime(seconds)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}."


def iso_ms(ms: int) -> str:
    """MaintainX's timestamp format: ``2024-01-01T00:00:00.000Z``."""
    return f"{_iso_second(ms // 1000)}{ms % 1000:03d}Z"


def parse_ms(text: str) -> int:
    """Parse an ISO 8601 date-time to epoch ms; ValueError names the value."""
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise ValueError(f"not an ISO 8601 date-time: {text!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


SortKey = tuple[int, int]


@dataclass
class Collection:
    """One MaintainX list endpoint's records: a lazy base range plus changes."""

    name: str  # response key, e.g. "workOrders"
    size: int
    seed: int
    build: Callable[[Collection, int, int, int, int], dict[str, Any]]
    id_base: int
    overrides: dict[int, dict[str, Any]] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    lock: RLock = field(default_factory=RLock)
    count: int = 0  # records ever created (base + created later)
    by_id: dict[int, int] = field(default_factory=dict)  # id -> index for created records

    def __post_init__(self) -> None:
        self.count = self.size
        self.step = max(1, SPAN_MS // max(1, self.size))
        self.start = END_MS - SPAN_MS

    # -- base timing: monotone in the index
    def base_updated(self, i: int) -> int:
        return self.start + (i // GROUP) * GROUP * self.step

    def base_created(self, i: int) -> int:
        return self.start - GROUP * self.step - DAY_MS + i * self.step

    def id_of(self, i: int) -> int:
        return self.id_base + i + 1

    def index_of(self, record_id: int) -> int | None:
        i = self.by_id.get(record_id)
        if i is None:
            i = record_id - self.id_base - 1
            if not 0 <= i < self.size:
                return None
        return None if i in self.deleted else i

    def get(self, i: int) -> dict[str, Any]:
        """Record ``i`` as stored now (a fresh dict)."""
        over = self.overrides.get(i)
        if over is not None:
            return dict(over)
        return self.build(self, i, self.id_of(i), self.base_created(i), self.base_updated(i))

    def updated_ms(self, i: int) -> int:
        over = self.overrides.get(i)
        if over is None or not over.get("updatedAt"):
            return self.base_updated(i)  # collections without updatedAt keep their base slot
        return parse_ms(over["updatedAt"])

    def key(self, i: int, sort: str) -> SortKey:
        """Sort key for ``sort`` in {id, createdAt, updatedAt} (ascending)."""
        over = self.overrides.get(i)
        if over is None:
            rid = self.id_of(i)
            if sort == "updatedAt":
                return (self.base_updated(i), rid)
            if sort == "createdAt":
                return (self.base_created(i), rid)
            return (rid, 0)
        rid = int(over["id"])
        if sort == "updatedAt":
            return (self.updated_ms(i), rid)
        if sort == "createdAt":
            c = over.get("createdAt")
            return (parse_ms(c) if c else self.base_created(i), rid)
        return (rid, 0)

    # -- changes
    def change(self, i: int, now_ms: int, **fields: Any) -> dict[str, Any]:
        with self.lock:
            rec = self.get(i)
            rec.update(fields)
            if "updatedAt" in rec:  # vendors, users, teams, meters have no updatedAt
                rec["updatedAt"] = iso_ms(now_ms)
            self.overrides[i] = rec
            return rec

    def create(self, now_ms: int, **fields: Any) -> dict[str, Any]:
        """A new record (fields may set id, createdAt, updatedAt: used by --data)."""
        with self.lock:
            i = self.count
            self.count += 1
            rec = self.build(self, i, self.id_of(i), now_ms, now_ms)
            rec.update(fields)
            self.by_id[int(rec["id"])] = i
            self.overrides[i] = rec
            return rec

    def delete(self, i: int) -> None:
        with self.lock:
            self.deleted.add(i)

    # -- listing
    def iterate(
        self,
        sort: str = "id",
        descending: bool = False,
        gte: int | None = None,
        lte: int | None = None,
        after: SortKey | None = None,
    ) -> Iterator[int]:
        """Indices in sort order, restricted to updatedAt in [gte, lte], strictly after ``after``."""
        with self.lock:
            changed = [i for i in self.overrides if i not in self.deleted]
            skip = set(self.overrides) | self.deleted
            size = self.size
        sign = -1 if descending else 1

        def k(i: int) -> SortKey:
            a, b = self.key(i, sort)
            return (sign * a, sign * b)

        lo, hi = 0, size
        if gte is not None:
            lo = bisect.bisect_left(range(size), gte, key=self.base_updated)
        if lte is not None:
            hi = bisect.bisect_right(range(size), lte, key=self.base_updated)
        base = range(lo, hi) if not descending else range(hi - 1, lo - 1, -1)
        start = 0 if after is None else bisect.bisect_right(base, after, key=k)
        base_iter = (i for i in base[start:] if i not in skip)

        def in_window(i: int) -> bool:
            ms = self.updated_ms(i)
            return (gte is None or ms >= gte) and (lte is None or ms <= lte)

        extra = sorted((i for i in changed if in_window(i)), key=k)
        if after is not None:
            extra = [i for i in extra if k(i) > after]
        yield from heapq.merge(base_iter, extra, key=k)

    def signed_key(self, i: int, sort: str, descending: bool) -> SortKey:
        a, b = self.key(i, sort)
        return (-a, -b) if descending else (a, b)
