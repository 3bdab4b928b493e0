"""The OSLC query language as the sandbox understands it: ``oslc.where``, ``oslc.select`` and
``oslc.orderBy``.

``oslc.where``: clauses joined by ``and``; ``= != > >= < <=`` and ``in [..]``; strings and dates in
double quotes, numbers and ``true``/``false`` bare. ``attr="*"`` is "not null" and ``attr!="*"`` "is
null"; ``%`` in a quoted string is a LIKE wildcard. Dates are compared as instants (a date without
an offset is local time in the server's zone). Parse errors raise `QueryError` with the offending text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from connectors.maximo.sandbox.data import DATE_ATTRS


class QueryError(ValueError):
    """A malformed query parameter; the message names it and the offending text."""


_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<op>!=|>=|<=|=|>|<)|(?P<lb>\[)|(?P<rb>\])|(?P<comma>,)'
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.]*)|(?P<num>-?\d+(?:\.\d+)?))"
)


@dataclass(frozen=True)
class Clause:
    attr: str
    op: str  # = != > >= < <= in
    value: Any  # str, float, bool, or list for in


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise QueryError(f"oslc.where: cannot parse near {text[pos : pos + 30]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def _literal(kind: str, tok: str) -> Any:
    if kind == "str":
        return tok[1:-1].replace('\\"', '"')
    if kind == "num":
        return float(tok)
    if kind == "word" and tok.lower() in ("true", "false"):
        return tok.lower() == "true"
    if kind == "word" and tok.lower() == "null":
        return None
    raise QueryError(f"oslc.where: expected a value, got {tok!r}")


def parse_where(text: str) -> list[Clause]:
    """Parse ``a="x" and b>=1 and c in ["p","q"]`` into clauses (ANDed)."""
    if not text or not text.strip():
        return []
    toks = _tokens(text)
    clauses, i = [], 0
    while i < len(toks):
        kind, attr = toks[i]
        if kind != "word":
            raise QueryError(f"oslc.where: expected an attribute name, got {attr!r}")
        if i + 1 >= len(toks):
            raise QueryError(f"oslc.where: {attr!r} has no operator")
        kind2, op = toks[i + 1]
        if kind2 == "word" and op.lower() == "in":
            if i + 2 >= len(toks) or toks[i + 2][0] != "lb":
                raise QueryError(f"oslc.where: {attr} in needs a [..] list")
            values, j = [], i + 3
            while j < len(toks) and toks[j][0] != "rb":
                if toks[j][0] != "comma":
                    values.append(_literal(*toks[j]))
                j += 1
            if j >= len(toks):
                raise QueryError(f"oslc.where: unclosed [ after {attr} in")
            clauses.append(Clause(attr.lower(), "in", values))
            i = j + 1
        elif kind2 == "op":
            if i + 2 >= len(toks):
                raise QueryError(f"oslc.where: {attr}{op} has no value")
            clauses.append(Clause(attr.lower(), op, _literal(*toks[i + 2])))
            i += 3
        else:
            raise QueryError(f"oslc.where: expected an operator after {attr!r}, got {op!r}")
        if i < len(toks):
            if toks[i][0] != "word" or toks[i][1].lower() != "and":
                raise QueryError(f"oslc.where: expected 'and', got {toks[i][1]!r}")
            i += 1
            if i >= len(toks):
                raise QueryError("oslc.where: dangling 'and'")
    return clauses


def parse_instant(text: str, tz: ZoneInfo) -> float:
    """An ISO date(time) literal as epoch seconds; naive values are local time in ``tz``."""
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(f"oslc.where: not an ISO date: {text!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt.timestamp()


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b, ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
}  # fmt: skip


def _like(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + ".*".join(re.escape(p) for p in pattern.split("%")) + "$", re.I)


def compile_where(
    clauses: list[Clause], tz: ZoneInfo, time_key: Callable[[int], float]
) -> Callable[[dict], bool]:
    """A predicate over internal records (dates as epoch seconds, compared via ``time_key``)."""
    tests: list[Callable[[dict], bool]] = []
    for c in clauses:
        a, op, v = c.attr, c.op, c.value
        if op == "in":
            if a in DATE_ATTRS:
                vals = {parse_instant(x, tz) for x in v}
                tests.append(
                    lambda r, a=a, vals=vals: r.get(a) is not None and time_key(r[a]) in vals
                )
            else:
                vals = {str(x) if isinstance(x, str) else x for x in v}
                tests.append(lambda r, a=a, vals=vals: _norm(r.get(a), vals) in vals)
            continue
        if v == "*" and op in ("=", "!="):
            want = op == "="
            tests.append(lambda r, a=a, want=want: (r.get(a) not in (None, "")) == want)
            continue
        fn = _OPS[op]
        if a in DATE_ATTRS and isinstance(v, str):
            t = parse_instant(v, tz)
            tests.append(lambda r, a=a, t=t, fn=fn: r.get(a) is not None and fn(time_key(r[a]), t))
        elif isinstance(v, str) and "%" in v and op in ("=", "!="):
            rx, want = _like(v), op == "="
            tests.append(
                lambda r, a=a, rx=rx, want=want: bool(rx.match(str(r.get(a) or ""))) == want
            )
        elif isinstance(v, float):
            tests.append(
                lambda r, a=a, v=v, fn=fn: _num(r.get(a)) is not None and fn(_num(r.get(a)), v)
            )
        else:
            tests.append(lambda r, a=a, v=v, fn=fn: r.get(a) is not None and fn(r.get(a), v))
    if not tests:
        return lambda r: True
    if len(tests) == 1:
        return tests[0]
    return lambda r: all(t(r) for t in tests)


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or x is None:
        return None
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def _norm(x: Any, vals: set) -> Any:
    if isinstance(x, int | float) and not isinstance(x, bool):
        return float(x)
    return x


def time_bounds(
    clauses: list[Clause], attr: str, tz: ZoneInfo
) -> tuple[float | None, float | None]:
    """(lowest, highest) instant the clauses allow for ``attr`` (None: unbounded)."""
    lo = hi = None
    for c in clauses:
        if c.attr != attr or not isinstance(c.value, str) or c.value == "*":
            continue
        t = parse_instant(c.value, tz)
        if c.op in (">", ">=", "="):
            lo = t if lo is None else max(lo, t)
        if c.op in ("<", "<=", "="):
            hi = t if hi is None else min(hi, t)
    return lo, hi


@dataclass(frozen=True)
class Select:
    """``attrs`` None means ``*``; ``children`` maps a child name to its own Select."""

    attrs: frozenset[str] | None
    children: dict[str, Select]


def parse_select(text: str) -> Select:
    items, depth, cur = [], 0, ""
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise QueryError(f"oslc.select: unbalanced braces in {text!r}")
        if ch == "," and depth == 0:
            items.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if depth:
        raise QueryError(f"oslc.select: unbalanced braces in {text!r}")
    items.append(cur.strip())
    attrs: set[str] | None = set()
    children: dict[str, Select] = {}
    for item in filter(None, items):
        if item == "*":
            attrs = None
        elif "{" in item:
            name, inner = item.split("{", 1)
            children[name.strip().lower()] = parse_select(inner[:-1])
        elif attrs is not None:
            attrs.add(item.lower())
    return Select(None if attrs is None else frozenset(attrs), children)


def parse_order(text: str) -> list[tuple[str, bool]]:
    """``+a,-b`` -> [(a, True), (b, False)].

    Every attribute needs a sign. A ``+`` sent unencoded arrives as a space; like Maximo (whose
    guide warns about exactly this) we do not guess: the request fails naming the attribute.
    """
    out = []
    for raw in text.split(","):
        if not raw:
            continue
        sign, attr = raw[0], raw[1:].strip().lower()
        if sign not in "+-" or not attr:
            raise QueryError(
                f"oslc.orderBy: {raw.strip()!r} must start with + or - "
                "(a + must be URL-encoded as %2B, or it arrives as a space)"
            )
        out.append((attr, sign == "+"))
    return out
