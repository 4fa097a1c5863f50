"""Desk stories the mail tests share: a chat from an end user, an SR resolved by an agent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.desk import chats, requests
from app.extensions import db
from app.models import OutboxMessage, ServiceRequest, utcnow

SENDER = "desk@example.test"
REPLY_TO = "help@example.test"


def chat_from(desk, *, name="Zoë O'Neil", email="zoe@example.com",
              question="My laptop will not start"):
    """An end user asks for a chat in the Hardware queue, and alice accepts it."""
    requested = chats.request_chat(name=name, email=email, queue="Hardware", question=question)
    chats.accept_chat(requested.chat.id, desk.alice)
    return requested.chat


def resolve(desk, sr: ServiceRequest, solution: str) -> ServiceRequest:
    """The agent writes the solution, then moves the SR to RESOLVED."""
    sr = requests.update_service_request(sr.id, actor=desk.alice, expected_version=sr.version,
                                         changes={"solution": solution}).sr
    return requests.change_status(sr.id, "RESOLVED", actor=desk.alice)


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def make_due(*rows: OutboxMessage) -> None:
    """As if the back-off had passed: the rows' next try is now due."""
    db.session.execute(update(OutboxMessage)
                       .where(OutboxMessage.id.in_([row.id for row in rows]))
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
