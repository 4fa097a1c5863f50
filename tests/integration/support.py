"""Desk stories that make webhook events, and a look at the webhook outbox."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.desk import chats
from app.desk.chats import Sender
from app.extensions import db
from app.models import SenderRole, WebhookDelivery, utcnow


def chat_story(desk, *, email="zoe@example.com", messages=3) -> int:
    """A whole chat: requested, accepted by alice, messages both ways, closed by her."""
    requested = chats.request_chat(name="Zoë O'Neil", email=email, queue="Hardware",
                                   question="My laptop will not start")
    chat = requested.chat
    chats.accept_chat(chat.id, desk.alice)
    for n in range(messages):
        chats.post_message(chat.id, Sender(SenderRole.VISITOR, "Zoë O'Neil"), f"visitor {n}",
                           f"v{n}")
        chats.post_message(chat.id, Sender.agent(desk.alice), f"agent {n}", f"a{n}")
    chats.close_chat(chat.id, by=SenderRole.AGENT, agent=desk.alice)
    return chat.id


def deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def make_due() -> None:
    """As if every back-off had passed."""
    db.session.execute(update(WebhookDelivery)
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def send(worker_id: str = "test-worker", limit: int = 50):
    from app.integration import sender

    return sender.send_due(worker_id, limit)
