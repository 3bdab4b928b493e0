"""The sandbox's reading of a FindFilter's ``ql``: a SQL-like condition with ``?`` parameters.

``ql`` as Fiix's clients write it: ``intSiteID = ? AND (strCode LIKE ? OR strName LIKE ?)``,
``dtmDateLastModified >= ? AND dtmDateLastModified < ?``, ``id IN (?, ?, ?)``. Supported:
``= <> != < <= > >= LIKE``, ``IN (...)``, number and 'string' literals, ``IS [NOT] NULL``, ``AND``, ``OR``, ``NOT`` and
parentheses (SQL precedence). A comparison with NULL is false, as in SQL. Date fields
(``dtm...``) compare in epoch milliseconds; a parameter may be epoch milliseconds or a
``YYYY-MM-DD HH:MM:SS`` string in the tenant's time zone (what Fiix's users send).
Anything else raises `QlError` naming the problem.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(
    r"\s*(?:(?P<op><>|!=|<=|>=|=|<|>)|(?P<lp>\()|(?P<rp>\))|(?P<comma>,)|(?P<param>\?)"
    r"|(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'[^']*')|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
_KEYWORDS = {"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE"}


class QlError(ValueError):
    pass


def to_ms(value: Any, tz: ZoneInfo) -> int | None:
    """A date parameter as epoch milliseconds."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise QlError(f"not a date: {value!r}")
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError:
            raise QlError(f"not a date: {value!r} (use 'YYYY-MM-DD HH:MM:SS')") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=tz)
        return int(dt.timestamp() * 1000)
    raise QlError(f"not a date: {value!r}")


def _tokens(ql: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = ql.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise QlError(f"cannot read ql at {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "word" and value.upper() in _KEYWORDS:
            kind, value = "kw", value.upper()
        out.append((kind, value))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, ql: str, params: Sequence[Any], fields: set[str], tz: ZoneInfo) -> None:
        self.toks = _tokens(ql)
        self.i = 0
        self.params = list(params)
        self.used = 0
        self.fields, self.tz = fields, tz

    def peek(self) -> tuple[str, str]:
        return self.toks[self.i] if self.i < len(self.toks) else ("end", "")

    def take(self, kind: str, value: str | None = None) -> str:
        k, v = self.peek()
        if k != kind or (value is not None and v != value):
            raise QlError(f"expected {value or kind}, found {v or 'the end'!r}")
        self.i += 1
        return v

    def param(self, name: str) -> Any:
        """The next value: a ``?`` parameter, or a number or 'string' literal."""
        kind, text = self.peek()
        if kind in ("num", "str"):
            self.i += 1
            value: Any = text[1:-1] if kind == "str" else float(text) if "." in text else int(text)
            return to_ms(value, self.tz) if name.startswith("dtm") else value
        self.take("param")
        if self.used >= len(self.params):
            raise QlError(f"ql has more '?' than the {len(self.params)} parameters given")
        value = self.params[self.used]
        self.used += 1
        return to_ms(value, self.tz) if name.startswith("dtm") else value

    def expr(self) -> Predicate:
        left = self.term()
        while self.peek() == ("kw", "OR"):
            self.i += 1
            a, b = left, self.term()
            left = lambda r, a=a, b=b: a(r) or b(r)  # noqa: E731
        return left

    def term(self) -> Predicate:
        left = self.factor()
        while self.peek() == ("kw", "AND"):
            self.i += 1
            a, b = left, self.factor()
            left = lambda r, a=a, b=b: a(r) and b(r)  # noqa: E731
        return left

    def factor(self) -> Predicate:
        if self.peek() == ("kw", "NOT"):
            self.i += 1
            inner = self.factor()
            return lambda r: not inner(r)
        if self.peek()[0] == "lp":
            self.i += 1
            inner = self.expr()
            self.take("rp")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        name = self.take("word")
        if name not in self.fields:
            raise QlError(f"unknown field {name!r}")
        kind, value = self.peek()
        if kind == "op":
            self.i += 1
            return _compare(name, value, self.param(name))
        if (kind, value) == ("kw", "LIKE"):
            self.i += 1
            return _like(name, self.param(name))
        if (kind, value) == ("kw", "IN"):
            self.i += 1
            self.take("lp")
            values = [self.param(name)]
            while self.peek()[0] == "comma":
                self.i += 1
                values.append(self.param(name))
            self.take("rp")
            allowed = set(values)
            return lambda r: r.get(name) in allowed
        if (kind, value) == ("kw", "IS"):
            self.i += 1
            negate = self.peek() == ("kw", "NOT")
            if negate:
                self.i += 1
            self.take("kw", "NULL")
            return (
                (lambda r: r.get(name) is not None) if negate else (lambda r: r.get(name) is None)
            )
        raise QlError(f"expected an operator after {name!r}, found {value or 'the end'!r}")


def _compare(name: str, op: str, value: Any) -> Predicate:
    def pred(r: dict[str, Any]) -> bool:
        v = r.get(name)
        if v is None or value is None:
            return False
        try:
            if op == "=":
                return v == value
            if op in ("<>", "!="):
                return v != value
            if op == "<":
                return v < value
            if op == "<=":
                return v <= value
            if op == ">":
                return v > value
            return v >= value
        except TypeError:
            raise QlError(f"{name}: cannot compare {v!r} with {value!r}") from None

    return pred


def _like(name: str, pattern: Any) -> Predicate:
    rx = re.compile(
        "^" + re.escape(str(pattern)).replace("%", ".*").replace("_", ".") + "$", re.IGNORECASE
    )
    return lambda r: r.get(name) is not None and bool(rx.match(str(r.get(name))))


def compile_ql(ql: str, params: Sequence[Any], fields: set[str], tz: ZoneInfo) -> Predicate:
    """A predicate over records; `QlError` for a ql that does not parse or does not match its
    parameters."""
    p = _Parser(ql, params, fields, tz)
    pred = p.expr()
    if p.i != len(p.toks):
        raise QlError(f"unexpected {p.toks[p.i][1]!r} in ql")
    if p.used != len(p.params):
        raise QlError(f"ql uses {p.used} '?' but {len(p.params)} parameters were given")
    return pred
