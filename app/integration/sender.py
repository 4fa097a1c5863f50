"""Send the webhook outbox through the shared outbox machinery (app/outbox/sender.py).

What is particular to webhooks: a delivery is claimed only when no earlier delivery of the
same webhook and chat (or SR) is still waiting or being sent, so each receiver gets a chat's
events in the order they happened; deliveries of a disabled webhook wait; a receiver that
cannot be reached is skipped for the rest of the pass (its deliveries keep their turn).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, current_app
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

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
                                body=row.body.encode("utf-8"))

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
