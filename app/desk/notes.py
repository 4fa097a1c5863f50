"""Internal notes in a chat: written by its agent (or a manager), seen by agents and managers
only, never by the end user, and kept on the SR's work log as an internal entry.

A whisper is a manager's note addressed to the chat's agent (the console highlights it).
Notes live in their own table: the end user's stream of messages stays exactly what he is
sent.
"""

from __future__ import annotations

import uuid

from sqlalchemy import and_, false, or_, select
from sqlalchemy.exc import IntegrityError

from app import wire
from app.desk import chats, events, requests
from app.desk.errors import Conflict, Forbidden, ValidationError
from app.desk.settings import setting
from app.desk.unit_of_work import in_transaction, transaction, use_case
from app.desk.validation import clean_text
from app.extensions import db
from app.models import Chat, ChatMessage, ChatNote, ChatStatus, NoteKind, Person, User, utcnow

SUMMARY_MAX = 200


def clean_body(body: object, client_id: object) -> tuple[str, str]:
    """A chat text and its client id (notes and supervisors' messages), checked."""
    text = clean_text(body, "body", max_length=setting("CHAT_MESSAGE_MAX_LENGTH"))
    if (not isinstance(client_id, str) or not client_id.strip()
            or len(client_id) > chats.CLIENT_ID_MAX):
        raise ValidationError("invalid", f"client_id must be text of 1 to "
                              f"{chats.CLIENT_ID_MAX} characters.", "client_id")
    return text, client_id


def _open(chat: Chat) -> None:
    if chat.status not in chats.OPEN_STATES:
        raise Conflict("closed", "This chat has ended: notes go onto its SR's work log.",
                       "chat_id")


def write_note(chat_id: object, author: User, body: object, client_id: object) -> dict:
    """An internal note in an open chat, by its agent or a manager; once per client id."""
    text, key = clean_body(body, client_id)
    chat = chats.get_chat(chat_id)
    if chat.agent_id != author.id and not author.is_manager:
        raise Forbidden("not_yours", "Only the chat's agent (or a manager) writes notes in it.",
                        "chat_id")
    return _store(chat, author, NoteKind.NOTE, None, text, key)


def whisper(chat_id: object, manager: User, body: object, client_id: object) -> dict:
    """A manager's note to the agent of a live chat."""
    if not manager.is_manager:
        raise Forbidden("forbidden", "Only managers whisper to an agent.", "chat_id")
    text, key = clean_body(body, client_id)
    chat = chats.get_chat(chat_id)
    _open(chat)
    if chat.status != ChatStatus.ACTIVE or chat.agent_id is None:
        raise Conflict("not_accepted", "No agent has this chat yet: there is no one to "
                       "whisper to.", "chat_id")
    if chat.agent_id == manager.id:
        raise ValidationError("own_chat", "This is your own chat: write a note instead.",
                              "chat_id")
    return _store(chat, manager, NoteKind.WHISPER, chat.agent, text, key)


def _store(chat: Chat, author: User, kind: NoteKind, to: User | None, text: str,
           client_id: str) -> dict:
    existing = _by_client_id(chat.id, client_id)
    if existing is not None:
        return wire.note(existing, to_name=to.display_name if to else None)
    if in_transaction():
        return _write(chat, author, kind, to, text, client_id)
    try:
        with transaction():
            return _write(chat, author, kind, to, text, client_id)
    except IntegrityError:  # the same note, sent twice at once
        existing = _by_client_id(chat.id, client_id)
        if existing is None:
            raise
        return wire.note(existing, to_name=to.display_name if to else None)


def _write(chat: Chat, author: User, kind: NoteKind, to: User | None, text: str,
           client_id: str) -> dict:
    _open(db.session.get(Chat, chat.id, populate_existing=True))
    note = ChatNote(chat_id=chat.id, kind=kind, author_id=author.id,
                    author_name=author.display_name, to_user_id=to.id if to else None,
                    body=text, client_id=client_id, created_at=utcnow())
    db.session.add(note)
    db.session.flush()
    what = (f"Whisper from {author.display_name} to {to.display_name} in the chat"
            if to else f"Internal note in the chat by {author.display_name}")
    requests.add_work_log(chat.sr_id, author=author.person, summary=what[:SUMMARY_MAX],
                          details=text, log_type="NOTE", client_visible=False)
    payload = wire.note(note, to_name=to.display_name if to else None)
    events.record(events.NoteWritten(chat.id, payload, chat.agent_id))
    return payload


