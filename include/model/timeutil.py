"""Time conversion: every time is stored and served as an ISO-8601 UTC string ending in ``Z``.

Sources speak many dialects: ISO with an offset (Maximo), naive local time (SAP DateTime, Tryton,
Maximo configured without offsets), epoch milliseconds and ``/Date(ms+hhmm)/`` (SAP OData v2).
Naive values are interpreted in the connection's time zone. During a DST fall-back hour a naive
time is ambiguous; we take the first occurrence (fold=0). A naive time inside a spring-forward gap
does not exist; it is shifted forward by the gap, as zoneinfo does. The look-back overlap absorbs
both.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

_SAP_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """A cached ZoneInfo; raises ValueError naming the zone when it is unknown."""
    try:
        return ZoneInfo(name)
    except Exception as exc:  # ZoneInfoNotFoundError, ValueError
        raise ValueError(f"unknown time zone {name!r}") from exc


def parse_datetime(value: object, tz: ZoneInfo | None = None) -> datetime | None:
    """Parse a source time into an aware UTC datetime; None for empty values.

    Raises ValueError with the offending value when it cannot be parsed.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000.0, UTC)
    elif isinstance(value, str):
        m = _SAP_DATE.match(value)
        if m:
            dt = datetime.fromtimestamp(int(m.group(1)) / 1000.0, UTC)
            return dt
        try:
            dt = datetime.fromisoformat(
                value.replace("Z", "+00:00") if value.endswith("Z") else value
            )
        except ValueError:
            raise ValueError(f"not a date/time: {value!r}") from None
    else:
        raise ValueError(f"not a date/time: {value!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz or UTC)
    return dt.astimezone(UTC)


def format_utc(dt: datetime | None) -> str | None:
    """ISO-8601 UTC with ``Z``; microseconds only when present."""
    if dt is None:
        return None
    dt = dt.astimezone(UTC) if dt.tzinfo else dt
    return dt.replace(tzinfo=None).isoformat() + "Z"


@lru_cache(maxsize=65536)
def _str_to_utc_iso(value: str, tz: ZoneInfo | None) -> str | None:
    return format_utc(parse_datetime(value, tz))


_fromisoformat = datetime.fromisoformat

# ":MM:SS" with ASCII digits, 00-59 each: the minutes and seconds the whole-hour fast path keeps
MINUTE_SECONDS = frozenset(f":{m:02d}:{s:02d}" for m in range(60) for s in range(60))


def utc_iso_converter(tz: ZoneInfo | None = None, cache_size: int = 1 << 16):
    """A fast ``value -> to_utc_iso(value, tz)`` for one zone, for hot loops (the mapping).

    ISO strings take a short path (``fromisoformat`` + ``astimezone``, the same steps as
    `parse_datetime` + `format_utc`); results of strings are memoised in a bounded dict
    (``conv.cache``). Strings with a whole-hour offset (``2024-03-05T10:15:00-05:00``, what Maximo
    sends) convert their date, hour and offset once (``conv.hours``: ``text[:13] + text[19:]`` ->
    the UTC ``YYYY-MM-DDTHH``) and keep minutes and seconds: for such a string whose
    ``text[13:19]`` is in `MINUTE_SECONDS`, the result is ``hours[key] + text[13:19] + "Z"``
    whenever the key is there. The generated mapping code probes both inline before calling.
    Raises ValueError like `parse_datetime`.
    """
    cache: dict[str, str] = {}
    hours: dict[str, str] = {}  # "YYYY-MM-DDTHH" + offset -> the UTC "YYYY-MM-DDTHH"
    zone_ = tz or UTC

    def conv(value: object) -> str | None:
        if value.__class__ is not str:
            return format_utc(parse_datetime(value, tz))
        out = cache.get(value)  # type: ignore[call-overload]
        if out is not None:
            return out
        text: str = value  # type: ignore[assignment]
        if (  # ISO with a whole-hour offset: convert the hour once, keep minutes and seconds
            len(text) == 25
            and text[22:] == ":00"
            and text[19] in "+-"
            and text[13:19] in MINUTE_SECONDS
        ):
            hour_key = text[:13] + text[19:]
            prefix = hours.get(hour_key)
            if prefix is None:
                try:
                    dt = _fromisoformat(text[:13] + ":00:00" + text[19:])
                except ValueError:
                    dt = None
                if dt is not None:
                    prefix = dt.astimezone(UTC).isoformat()[:13]
                    if len(hours) >= cache_size:
                        hours.clear()
                    hours[hour_key] = prefix
            if prefix is not None:
                out = prefix + text[13:19] + "Z"
        if out is None and len(text) >= 19 and text[10] == "T" and text[4] == "-":
            try:
                dt = _fromisoformat(text)
            except ValueError:
                dt = None
            if dt is not None:
                if dt.tzinfo is None:
                    dt = dt.replace(tzinfo=zone_)
                out = dt.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
        if out is None:
            out = format_utc(parse_datetime(text, tz))
            if out is None:
                return None
        if len(cache) >= cache_size:
            cache.clear()
        cache[text] = out
        return out

    conv.cache = cache  # type: ignore[attr-defined]
    conv.hours = hours  # type: ignore[attr-defined]
    return conv


def to_utc_iso(value: object, tz: ZoneInfo | None = None) -> str | None:
    """Parse a source time and format it as stored (`format_utc(parse_datetime(...))`).

    String values are cached (bounded): sources repeat timestamps a lot (one change time per batch
    job, dates without times), and parsing dominates mapping time otherwise.
    """
    if isinstance(value, str):
        return _str_to_utc_iso(value, tz)
    return format_utc(parse_datetime(value, tz))


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_duration(text: str) -> timedelta:
    """Parse ``90s``, ``15m``, ``2h``, ``1d`` or a plain number of seconds."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", str(text))
    if not m:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 15m, 2h, 1d)")
    amount, unit = float(m.group(1)), m.group(2) or "s"
    return timedelta(seconds=amount * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit])
