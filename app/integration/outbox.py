"""Webhook deliveries are written in the same transaction as the change that causes them.

Just before a transaction commits, the desk events it recorded (held by the session, see
app/desk/events.py) become one delivery row per subscribed, enabled webhook. So an event is
never lost (a change that commits has its deliveries) nor invented (a rollback takes both).
After the commit the process's own sender is woken, so a delivery leaves at once rather than
at the sender's next round. A use case written as statements on a connection, without the
session (`unit_of_work.statements`), has its deliveries written the same way
(`write_deliveries`, called before its commit).
"""

from __future__ import annotations

import json
import uuid

from flask import Flask, current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from app.desk import events as desk_events
from app.desk import unit_of_work
from app.integration import events as webhook_events
from app.models import OutboxStatus, Webhook, WebhookDelivery, utcnow

_WRITTEN = "integration.deliveries_written"
_INSERT = insert(WebhookDelivery.__table__)
_ENABLED = select(Webhook.id, Webhook.events).where(Webhook.is_enabled.is_(True))


def init_app(app: Flask) -> None:
    if not sa_event.contains(Session, "before_commit", _before_commit):
        sa_event.listen(Session, "before_commit", _before_commit)
        sa_event.listen(Session, "after_commit", _after_commit)
    unit_of_work.write_with_events(write_deliveries, after=wake)


def subscribers(connection: Connection, names: set[str]) -> dict[str, list[int]]:
    """Enabled webhooks by the event names they take (among ``names``)."""
    result: dict[str, list[int]] = {}
    for webhook_id, subscribed in connection.execute(_ENABLED):
        for name in set((subscribed or "").split(",")) & names:
            result.setdefault(name, []).append(webhook_id)
    return result


def write_deliveries(connection: Connection, pending: list[object]) -> bool:
    """The deliveries of these desk events (of the transaction on `connection`, which has not
    committed yet), one per subscribed, enabled webhook; whether any was written. After the
    commit, `wake()` sends them at once."""
    if not pending or not has_app_context():
        return False
    names = webhook_events.names(pending)
    if not names:
        return False
    wanted = subscribers(connection, names)
    if not wanted:
        return False
    now = utcnow()
    rows = []
    for item in webhook_events.outgoing(pending, set(wanted)):
        event_id = str(uuid.uuid4())
        body = json.dumps({"id": event_id, "event": item.event, "occurred_at": item.occurred_at,
                           "data": item.data}, ensure_ascii=False, separators=(",", ":"))
        rows.extend({"delivery_id": str(uuid.uuid4()), "event_id": event_id,
                     "webhook_id": webhook_id, "event": item.event, "order_key": item.order_key,
                     "body": body, "status": OutboxStatus.PENDING, "attempts": 0,
                     "next_attempt_at": now, "created_at": now}
                    for webhook_id in wanted[item.event])
    if not rows:
        return False
    connection.execute(_INSERT, rows)
    return True


def wake() -> None:
    """Deliveries were committed: this process's sender sends them now rather than at its
    next round."""
    if has_app_context():
        worker = current_app.extensions.get("webhook_worker")
        if worker is not None:
            worker.wake()


def _before_commit(session: Session) -> None:
    pending = desk_events.pending(session)
    if pending and write_deliveries(session.connection(), pending):
        session.info[_WRITTEN] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_WRITTEN, False):
        wake()
