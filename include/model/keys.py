"""Record keys: derived only from a source's natural key, so they are stable across re-syncs and
reconnects, and every reference (`siteKey`, `assetKey`, ...) derived by the same rule joins.

A key joins the natural-key parts with ``:``; ``%`` and ``:`` inside a part are percent-escaped so
that distinct tuples never collide. Keys are safe to use as one URL path segment except for ``/``,
which is escaped too.
"""

from __future__ import annotations

from collections.abc import Iterable

_ESCAPE = str.maketrans({"%": "%25", ":": "%3A", "/": "%2F"})


def key_part(part: object) -> str | None:
    """One escaped key part; None when missing or blank."""
    if part is None:
        return None
    text = part.strip() if isinstance(part, str) else str(part).strip()
    if not text:
        return None
    if "%" in text or ":" in text or "/" in text:
        return text.translate(_ESCAPE)
    return text


def make_key(parts: Iterable[object]) -> str | None:
    """Key for a natural-key tuple; None when any part is missing or blank."""
    out = []
    for part in parts:
        text = key_part(part)
        if text is None:
            return None
        out.append(text)
    return ":".join(out) if out else None
