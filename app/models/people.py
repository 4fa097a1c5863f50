"""Persons, user accounts and person groups (which may be chat queues)."""

from __future__ import annotations

import enum
from datetime import datetime

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.types import UTCDateTime, trigram_index, utcnow

group_members = Table(
    "person_group_member",
    db.metadata,
    Column("group_id", ForeignKey("person_group.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", ForeignKey("person.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)


def password_hash_method() -> str:
    """scrypt; the test-suite trades hash cost for speed (TestingConfig)."""
    if has_app_context():
        return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return "scrypt"


class Role(enum.StrEnum):
    AGENT = "AGENT"
    MANAGER = "MANAGER"


class Person(db.Model):
    """Anyone the desk knows: agents, managers and end users."""

    __tablename__ = "person"
    # Search as you type (admin pickers and lists) by any part of a name, address or number.
    __table_args__ = (
        trigram_index("ix_person_display_name_trgm", "display_name"),
        trigram_index("ix_person_email_trgm", "email"),
        trigram_index("ix_person_phone_trgm", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(120))
    # Matched case-insensitively: see the index on lower(email) below.
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    # False for a person known only from what an anonymous chat request typed: nobody
    # vouched for the address, so no later request may find and reuse this record.
    verified: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    groups: Mapped[list[PersonGroup]] = relationship(
        secondary=group_members, back_populates="members", order_by="PersonGroup.name"
    )
    user: Mapped[User | None] = relationship(back_populates="person", uselist=False)

    def __str__(self) -> str:
        return f"{self.display_name} <{self.email}>" if self.email else self.display_name


# A chat request finds its end user by lower(email): this index serves it (a plain index on
# email does not), so the lookup stays constant as the person table grows.
Index("ix_person_email_lower", func.lower(Person.email))


class AgentStatus(enum.StrEnum):
    """An agent's availability. He chooses available or away (kept on his account); offline
    follows from having no console open (after a short grace)."""

    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


class Routing(enum.StrEnum):
    """How a chat queue hands out chats: agents pick them (manual) or the desk offers each to
    one available agent at a time (auto)."""

    MANUAL = "manual"
    AUTO = "auto"


class PersonGroup(db.Model):
    """A team; flagged as a chat queue it receives chat requests."""

    __tablename__ = "person_group"
    __table_args__ = (CheckConstraint("routing IN ('manual', 'auto')", name="routing_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    is_chat_queue: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    greeting: Mapped[str | None] = mapped_column(Text)
    routing: Mapped[str] = mapped_column(String(16), default=Routing.MANUAL.value,
                                         server_default=Routing.MANUAL.value)

    members: Mapped[list[Person]] = relationship(
        secondary=group_members, back_populates="groups", order_by="Person.display_name"
    )

    def __str__(self) -> str:
        return self.name


class User(UserMixin, db.Model):
    """An agent's or manager's login; belongs to one person."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("status IN ('available', 'away')", name="agent_status"),
        CheckConstraint("max_chats IS NULL OR max_chats BETWEEN 1 AND 20", name="max_chats"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, create_constraint=True, name="role"),
        default=Role.AGENT,
    )
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of every session and remember-me cookie; raised on logout, a password change or
    # disabling, so that every cookie issued before is refused.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), unique=True)
    # None: follow the installation's INDICATOR_STYLE; else "text" or "bubble".
    indicator_style: Mapped[str | None] = mapped_column(String(16))
    notify_desktop: Mapped[bool] = mapped_column(Boolean, default=False)
    notify_sound: Mapped[bool] = mapped_column(Boolean, default=False)
    # Sound and desktop notice even while the console tab has focus (else only when hidden).
    alert_in_focus: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # What the agent chose (available or away), kept across reloads and processes; he is
    # offline whatever this says while no console of his is open.
    status: Mapped[str] = mapped_column(String(16), default=AgentStatus.AVAILABLE.value,
                                        server_default=AgentStatus.AVAILABLE.value)
    # Since when the status he shows (including offline) holds, and why the desk set it.
    status_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_reason: Mapped[str | None] = mapped_column(String(200))
    # His last console closed at this moment: he still counts as online for the grace
    # (AGENT_OFFLINE_GRACE), so that a reload does not make him offline; None otherwise.
    console_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Chats he may hold at once (None: the installation's CHAT_MAX_PER_AGENT).
    max_chats: Mapped[int | None] = mapped_column(Integer)
    # When he last accepted a chat: the longest idle agent is offered the next one first.
    last_chat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Offers he let expire in a row (reset by any answer).
    offers_missed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    person: Mapped[Person] = relationship(back_populates="user", lazy="joined")

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled accounts cannot log in
        return self.is_enabled

    def get_id(self) -> str:
        """Flask-Login's session id: the user and his session generation ("17:3")."""
        return f"{self.id}:{self.session_generation or 0}"

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def display_name(self) -> str:
        return self.person.display_name

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=password_hash_method())

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __str__(self) -> str:
        return self.username


class ServerNode(db.Model):
    """One row per running server process, refreshed by its heartbeat: a row that stops
    being refreshed belongs to a process that died, whose sockets are then let go."""

    __tablename__ = "server_node"

    node: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class AgentPresence(db.Model):
    """One row per connected agent socket, so every process sees who is online."""

    __tablename__ = "agent_presence"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    node: Mapped[str] = mapped_column(String(64), index=True)
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


__all__ = ["AgentPresence", "AgentStatus", "Person", "PersonGroup", "Role", "Routing",
           "ServerNode", "User", "group_members"]
