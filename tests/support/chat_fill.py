"""A long chat made quickly: its end user's messages stored through the desk's own service,
behind the live server's back (nobody is told; clients fetch them as history)."""

from __future__ import annotations

from app import create_app
from app.desk import chats
from app.extensions import db
from app.models import Chat


def fill_chat(database_url: str, chat_id: int, count: int, *, size: int = 40,
              prefix: str = "fill") -> None:
    """`count` messages of about `size` characters from the chat's end user."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        sender = chats.Sender.visitor(db.session.get(Chat, chat_id))
        db.session.remove()
        for start in range(0, count, 500):
            outcomes = chats.post_messages([
                chats.Draft(chat_id, sender, f"{n} " + "x" * size, f"{prefix}-{n}")
                for n in range(start, min(count, start + 500))])
            assert all(isinstance(outcome, tuple) for outcome in outcomes)
        db.session.remove()
        db.engine.dispose()
