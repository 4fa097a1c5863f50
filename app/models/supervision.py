"""What agents and managers keep for themselves around a chat: canned responses, internal
notes (and whispers), and the managers who joined a live chat."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.people import PersonGroup, User
from app.models.types import UTCDateTime, utcnow


class CannedResponse(db.Model):
    """A ready-made answer: a queue's (kept by managers) or one agent's own.

    One row per language variant: `language` is "" for the default text and a language code
    ("de") for a variant; a chat in that language gets the variant, any other the default.
    """

    __tablename__ = "canned_response"
    __table_args__ = (
        CheckConstraint("(queue_id IS NULL) <> (owner_id IS NULL)", name="canned_scope"),
        # A shortcut names one answer per scope and language (NULL scopes are never equal,
        # so each index only compares rows of its own kind).
        UniqueConstraint("queue_id", "shortcut", "language", name="uq_canned_queue_shortcut"),
        UniqueConstraint("owner_id", "shortcut", "language", name="uq_canned_owner_shortcut"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    queue_id: Mapped[int | None] = mapped_column(
        ForeignKey("person_group.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    shortcut: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(16), default="", server_default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                 onupdate=utcnow)

    queue: Mapped[PersonGroup | None] = relationship()
    owner: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return f"/{self.shortcut} {self.title}"


class NoteKind(enum.StrEnum):
    NOTE = "NOTE"  # written by an agent (or a manager) for the chat's staff
    WHISPER = "WHISPER"  # a manager's note addressed to the chat's agent


class ChatNote(db.Model):
    """An internal note in a chat: agents and managers see it, the end user never.

    A table of its own rather than a kind of chat message: the end user's stream of messages
    stays exactly what he is sent, without gaps where notes would be.
    """

    __tablename__ = "chat_note"
    __table_args__ = (
        UniqueConstraint("chat_id", "client_id", name="uq_chat_note_chat_client"),
        Index("ix_chat_note_chat_id_id", "chat_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chat.id", ondelete="CASCADE"))
    kind: Mapped[NoteKind] = mapped_column(
        Enum(NoteKind, native_enum=False, length=16, create_constraint=True, name="note_kind",
             validate_strings=True), default=NoteKind.NOTE)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    author_name: Mapped[str] = mapped_column(String(120))
    # A whisper's addressee: the chat's agent when it was written.
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChatSupervisor(db.Model):
    """A manager who joined a live chat: he writes in it beside its agent."""

    __tablename__ = "chat_supervisor"

    chat_id: Mapped[int] = mapped_column(ForeignKey("chat.id", ondelete="CASCADE"),
                                         primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


__all__ = ["CannedResponse", "ChatNote", "ChatSupervisor", "NoteKind"]
