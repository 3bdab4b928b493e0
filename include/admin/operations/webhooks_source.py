"""Register the webhook receiver at the source on create and reconnect (docs/WEBHOOKS.md).

When the connection has webhooks on, its system has a subscription API
(``WebhookSpec.subscribe``), the request brought the credentials (Airflow's REST API never hands
a stored Connection's secrets out) and ``MILLWRIGHT_WEBHOOK_BASE_URL`` says where the receiver is
reachable from the source (``https://mw.example.com/millwright``: the receiver is
``<base>/webhooks/<id>``), the connector subscribes that URL and the secrets it gets back go into
the Airflow Connection's extra (``webhook_secret``, a JSON list, unless the system signs with its
API key as Limble does; ``webhook_subscriptions``, the ids). Otherwise the reason it did not is returned (the audit log records it) and the receiver
must be registered by hand. A failure at the source refuses the create (nothing is saved); a
create that fails after the registration removes the subscriptions again.

On disconnect the receiver answers ``410 Gone`` at once, and the subscriptions are removed at
the source by a pending operation (`removal_op`, run by `remove`): the admin API cannot read the
stored Connection's key, so only the lifecycle DAG's pass runs it (its task opens the
Connection's hook). It is idempotent (an id already gone is fine); a failure keeps its reason on
the operation and is retried at the next pass, up to `MAX_REMOVE_ATTEMPTS` passes, after which
the audit log names the subscriptions left to remove by hand.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import replace
from typing import Any

from connectors.base import WebhookRegistration
from connectors.connection import ConnFields, settings_from
from connectors.registry import get_connector
from include.admin.airflow_adapter import Credentials
from include.admin.base import AdminContext, validate_config
from include.admin.errors import LifecycleError, SourceRefused
from include.admin.pending import OpKind, PendingOp
from include.config import ConnectionConfig
from include.model.timeutil import zone
from include.store import registry as db
from include.store.engine import Conn

log = logging.getLogger(__name__)
BASE_URL_ENV = "MILLWRIGHT_WEBHOOK_BASE_URL"
SUBSCRIPTIONS_EXTRA = "webhook_subscriptions"
MAX_REMOVE_ATTEMPTS = 20  # lifecycle passes (about 10 min at the default 30 s)
NEEDS_PASS = "waiting for the lifecycle pass (millwright__lifecycle): only it reads the stored "\
    "credentials that removing the webhook subscriptions at the source needs"  # fmt: skip


class RemoveFailed(LifecycleError):
    """The source refused or could not be reached: retried at the next pass."""


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
    extra = {**creds.extra, SUBSCRIPTIONS_EXTRA: json.dumps(list(reg.ids))}
    if reg.secrets:  # Limble has none: it signs with the account's API key
        extra["webhook_secret"] = json.dumps(list(reg.secrets))
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


def registered_ids(conn: Conn, row: dict[str, Any]) -> tuple[str, ...] | None:
    """The subscription ids the create or reconnect of ``row`` registered (its audit entry);
    None when it registered none that way but its system can subscribe (a hand-made
    registration kept in the Connection's ``webhook_subscriptions``)."""
    for entry in db.audit_entries(conn, row["id"], limit=10_000):
        if entry["action"] in ("create", "reconnect"):
            subs = (entry["details"].get("webhooks") or {}).get("subscriptions")
            if subs:
                return tuple(str(i) for i in subs)
    return None


def removal_op(conn: Conn, row: dict[str, Any]) -> PendingOp | None:
    """Disconnect's operation removing the connection's subscriptions at the source, or None
    when it has none to remove (webhooks off, or a system without a subscription API)."""
    ids = registered_ids(conn, row)
    if ids:
        return PendingOp.remove_webhooks(ids)
    try:
        cfg = ConnectionConfig.model_validate(row["config"])
        spec = getattr(get_connector(cfg.system), "webhooks", None)
    except Exception:  # an unusable entry or unknown system: nothing this could remove
        return None
    if cfg.webhooks_on and spec is not None and spec.subscribe:
        return PendingOp.remove_webhooks(None)
    return None


def _ids_from_extra(extra: dict[str, Any]) -> tuple[str, ...]:
    raw = extra.get(SUBSCRIPTIONS_EXTRA)
    if raw in (None, ""):
        return ()
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = [raw]
    if isinstance(raw, str | int):
        raw = [raw]
    if not isinstance(raw, list):
        raise RemoveFailed(f"the Connection's {SUBSCRIPTIONS_EXTRA} extra is not a list of ids")
    return tuple(str(i) for i in raw)


def remove(ctx: AdminContext, row: dict[str, Any], op: PendingOp) -> None:
    """Run a `OpKind.REMOVE_WEBHOOKS` operation (settle's runner). Without source access (the
    api-server): `LifecycleError` saying it waits for the lifecycle pass. A failure at the
    source: `RemoveFailed` with the reason (settle counts the attempt)."""
    assert op.kind is OpKind.REMOVE_WEBHOOKS
    if ctx.source is None:
        raise LifecycleError(NEEDS_PASS, "webhooks")
    cfg = validate_config(row["config"])
    try:
        ids = op.ids if op.ids is not None else _ids_from_extra(ctx.source.extra(cfg))
        if not ids:
            return
        with ctx.source.connector(cfg) as connector:
            connector.remove_webhooks(tuple(ids))
    except LifecycleError:
        raise
    except Exception as exc:
        raise RemoveFailed(
            f"removing webhook subscriptions {', '.join(op.ids or ()) or '(from the Connection)'}"
            f" at the source failed: {exc}", "webhooks",
        ) from None  # fmt: skip
    log.info("webhooks %s: removed subscriptions %s at the source", row["id"], ", ".join(ids))


def give_up(ctx: AdminContext, row: dict[str, Any], op: PendingOp, reason: str) -> None:
    """After `MAX_REMOVE_ATTEMPTS` failed passes: the audit log says what is left to remove."""
    with ctx.store.write() as conn:
        db.add_audit(conn, "lifecycle", "webhooks_not_removed", row["id"], row["customer"],
                     {"subscriptions": list(op.ids) if op.ids is not None else None,
                      "attempts": op.attempts, "reason": reason,
                      "note": "remove these subscriptions at the source by hand"})  # fmt: skip
    log.warning("webhooks %s: gave up removing subscriptions at the source after %d attempts: %s",
                row["id"], op.attempts, reason)  # fmt: skip
