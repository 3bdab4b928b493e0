"""Per-connection API tokens as the admin layer uses them: issue, revoke, verify, list.

The store owns tokens (include/store/tokens.py): ``mw_`` + 256 random bits, shown once, stored as
SHA-256 with a short prefix, resolved through the hash's index and confirmed with
`hmac.compare_digest`; a purge deletes a connection's token rows with its data
(`include.store.registry.purge_connection_data`). Tokens are never logged.
"""

from __future__ import annotations

from include.store.tokens import (
    MAX_TOKEN_LEN,
    PREFIX_LEN,
    TOKEN_PREFIX,
    hash_token,
)
from include.store.tokens import issue_token as issue
from include.store.tokens import list_tokens as listing
from include.store.tokens import resolve_token as verify
from include.store.tokens import revoke_tokens as revoke

__all__ = [
    "MAX_TOKEN_LEN", "PREFIX_LEN", "TOKEN_PREFIX", "hash_token", "issue", "listing", "revoke",
    "verify",
]  # fmt: skip
