"""What other systems use: personal API tokens, webhooks and the webhook outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.mail import OutboxRow
from app.models.people import User
from app.models.types import UTCDateTime, utcnow


class ApiToken(db.Model):
    """A personal API token: the REST API acts with its user's rights.

    Only a hash of the token is kept (it is shown once, when created); `prefix` lets its owner
    tell his tokens apart.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Webhook(db.Model):
    """A receiver of desk events: every event it subscribes to is POSTed to its URL, signed
    with its secret."""

    __tablename__ = "webhook"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    # Comma-separated event names (see app/integration/events.py).
    events: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(200))
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    deliveries: Mapped[list[WebhookDelivery]] = relationship(
        back_populates="webhook", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def event_names(self) -> list[str]:
        return [name for name in (self.events or "").split(",") if name]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(OutboxRow, db.Model):
    """One event for one webhook: written in the transaction of the change that caused it,
    sent by the outbox workers. `body` is the exact JSON that is signed and sent, the same
    on every try; `order_key` (the chat or SR) keeps each chat's events in order."""

    __tablename__ = "webhook_delivery"
    status_constraint = "webhook_delivery_status"
    __table_args__ = (
        Index("ix_webhook_delivery_status_next", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_order", "webhook_id", "order_key", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhook.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    order_key: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    response_code: Mapped[int | None] = mapped_column(SmallInteger)

    webhook: Mapped[Webhook] = relationship(back_populates="deliveries")
