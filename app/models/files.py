"""Files sent in chats: the attachment (what the desk knows of it) and its stored bytes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.chat import Chat, SenderRole
from app.models.types import UTCDateTime, utcnow


class Attachment(db.Model):
    """A file uploaded into a chat; it belongs to the chat's SR once a message carries it.

    `public_id` is the random id clients see (never the row id, so ids cannot be counted
    through). The bytes live in a file store (`storage_key`, and `thumbnail_key` for images),
    the database by default.
    """

    __tablename__ = "attachment"
    __table_args__ = (
        Index("ix_attachment_chat_id", "chat_id"),
        Index("ix_attachment_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chat.id", ondelete="CASCADE"))
    # Set when a message carries the file; until then only its uploader may see it.
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_message.id", ondelete="SET NULL"))
    uploader_role: Mapped[SenderRole] = mapped_column(
        db.Enum(SenderRole, native_enum=False, length=16, create_constraint=True,
                name="attachment_uploader_role", validate_strings=True))
    uploader_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(100))
    thumbnail_key: Mapped[str | None] = mapped_column(String(100))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    chat: Mapped[Chat] = relationship()

    @property
    def is_image(self) -> bool:
        return self.thumbnail_key is not None


class StoredFile(db.Model):
    """The bytes of a file kept in the database (the default file store): any process on
    any machine reads what another stored, with no shared disk."""

    __tablename__ = "stored_file"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
