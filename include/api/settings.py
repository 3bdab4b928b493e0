"""The API's limits and URL settings, read once from the environment (documented in docs/API.md).

| variable | default | meaning |
|---|---|---|
| ``MILLWRIGHT_API_MAX_FILTERS`` | 50 | most ``filter[...]`` (and, separately, ``sort[...]``) parameters |
| ``MILLWRIGHT_API_MAX_QUERY_BYTES`` | 16384 | longest query string (bytes, as sent) |
| ``MILLWRIGHT_API_STATEMENT_TIMEOUT`` | 1.5 | seconds of database time per request; 0 = none |
| ``MILLWRIGHT_API_MAX_HEAD_BYTES`` | 1048576 | standalone server: largest request head it reads |
| ``MILLWRIGHT_PUBLIC_URL`` | unset | base of every link (``https://api.example.com``) |
| ``MILLWRIGHT_TRUSTED_HOSTS`` | localhost,127.0.0.1,::1 | Host headers links may use when no public URL |
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

PREFIX = "MILLWRIGHT_"
_HOST = re.compile(r"^(\*\.)?[A-Za-z0-9.\-:\[\]]+$")


class SettingError(ValueError):
    """A setting has a value the API cannot use; the message names the variable."""


@dataclass(frozen=True)
class ApiSettings:
    max_filters: int = 50
    max_query_bytes: int = 16_384
    statement_timeout: float = 1.5  # seconds; 0 disables
    max_head_bytes: int = 1_048_576
    public_url: str | None = None  # scheme://host[:port][/prefix], no trailing slash
    trusted_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiSettings:
        env = os.environ if env is None else env
        d = cls()
        hosts = env.get(f"{PREFIX}TRUSTED_HOSTS")
        return cls(
            max_filters=_int(env, "API_MAX_FILTERS", d.max_filters),
            max_query_bytes=_int(env, "API_MAX_QUERY_BYTES", d.max_query_bytes),
            statement_timeout=_seconds(env, "API_STATEMENT_TIMEOUT", d.statement_timeout),
            max_head_bytes=_int(env, "API_MAX_HEAD_BYTES", d.max_head_bytes),
            public_url=_public_url(env.get(f"{PREFIX}PUBLIC_URL")),
            trusted_hosts=d.trusted_hosts if hosts is None else _hosts(hosts),
        )

    def host_is_trusted(self, host: str | None) -> bool:
        """Whether a Host header's name (no port) is in ``trusted_hosts`` (``*.x`` = subdomains)."""
        if not host:
            return False
        host = host.lower().strip("[]")
        for pattern in self.trusted_hosts:
            if pattern == "*" or host == pattern.strip("[]"):
                return True
            if pattern.startswith("*.") and host.endswith(pattern[1:]):
                return True
        return False


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    if not raw.strip().isdigit() or int(raw) < 1:
        raise SettingError(f"{PREFIX}{name} must be a positive integer, got {raw!r}")
    return int(raw)


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < 86_400:
        raise SettingError(f"{PREFIX}{name} must be seconds (0 = no limit), got {raw!r}")
    return value


def _public_url(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise SettingError(
            f"{PREFIX}PUBLIC_URL must be http(s)://host[:port][/prefix], got {raw!r}"
        )
    return raw.strip().rstrip("/")


def _hosts(raw: str) -> tuple[str, ...]:
    hosts = tuple(h.strip().lower() for h in raw.split(",") if h.strip())
    bad = [h for h in hosts if h != "*" and not _HOST.match(h)]
    if bad:
        raise SettingError(f"{PREFIX}TRUSTED_HOSTS: not host names: {', '.join(bad)}")
    return hosts
