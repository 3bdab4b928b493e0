"""Inbound webhooks, pure code: verification schemes (`schemes`) and what a system's events name
(`spec`). No HTTP, no Airflow, no database: the receiver is include/api/webhooks.py, the inbox
include/store/inbox.py, the apply step include/sync/events.py, the trigger include/airflow/webhooks.py.
"""

from include.webhooks.schemes import (
    SCHEMES,
    Scheme,
    Verified,
    WebhookRejected,
    body_id,
    verify,
)
from include.webhooks.spec import EventRule, EventTarget, WebhookSpec, targets

__all__ = [
    "SCHEMES",
    "EventRule",
    "EventTarget",
    "Scheme",
    "Verified",
    "WebhookRejected",
    "WebhookSpec",
    "body_id",
    "targets",
    "verify",
]
