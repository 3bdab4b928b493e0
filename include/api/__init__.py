"""Millwright's HTTP API: Makini-compatible reads (/api/eam, /api/erp, /api/integrations) with
per-connection bearer tokens. See docs/API.md."""

from include.api.app import create_app
from include.api.auth import current_connection, issue_token, resolve_token, revoke_tokens

__all__ = ["create_app", "current_connection", "issue_token", "resolve_token", "revoke_tokens"]
