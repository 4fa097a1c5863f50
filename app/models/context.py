"""Where a chat came from: the end user's page, language, time zone, browser and OS."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class ChatContext(db.Model):
    """Sent by the widget with the chat request (page, referrer, language, time zone) and
    read by the server from the user agent (browser, OS). A table of its own, so that the
    chat row, which every message updates, stays narrow."""

    __tablename__ = "chat_context"

    chat_id: Mapped[int] = mapped_column(ForeignKey("chat.id", ondelete="CASCADE"),
                                         primary_key=True)
    page_url: Mapped[str | None] = mapped_column(String(2000))
    page_title: Mapped[str | None] = mapped_column(String(300))
    referrer: Mapped[str | None] = mapped_column(String(2000))
    language: Mapped[str | None] = mapped_column(String(35))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    browser: Mapped[str | None] = mapped_column(String(80))
    os: Mapped[str | None] = mapped_column(String(80))
    user_agent: Mapped[str | None] = mapped_column(String(500))
