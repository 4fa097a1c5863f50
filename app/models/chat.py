"""Chats and their messages."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.people import Person, PersonGroup, User
from app.models.requests import ServiceRequest
from app.models.types import UTCDateTime, utcnow


class ChatStatus(enum.StrEnum):
    WAITING = "WAITING"
    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"
    ABANDONED = "ABANDONED"


class SenderRole(enum.StrEnum):
    VISITOR = "VISITOR"
    AGENT = "AGENT"
    SYSTEM = "SYSTEM"


class Chat(db.Model):
    """A chat belongs to one SR and one queue (a person group flagged as chat queue)."""

    __tablename__ = "chat"
    __table_args__ = (
        # The queue counts and the waiting list read exactly this.
        Index("ix_chat_status_queue_requested", "status", "queue_id", "requested_at"),
        Index("ix_chat_agent_status", "agent_id", "status"),
        # The dashboard's day ranges (requested / accepted today and in the last 7 days).
        Index("ix_chat_requested_at", "requested_at"),
        Index("ix_chat_accepted_at", "accepted_at"),
        # Chats that ended in a state, by day (the dashboard's abandoned chats).
        Index("ix_chat_status_closed", "status", "closed_at"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        # The sweeper's expired offers; an agent's pending offers.
        Index("ix_chat_offer_expires_at", "offer_expires_at"),
        Index("ix_chat_offered_to", "offered_to_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sr_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"), index=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("person_group.id"))
    status: Mapped[ChatStatus] = mapped_column(
        Enum(ChatStatus, native_enum=False, length=16, create_constraint=True,
             name="chat_status", validate_strings=True),
        default=ChatStatus.WAITING,
    )
    visitor_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    # Random secret bound into the visitor token; rotating it revokes old tokens.
    visitor_key: Mapped[str] = mapped_column(String(64))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    question: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(16))  # VISITOR, AGENT, SYSTEM
    close_reason: Mapped[str | None] = mapped_column(String(200))
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the visitor's last socket went away (None while connected): abandon grace period.
    visitor_left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The server process holding the end user's socket (the last one he connected to): if
    # that process dies, he counts as gone from its last heartbeat on.
    visitor_node: Mapped[str | None] = mapped_column(String(64))
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    # The host site vouched for the end user's e-mail address (a valid identity hash).
    verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The transcript was mailed (once per chat).
    transcript_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Written when the chat ends, for the reports (docs/domain.md, "Reports"): the chat's
    # agent's first message after accepting it, and the messages of end user and agents.
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_count: Mapped[int | None] = mapped_column(Integer)
    # When the chat's agent resolved its SR, while the chat was live or in its wrap-up.
    sr_resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The seq of its latest message: the next one takes last_seq + 1 (taken under the
    # chat row's lock, in the statement that stores the message).
    last_seq: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Auto routing: the one agent the waiting chat is offered to now, until when.
    offered_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"))
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the reports' roll-up last counted of this chat (app.desk.report_rollup): its
    # request, acceptance and end as compact JSON; the roll-up takes these out and puts
    # the chat's facts of now in when the chat changes.
    report_facts: Mapped[str | None] = mapped_column(Text)

    service_request: Mapped[ServiceRequest] = relationship(back_populates="chats")
    queue: Mapped[PersonGroup] = relationship()
    visitor: Mapped[Person] = relationship()
    agent: Mapped[User | None] = relationship(foreign_keys=[agent_id])
    messages: Mapped[list[ChatMessage]] = relationship(
        back_populates="chat", order_by="ChatMessage.id", cascade="all, delete-orphan"
    )


class ChatMessage(db.Model):
    """A message: plain text, server time stamp, unique per chat and sender client id."""

    __tablename__ = "chat_message"
    __table_args__ = (
        UniqueConstraint("chat_id", "client_id", name="uq_chat_message_chat_client"),
        Index("ix_chat_message_chat_id_id", "chat_id", "id"),
        # 1, 2, 3, ... within a chat, without gaps: a client that sees seq n + 2 after n
        # knows it missed one.
        Index("uq_chat_message_chat_seq", "chat_id", "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chat.id", ondelete="CASCADE"))
    sender_role: Mapped[SenderRole] = mapped_column(
        Enum(SenderRole, native_enum=False, length=16, create_constraint=True,
             name="sender_role", validate_strings=True)
    )
    sender_name: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A desk's own line (SYSTEM), as what happened and to whom, so that each client says it
    # in its own language: {"kind": "transferred", "agent": ..., "queue": ...}; `body` is the
    # English wording.
    notice: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    chat: Mapped[Chat] = relationship(back_populates="messages")


class OfferOutcome(enum.StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # the chat left the queue, or the agent became unavailable


class ChatOffer(db.Model):
    """Each offer of a waiting chat to one agent (auto routing) and how it ended: who was
    asked already, so the next offer goes to someone else."""

    __tablename__ = "chat_offer"
    __table_args__ = (Index("ix_chat_offer_chat_user", "chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chat.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16), default=OfferOutcome.OFFERED.value)