def _by_client_id(chat_id: int, client_id: str) -> ChatNote | None:
    return db.session.scalars(select(ChatNote).where(
        ChatNote.chat_id == chat_id, ChatNote.client_id == client_id)).first()


@use_case
def transfer_with_note(chat_id: object, agent: User, to_queue: object, note: object
                       ) -> Chat:
    """Transfer a live chat with a note for whoever takes it next (one transaction)."""
    if note is not None and not (isinstance(note, str) and not note.strip()):
        write_note(chat_id, agent, note, f"transfer-{uuid.uuid4().hex}")
    return chats.transfer_chat(chat_id, agent, to_queue)


def notes_of(chat_ids: list[int]) -> dict[int, list[dict]]:
    """Every note of these chats, oldest first (one SELECT, and one for whisper addressees)."""
    return _notes(chat_ids, ChatNote.chat_id.in_(chat_ids))


def notes_beside(pages: dict[int, tuple[list[dict], bool]], cursors: dict[int, int | None],
                 *, by_seq: bool = False) -> dict[int, list[dict]]:
    """The notes that go with each chat's page of history (`chats.history_pages`: chat id ->
    (messages, more), after the message of `cursors`, an id or a seq `by_seq`): those written
    after the cursor's message and, when more pages follow, no later than the page's last
    message. Paging through a chat thus brings each of its notes once, in the page of the
    messages it was written among; the last page brings every note after its cursor."""
    bounds = _message_times(
        [("seq" if by_seq else "id", chat_id, after)
         for chat_id, after in cursors.items() if after]
        + [("id", chat_id, messages[-1]["id"])
           for chat_id, (messages, more) in pages.items() if more and messages])
    windows = []
    for chat_id, (messages, more) in pages.items():
        after = cursors.get(chat_id)
        window = [ChatNote.chat_id == chat_id]
        since = bounds.get(("seq" if by_seq else "id", chat_id, after)) if after else None
        if since is not None:
            window.append(ChatNote.created_at > since)
        until = bounds.get(("id", chat_id, messages[-1]["id"])) if more and messages else None
        if until is not None:
            window.append(ChatNote.created_at <= until)
        windows.append(and_(*window))
    return _notes(list(pages), or_(*windows) if windows else false())


def _message_times(keys: list[tuple[str, int, int]]) -> dict[tuple[str, int, int], object]:
    """When each message was sent, by ("id" or "seq", chat id, its id or seq): one SELECT."""
    if not keys:
        return {}
    table = ChatMessage.__table__
    rows = db.session.execute(select(table.c.id, table.c.chat_id, table.c.seq, table.c.sent_at)
                              .where(or_(*[and_(table.c.chat_id == chat_id,
                                                table.c[column] == value)
                                           for column, chat_id, value in keys]))).all()
    times = {}
    for row in rows:
        times[("id", row.chat_id, row.id)] = row.sent_at
        times[("seq", row.chat_id, row.seq)] = row.sent_at
    return times


def _notes(chat_ids: list[int], condition) -> dict[int, list[dict]]:
    """The notes of these chats that meet `condition`, oldest first (and their whispers'
    addressees by name)."""
    found: dict[int, list[dict]] = {chat_id: [] for chat_id in chat_ids}
    if not chat_ids:
        return found
    rows = list(db.session.scalars(select(ChatNote).where(condition)
                                   .order_by(ChatNote.chat_id, ChatNote.id)))
    addressees = {row.to_user_id for row in rows if row.to_user_id}
    names = dict(db.session.execute(select(User.id, Person.display_name)
                                    .join(Person, Person.id == User.person_id)
                                    .where(User.id.in_(addressees))).all()) if addressees else {}
    for row in rows:
        found[row.chat_id].append(wire.note(row, to_name=names.get(row.to_user_id)))
    return found
