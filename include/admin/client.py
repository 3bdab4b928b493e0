"""Makini's "client": the application the connections belong to (``GET /api/system/client``).

A Millwright installation is one client. Its fields come from the environment, checked when read:

| variable | field | default |
|---|---|---|
| ``MILLWRIGHT_CLIENT_ID`` | ``id`` (and every connection's ``client_id``) | ``millwright`` |
| ``MILLWRIGHT_CLIENT_NAME`` | ``name`` | ``Millwright`` |
| ``MILLWRIGHT_CLIENT_EMAIL`` | ``email`` | null |
| ``MILLWRIGHT_CLIENT_LOGO_URL`` | ``logo_url`` | null |
| ``MILLWRIGHT_CLIENT_REDIRECTS`` | ``redirects`` (comma-separated URLs; the first is ``default_redirect`` and every connection's ``redirect``) | none |
"""

from __future__ import annotations

import os
import re
from typing import Any

from include.admin.errors import LifecycleError

_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")
_URL = re.compile(r"^https?://[^\s,]+$")


def client_info(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The client object; a malformed variable is a `LifecycleError` naming it."""
    env = dict(os.environ if env is None else env)
    cid = env.get("MILLWRIGHT_CLIENT_ID") or "millwright"
    if not _ID.match(cid):
        raise LifecycleError(
            f"MILLWRIGHT_CLIENT_ID: letters, digits, '.', '_' and '-' only, got {cid!r}", "client"
        )
    redirects = [u.strip() for u in (env.get("MILLWRIGHT_CLIENT_REDIRECTS") or "").split(",")]
    redirects = [u for u in redirects if u]
    bad = [u for u in redirects if not _URL.match(u)]
    if bad:
        raise LifecycleError(
            f"MILLWRIGHT_CLIENT_REDIRECTS: not an http(s) URL: {bad[0]!r}", "client"
        )
    logo = env.get("MILLWRIGHT_CLIENT_LOGO_URL") or None
    if logo is not None and not _URL.match(logo):
        raise LifecycleError(f"MILLWRIGHT_CLIENT_LOGO_URL: not an http(s) URL: {logo!r}", "client")
    return {
        "id": cid,
        "name": env.get("MILLWRIGHT_CLIENT_NAME") or "Millwright",
        "logo_url": logo,
        "email": env.get("MILLWRIGHT_CLIENT_EMAIL") or None,
        "default_redirect": redirects[0] if redirects else None,
        "redirects": redirects,
    }
