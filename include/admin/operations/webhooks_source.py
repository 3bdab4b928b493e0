"""Register the webhook receiver at the source on create and reconnect (docs/WEBHOOKS.md).

When the connection has webhooks on, its system has a subscription API
(``WebhookSpec.subscribe``), the request brought the credentials (Airflow's REST API never hands
a stored Connection's secrets out) and ``MILLWRIGHT_WEBHOOK_BASE_URL`` says where the receiver is
reachable from the source (``https://mw.example.com/millwright``: the receiver is
``<base>/webhooks/<id>``), the connector subscribes that URL and the secrets it gets back go into
the Airflow Connection's extra (``webhook_secret``, a JSON list; ``webhook_subscriptions``, the
ids). Otherwise the reason it did not is returned (the audit log records it) and the receiver
must be registered by hand. A failure at the source refuses the create (nothing is saved); a
create that fails after the registration removes the subscriptions again.

On disconnect the receiver answers ``410 Gone``, which makes senders stop (Standard Webhooks
disables the endpoint; MaintainX deletes webhooks that keep failing); the subscriptions are not
deleted at the source (the stored Connection's key is not readable here).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import replace

from connectors.base import WebhookRegistration
from connectors.connection import ConnFields, settings_from
from connectors.registry import get_connector
from include.admin.airflow_adapter import Credentials
from include.admin.errors import SourceRefused
from include.config import ConnectionConfig
from include.model.timeutil import zone

log = logging.getLogger(__name__)
BASE_URL_ENV = "MILLWRIGHT_WEBHOOK_BASE_URL"


def receiver_url(connection_id: str) -> str | None:
    base = os.environ.get(BASE_URL_ENV, "").strip().rstrip("/")
    return f"{base}/webhooks/{connection_id}" if base else None


def _connector(cfg: ConnectionConfig, creds: Credentials):  # noqa: ANN202
    fields = ConnFields(
        host=creds.host, login=creds.login, password=creds.password, schema=creds.schema,
        port=creds.port, extra=creds.extra, conn_type=creds.conn_type,
        conn_id=cfg.airflow_conn_id,
    )  # fmt: skip
    settings = settings_from(cfg.system, fields, connection_id=cfg.id,
                             timezone=zone(cfg.source_timezone), options=cfg.options)  # fmt: skip
    return get_connector(cfg.system)(settings)


def subscribe(
    cfg: ConnectionConfig, creds: Credentials | None
) -> tuple[Credentials | None, WebhookRegistration | None, str | None]:
    """``(credentials with the webhook secrets, the registration, why none was made)``."""
    spec = getattr(get_connector(cfg.system), "webhooks", None)
    if not cfg.webhooks_on:
        return creds, None, None
    if spec is None or not spec.subscribe:
        return creds, None, f"{cfg.system} has no subscription API: register the receiver by hand"
    url = receiver_url(cfg.id)
    if url is None:
        return creds, None, f"{BASE_URL_ENV} is not set: register the receiver by hand"
    if creds is None:
        return creds, None, "no credentials in the request: register the receiver by hand"
    try:
        with _connector(cfg, creds) as connector:
            reg = connector.register_webhooks(url)
    except Exception as exc:
        raise SourceRefused(f"webhooks: registering {url} at the source failed: {exc}",
                            "webhooks") from None  # fmt: skip
    extra = {**creds.extra, "webhook_secret": json.dumps(list(reg.secrets)),
             "webhook_subscriptions": json.dumps(list(reg.ids))}  # fmt: skip
    return replace(creds, extra=extra), reg, None


def unsubscribe(cfg: ConnectionConfig, creds: Credentials | None, reg: WebhookRegistration) -> None:
    """Compensation: remove subscriptions of a create that failed afterwards (best effort)."""
    if creds is None:
        return
    try:
        with _connector(cfg, creds) as connector:
            connector.remove_webhooks(reg.ids)
    except Exception as exc:
        log.warning("webhooks %s: could not remove subscriptions %s: %s", cfg.id, reg.ids, exc)
