"""Injected failures, the same for every sandbox: rates 0..1 drawn from a seeded generator.

Kinds: ``429`` (Too Many Requests with ``Retry-After``), ``500``, ``slow`` (answer after
``slow_seconds``), ``timeout`` (hold the request ``timeout_seconds``, then close the connection
without answering: the client's read timeout fires first), ``truncate`` (half the body, then the
connection closes) and ``rpc`` (a protocol-level error in a 200 answer: the protocol's server says
what, e.g. a JSON-RPC throttling code). ``roll()`` draws one exclusive fault for a request (``None``
for none); ``roll(kind)`` draws one kind alone. ``counts`` says how many of each were injected;
``update(...)`` changes rates while the sandbox runs (the control endpoint's ``PUT /_sandbox/faults``).
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

KINDS = ("429", "500", "slow", "timeout", "truncate", "rpc")


class Faults:
    def __init__(self, seed: int = 0, fail_429: float = 0.0, fail_500: float = 0.0,
                 slow: float = 0.0, truncate: float = 0.0, slow_seconds: float = 0.5,
                 retry_after: float = 1.0, timeout: float = 0.0, timeout_seconds: float = 60.0,
                 rpc: float = 0.0) -> None:  # fmt: skip
        self.rates = {"429": fail_429, "500": fail_500, "slow": slow, "truncate": truncate}
        self.rates.update(timeout=timeout, rpc=rpc)
        for name, rate in self.rates.items():
            check_rate(name, rate)
        self.slow_seconds, self.retry_after = slow_seconds, retry_after
        self.timeout_seconds = timeout_seconds
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.counts = dict.fromkeys(self.rates, 0)
        self._any = any(self.rates.values())

    def roll(self, kind: str | None = None) -> Any:
        """``roll()``: the one fault for this request, or None. ``roll(kind)``: True when that
        kind is drawn (counted)."""
        if kind is not None:
            rate = self.rates[kind]
            if rate <= 0:
                return False
            with self._lock:
                hit = self._rng.random() < rate
                if hit:
                    self.counts[kind] += 1
                return hit
        if not self._any:
            return None
        with self._lock:
            for name, rate in self.rates.items():
                if rate and self._rng.random() < rate:
                    self.counts[name] += 1
                    return name
        return None

    def update(self, **values: float) -> None:
        """New rates (``fail_429``/``429``...) or seconds (``retry_after``, ``slow_seconds``...)."""
        aliases = {"fail_429": "429", "fail_500": "500"}
        with self._lock:
            for name, value in values.items():
                key = aliases.get(name, name)
                if key in self.rates:
                    check_rate(name, value)
                    self.rates[key] = float(value)
                elif key in ("retry_after", "slow_seconds", "timeout_seconds"):
                    if float(value) < 0:
                        raise ValueError(f"{name} must be at least 0, got {value}")
                    setattr(self, key, float(value))
                else:
                    raise ValueError(f"unknown fault setting {name!r}")
            self._any = any(self.rates.values())

    def state(self) -> dict[str, Any]:
        return {"rates": dict(self.rates), "counts": dict(self.counts),
                "retry_after": self.retry_after, "slow_seconds": self.slow_seconds,
                "timeout_seconds": self.timeout_seconds}  # fmt: skip

    def hang(self, handler: Any) -> None:
        """The ``timeout`` fault: hold the request, then close the connection unanswered."""
        time.sleep(self.timeout_seconds)
        handler.close_connection = True


def check_rate(name: str, rate: float) -> None:
    if not 0 <= float(rate) <= 1:
        raise ValueError(f"{name} must be a rate between 0 and 1, got {rate}")
