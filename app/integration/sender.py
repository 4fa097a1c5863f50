"""Send the webhook outbox through the shared outbox machinery (app/outbox/sender.py).

What is particular to webhooks: a delivery is claimed only when no earlier delivery of the
same webhook and chat (or SR) is still waiting or being sent, so each receiver gets a chat's
events in the order they happened; deliveries of a disabled webhook wait; a receiver that
cannot be reached is skipped for the rest of the pass (its deliveries keep their turn).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, current_app
from sqlalchemy import exists, func, select, tuple_
from sqlalchemy.orm import aliased

from app.extensions import db
from app.integration import delivery
from app.models import OutboxStatus, Webhook, WebhookDelivery
from app.outbox import sender as outbox
from app.outbox.sender import OutboxWorker, SendStats

ACTIVE = (OutboxStatus.PENDING, OutboxStatus.SENDING)


class WebhookChannel(outbox.Channel):
    """The webhook outbox: WEBHOOK_* settings, signed HTTP POSTs."""

    name = "webhook"
    model = WebhookDelivery
    settings = "WEBHOOK"
    label = "Webhook delivery"
    defaults = {"MAX_ATTEMPTS": 20, "RETRY_DELAY": 10.0, "RETRY_MAX_DELAY": 21600.0,
                "SENDING_TIMEOUT": 300.0}
    # A batch holds the first waiting delivery of chats (or SRs) and the deliveries that
    # follow each of them, sent in order; a delivery is claimed only with its chat's first.
    batch = 100

    def pause_key(self, job: delivery.Request) -> int | None:
        return job.webhook_id if isinstance(job, delivery.Request) else None

    def order_of(self, job: delivery.Request) -> tuple | None:
        return (job.webhook_id, job.order_key) if isinstance(job, delivery.Request) else None

    def candidates(self, due, size: int, *, locking: bool) -> list[int]:
        """The first due delivery of up to ``size`` chats, then those that follow them."""
        heads = due.add_columns(WebhookDelivery.webhook_id, WebhookDelivery.order_key
                                ).limit(size)
        if locking:
            heads = heads.with_for_update(skip_locked=True)
        found = db.session.execute(heads).all()
        if not found:
            return []
        keys = sorted({(row.webhook_id, row.order_key) for row in found})
        followers = (select(WebhookDelivery.id)
                     .where(tuple_(WebhookDelivery.webhook_id, WebhookDelivery.order_key)
                            .in_(keys),
                            WebhookDelivery.status == OutboxStatus.PENDING,
                            WebhookDelivery.id > min(row.id for row in found))
                     .order_by(WebhookDelivery.id).limit(size))
        if locking:
            followers = followers.with_for_update(skip_locked=True)
        ids = {row.id for row in found} | set(db.session.scalars(followers))
        return sorted(ids)

    def keep(self, won: list[int]) -> list[int]:
        """Only the runs whose first delivery was won (another sender may hold the start of
        a chat whose later deliveries this one caught)."""
        rows = db.session.execute(
            select(WebhookDelivery.id, WebhookDelivery.webhook_id, WebhookDelivery.order_key)
            .where(WebhookDelivery.id.in_(won))).all()
        active = _first_active({(row.webhook_id, row.order_key) for row in rows})
        return [row.id for row in sorted(rows, key=lambda r: r.id)
                if active.get((row.webhook_id, row.order_key)) in set(won)]

    def claimable(self, paused: set) -> list:
        earlier = aliased(WebhookDelivery)
        conditions = [
            ~exists().where(earlier.webhook_id == WebhookDelivery.webhook_id,
                            earlier.order_key == WebhookDelivery.order_key,
                            earlier.id < WebhookDelivery.id, earlier.status.in_(ACTIVE)),
            WebhookDelivery.webhook_id.in_(select(Webhook.id).where(Webhook.is_enabled.is_(True))),
        ]
        if paused:
            conditions.append(WebhookDelivery.webhook_id.not_in(sorted(paused)))
        return conditions

    def open(self) -> _Poster:
        config = current_app.config
        return _Poster(timeout=float(config.get("WEBHOOK_TIMEOUT") or 5),
                       allow_private=bool(config.get("WEBHOOK_ALLOW_PRIVATE")))

    def prepare(self, row: WebhookDelivery) -> delivery.Request:
        webhook = row.webhook
        return delivery.Request(webhook_id=webhook.id, url=webhook.url, secret=webhook.secret,
                                delivery_id=row.delivery_id, event=row.event,
                                body=row.body.encode("utf-8"), order_key=row.order_key)

    def deliver(self, transport: _Poster, job: delivery.Request) -> dict:
        return {"response_code": transport.post(job)}

    def describe(self, row: WebhookDelivery) -> str:
        return f"Webhook delivery {row.id} ({row.event})"


class _Poster:
    """The way out for one pass: plain HTTP(S) requests, each to a freshly checked address."""

    def __init__(self, *, timeout: float, allow_private: bool) -> None:
        self.timeout = timeout
        self.allow_private = allow_private

    def post(self, job: delivery.Request) -> int:
        return delivery.post(job, timeout=self.timeout, allow_private=self.allow_private)

    def close(self) -> None:
        pass


def _first_active(keys: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """The first delivery of each (webhook, chat or SR) still waiting or being sent."""
    if not keys:
        return {}
    return {(webhook_id, key): first for webhook_id, key, first in db.session.execute(
        select(WebhookDelivery.webhook_id, WebhookDelivery.order_key,
               func.min(WebhookDelivery.id))
        .where(tuple_(WebhookDelivery.webhook_id, WebhookDelivery.order_key).in_(sorted(keys)),
               WebhookDelivery.status.in_(ACTIVE))
        .group_by(WebhookDelivery.webhook_id, WebhookDelivery.order_key))}


def send_due(worker_id: str | None = None, limit: int = 50) -> SendStats:
    """Passes until nothing due is left: ``flask send-webhooks``."""
    return outbox.send_all_due(WebhookChannel(), worker_id or outbox.default_worker_id("cli"),
                               limit)


def retry_now(ids: Iterable[object]) -> int:
    """Put FAILED or waiting deliveries back in line for an immediate try."""
    return outbox.retry_now(WebhookChannel(), ids)


def worker(app: Flask, interval: float, **options) -> OutboxWorker:
    return OutboxWorker(app, WebhookChannel(), interval, **options)


def run_worker(app: Flask) -> OutboxWorker | None:
    """Start this server process's webhook sender when WEBHOOK_WORKER_INTERVAL > 0; the
    process wakes it after each commit that wrote deliveries."""
    return outbox.start_worker(app, WebhookChannel(),
                               float(app.config.get("WEBHOOK_WORKER_INTERVAL") or 0))
