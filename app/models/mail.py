"""The e-mail outbox: mail is written here in the same transaction as its cause."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from app.extensions import db
from app.models.requests import ServiceRequest
from app.models.types import UTCDateTime, utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "PENDING"
    SENDING = "SENDING"
    SENT = "SENT"
    FAILED = "FAILED"  # gave up after MAIL_MAX_ATTEMPTS; kept and flagged, never dropped


class OutboxRow:
    """The columns the outbox sender (app/outbox/sender.py) works with, on every outbox."""

    status_constraint = "outbox_status"  # the name of the status column's CHECK constraint

    @declared_attr
    def status(cls) -> Mapped[OutboxStatus]:  # noqa: N805 - SQLAlchemy's declared_attr
        return mapped_column(
            Enum(OutboxStatus, native_enum=False, length=16, create_constraint=True,
                 name=cls.status_constraint, validate_strings=True),
            default=OutboxStatus.PENDING)

    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxMessage(OutboxRow, db.Model):
    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # resolution, transcript, ...
    sr_id: Mapped[int | None] = mapped_column(ForeignKey("service_request.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str | None] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(250))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)

    service_request: Mapped[ServiceRequest | None] = relationship()
