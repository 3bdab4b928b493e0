"""Records of one object structure: the lazy base range plus an overlay of changes, and the
ordered, filtered scans that pages are cut from.

A scan merges the untouched base records (in base order, skipping changed/deleted indexes) with the
overlay records sorted the same way. A scan position is (base index, overlay index), so page ``n+1``
continues where page ``n`` stopped instead of re-reading from the start. Requests ordered some other
way are materialised and sorted (fine at demo sizes).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from connectors.maximo.sandbox.data import ObjectStructure

Record = dict[str, Any]


def sort_value(v: Any) -> tuple:
    return (0,) if v is None else (1, v)


class Table:
    """Base records of ``os`` (or none, when served from a data file) plus the overlay."""

    def __init__(self, os: ObjectStructure, records: list[Record] | None = None) -> None:
        self.os = os
        self.base_count = os.count if records is None else 0
        self.overlay: dict[tuple, Record | None] = {}
        self.shadow: set[int] = set()
        self.version = 0
        self.lock = threading.RLock()
        self._sorted: tuple[int, list[Record]] | None = None
        for rec in records or ():
            self.overlay[self.key(rec)] = rec

    def attributes(self) -> set[str]:
        """Attribute names the structure's records carry (empty when it has no records)."""
        with self.lock:
            names = set(self.base(0)) if self.base_count else set()
            for rec in self.overlay.values():
                names.update(rec or ())
        return names

    def key(self, rec: Record) -> tuple:
        missing = [a for a in self.os.key if rec.get(a) in (None, "")]
        if missing:
            raise KeyError(f"{self.os.name}: record lacks key attribute(s) {', '.join(missing)}")
        return tuple(str(rec[a]) for a in self.os.key)

    def base(self, i: int) -> Record:
        assert self.os.build is not None
        return self.os.build(i)

    def index_of(self, key: tuple) -> int | None:
        """The base index holding ``key`` (None if no base record has it)."""
        if self.os.counter:
            attr, offset = self.os.counter
            raw = key[self.os.key.index(attr)]
            digits = raw.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            if digits.isdigit():
                i = int(digits) - offset
                if 0 <= i < self.base_count and self.key(self.base(i)) == key:
                    return i
            return None
        for i in range(self.base_count):  # small structures only (no counter attribute)
            if self.key(self.base(i)) == key:
                return i
        return None

    def current(self, key: tuple) -> Record | None:
        with self.lock:
            if key in self.overlay:
                return self.overlay[key]
            i = self.index_of(key)
            return None if i is None or i in self.shadow else self.base(i)

    def put(self, rec: Record, replaces: tuple | None = None) -> None:
        with self.lock:
            key = self.key(rec)
            for k in {key, replaces or key}:
                i = self.index_of(k)
                if i is not None:
                    self.shadow.add(i)
            self.overlay[key] = rec
            self.version += 1

    def delete(self, key: tuple) -> bool:
        with self.lock:
            if self.current(key) is None:
                return False
            i = self.index_of(key)
            if i is not None:
                self.shadow.add(i)
            self.overlay[key] = None
            self.version += 1
            return True

    def snapshot(self) -> tuple[list[Record], frozenset[int]]:
        """Overlay records in base order, and the shadowed base indexes, at this moment."""
        with self.lock:
            if self._sorted is None or self._sorted[0] != self.version:
                live = [r for r in self.overlay.values() if r is not None]
                order = self.os.order
                live.sort(key=lambda r: tuple(sort_value(r.get(a)) for a in order))
                self._sorted = (self.version, live)
            return self._sorted[1], frozenset(self.shadow)


class Scan:
    """An ordered, filtered view of a table frozen at creation (a stable MboSet)."""

    def __init__(
        self,
        table: Table,
        pred: Callable[[Record], bool],
        order: list[tuple[str, bool]],
        lo: float | None,
        hi: float | None,
        slack: float = 0,
    ) -> None:
        self.table, self.pred = table, pred
        os = table.os
        attrs = tuple(a for a, _ in order)
        self.streamed = all(asc for _, asc in order) and (not attrs or attrs in os.stream_orders)
        overlay, self.shadow = table.snapshot()
        self.created = time.monotonic()
        self.positions: dict[int, tuple[int, int]] = {1: (0, 0)}  # page -> (base, overlay) start
        if self.streamed:
            self.sort_attrs = os.order
            self.overlay = [r for r in overlay if pred(r)]
            self.b_lo, self.b_hi = 0, table.base_count
            if os.time_attr and os.build is not None and table.base_count:
                if lo is not None:
                    self.b_lo = os.first_at_or_after(lo - slack)
                if hi is not None:
                    self.b_hi = os.first_at_or_after(hi + slack + 1)
            self.positions[1] = (self.b_lo, 0)
        else:
            rows = [r for r in self._base_range(0, table.base_count) if pred(r)]
            rows += [r for r in overlay if pred(r)]
            for attr, asc in reversed(order):
                rows.sort(key=lambda r, a=attr: sort_value(r.get(a)), reverse=not asc)
            self.overlay, self.b_lo, self.b_hi = rows, 0, 0

    def _base_range(self, start: int, stop: int) -> Iterator[Record]:
        build, shadow = self.table.os.build, self.shadow
        assert build is not None or start >= stop
        for i in range(start, stop):
            if i not in shadow:
                yield build(i)  # type: ignore[misc]

    def _iter(self, b: int, o: int) -> Iterator[tuple[Record, int, int]]:
        """(record, base position after, overlay position after) from a position. Every record is
        a fresh dict (base records are built, overlay records copied): callers may change it."""
        pred, overlay, build, shadow = self.pred, self.overlay, self.table.os.build, self.shadow
        n_ov, attrs = len(overlay), self.sort_attrs if self.streamed else ()
        while b < self.b_hi:
            if b in shadow:
                b += 1
                continue
            rec = build(b)  # type: ignore[misc]
            b += 1
            if not pred(rec):
                continue
            if o < n_ov:
                k = tuple(sort_value(rec.get(a)) for a in attrs)
                while o < n_ov and tuple(sort_value(overlay[o].get(a)) for a in attrs) < k:
                    o += 1
                    yield dict(overlay[o - 1]), b - 1, o
            yield rec, b, o
        while o < n_ov:
            o += 1
            yield dict(overlay[o - 1]), b, o

    def page(self, pageno: int, size: int) -> tuple[list[Record], bool]:
        """Records of page ``pageno`` and whether another page follows."""
        known = max(p for p in self.positions if p <= pageno)
        b, o = self.positions[known]
        it = self._iter(b, o)
        skip = (pageno - known) * size
        for n, (_, b2, o2) in enumerate(itertools.islice(it, skip), 1):
            if n % size == 0:
                self.positions[known + n // size] = (b2, o2)
        rows = []
        for rec, b2, o2 in it:
            rows.append(rec)
            if len(rows) == size:
                self.positions[pageno + 1] = (b2, o2)
                break
        more = len(rows) == size and next(it, None) is not None
        return rows, more

    def count(self) -> int:
        return sum(1 for _ in self._iter(*self.positions[1]))
