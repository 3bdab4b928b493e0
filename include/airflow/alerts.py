"""Alerts through an Airflow notifier: `AlertNotifier` posts a JSON message to an HTTP webhook
(Slack-style ``{"text": ...}``) and/or sends an email with Airflow's configured email backend.

Where alerts go (read when one is sent):

- ``MILLWRIGHT_ALERT_WEBHOOK_URL``, else the host of the Airflow Connection ``millwright_alerts``
  (its URL often holds a token: it is never logged);
- ``MILLWRIGHT_ALERT_EMAIL``: comma-separated addresses (Airflow's ``[smtp]``/``[email]`` settings).

With neither, the alert is a log line at ERROR level only.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import httpx
from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)
ALERT_CONN_ID = "millwright_alerts"


def _webhook_url() -> str | None:
    url = os.environ.get("MILLWRIGHT_ALERT_WEBHOOK_URL", "").strip()
    if url:
        return url
    try:
        from airflow.sdk import Connection

        conn = Connection.get(ALERT_CONN_ID)
    except Exception:
        return None
    host = (conn.host or "").strip()
    if host and "://" not in host:
        host = f"https://{host}"
    return host or None


class AlertNotifier(BaseNotifier):
    """Sends ``message`` (templated) to the configured HTTP webhook and email addresses."""

    template_fields = ("message",)

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.message, self.details = message, details or {}

    def notify(self, context: Any) -> None:
        sent = []
        url = _webhook_url()
        if url:
            try:
                r = httpx.post(url, json={"text": self.message, **self.details}, timeout=10)
                r.raise_for_status()
                sent.append("webhook")
            except httpx.HTTPError as exc:  # the URL may hold a token: log the type only
                log.error("alert webhook failed: %s", type(exc).__name__)
        emails = [a.strip() for a in os.environ.get("MILLWRIGHT_ALERT_EMAIL", "").split(",")]
        emails = [a for a in emails if a]
        if emails:
            try:
                from airflow.utils.email import send_email

                send_email(emails, f"Millwright alert: {self.message[:80]}", self.message)
                sent.append("email")
            except Exception as exc:
                log.error("alert email failed: %s", exc)
        log.error("ALERT %s (sent: %s)", self.message, ", ".join(sent) or "log only")


def send_alert(connection_id: str, reason: str, stats: dict[str, Any]) -> None:
    """Alert about one connection's webhooks (from the ``webhooks.apply`` task)."""
    message = f"Millwright connection {connection_id}: webhooks need attention: {reason}"
    AlertNotifier(message, {"connection_id": connection_id, "stats": stats})({})
