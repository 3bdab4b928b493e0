"""Old import path: a connection's sync state is computed in include/admin/status.py."""

from include.admin.status import entity_states, integration_status, sync_summary  # noqa: F401
