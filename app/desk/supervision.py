"""Live supervision: a manager watches a live chat (the end user is not told), joins it (the
end user is told a second person joined, and both write), whispers to its agent (see
`notes.whisper`) or takes it over, for himself or another agent, through the same accept
rules as anyone (queue membership, capacity)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app import wire
from app.desk import chats, events, notes, people, report_rollup
from app.desk.errors import Conflict, Forbidden, NotFound, ValidationError
from app.desk.unit_of_work import transaction, use_case
from app.desk.validation import clean_id
from app.extensions import db
from app.models import (
    Chat,
    ChatMessage,
    ChatStatus,
    ChatSupervisor,
    SenderRole,
    User,
    utcnow,
)

NOT_A_MANAGER = "Only managers supervise chats."


def _manager(user: User) -> None:
    if not user.is_manager:
        raise Forbidden("forbidden", NOT_A_MANAGER, "chat_id")


def watchable_chat(user: User, chat_id: object) -> Chat:
    """A chat a manager may watch: any open one."""
    _manager(user)
    chat = chats.get_chat(chat_id)
    if chat.status not in chats.OPEN_STATES:
        raise Conflict("closed", "This chat has ended; its transcript is on its SR.", "chat_id")
    return chat


def _live(chat: Chat) -> None:
    if chat.status not in chats.OPEN_STATES:
        raise Conflict("closed", "This chat has ended.", "chat_id")
    if chat.status != ChatStatus.ACTIVE:
        raise Conflict("not_accepted", "No agent has this chat yet.", "chat_id")


def is_joined(chat_id: int, user_id: int) -> bool:
    return db.session.get(ChatSupervisor, (chat_id, user_id)) is not None


@use_case
def join_chat(chat_id: object, manager: User) -> Chat:
    """The manager joins a live chat: the end user reads that a second person joined."""
    _manager(manager)
    chat = chats.get_chat(chat_id)
    _live(chat)
    if chat.agent_id == manager.id:
        raise ValidationError("own_chat", "This is your own chat.", "chat_id")
    if is_joined(chat.id, manager.id):
        return chat
    db.session.add(ChatSupervisor(chat_id=chat.id, user_id=manager.id, joined_at=utcnow()))
    _system_message(chat, f"{manager.display_name} (supervisor) joined the chat.",
                    f"joined-{manager.id}",
                    {"kind": "supervisor_joined", "name": manager.display_name})
    events.record(events.SupervisorJoined(chat.id, manager.id, manager.display_name,
                                          chat.agent_id))
    return chat


def _system_message(chat: Chat, body: str, client_id: str, notice: dict) -> None:
    now = utcnow()
    note = ChatMessage(chat=chat, sender_role=SenderRole.SYSTEM, sender_name="Service Desk",
                       body=body, notice=notice, client_id=f"{client_id}-{int(now.timestamp() * 1000)}",
                       sent_at=now, seq=chats.take_seqs(chat.id, 1))
    db.session.add(note)
    db.session.flush()
    events.record(events.MessagePosted(chat.id, wire.message_of(note), chat.agent_id))


def post_as_supervisor(chat_id: object, manager: User, body: object, client_id: object
                       ) -> tuple[dict, bool]:
    """A joined manager's message to the end user (and the agent); once per client id."""
    _manager(manager)
    key = clean_id(chat_id, "chat_id")
    text, client_id = notes.clean_body(body, client_id)
    existing = db.session.scalars(select(ChatMessage).where(
        ChatMessage.chat_id == key, ChatMessage.client_id == client_id)).first()
    if existing is not None:
        return wire.message_of(existing), False
    try:
        with transaction():
            chat = chats.get_chat(key)
            if not is_joined(chat.id, manager.id):
                raise Forbidden("not_joined", "Join the chat before writing in it.", "chat_id")
            now = utcnow()
            live = db.session.execute(
                update(Chat).where(Chat.id == chat.id, Chat.status == ChatStatus.ACTIVE)
                .values(last_activity_at=now).execution_options(synchronize_session=False)
            ).rowcount == 1
            if not live:
                raise Conflict("closed", "This chat has ended.", "chat_id")
            row = ChatMessage(chat_id=chat.id, sender_role=SenderRole.AGENT,
                              sender_name=manager.display_name, user_id=manager.id, body=text,
                              client_id=client_id, sent_at=now,
                              seq=chats.take_seqs(chat.id, 1))
            db.session.add(row)
            db.session.flush()
            message = wire.message_of(row)
            events.record(events.MessagePosted(chat.id, message, chat.agent_id))
            return message, True
    except IntegrityError:  # the same message sent twice at once
        existing = db.session.scalars(select(ChatMessage).where(
            ChatMessage.chat_id == key, ChatMessage.client_id == client_id)).first()
        if existing is None:
            raise
        return wire.message_of(existing), False


@use_case
def take_over(chat_id: object, manager: User, to_agent: object = None) -> Chat:
    """Reassign a chat to the manager himself or to another agent (by id or username).

    The chat goes back to waiting and is accepted for the new agent by `accept_chat` in the
    same transaction: the same rules as any accept decide (his queue, his free seats), and a
    refusal leaves the chat as it was.
    """
    _manager(manager)
    chat = chats.get_chat(chat_id)
    if chat.status not in chats.OPEN_STATES:
        raise Conflict("closed", "This chat has ended.", "chat_id")
    target = _agent(to_agent) if to_agent not in (None, "") else manager
    previous = chat.agent_id
    if previous == target.id:
        raise ValidationError("same_agent", f"{target.display_name} has this chat already.",
                              "agent")
    if chat.status == ChatStatus.ACTIVE:
        released = db.session.execute(
            update(Chat).where(Chat.id == chat.id, Chat.status == ChatStatus.ACTIVE,
                               Chat.agent_id == previous)
            .values(status=ChatStatus.WAITING, agent_id=None, accepted_at=None)
            .execution_options(synchronize_session=False)).rowcount == 1
        if not released:
            raise Conflict("changed", "The chat changed meanwhile; look again.", "chat_id")
        report_rollup.touch(chat.id)
    taken = chats.accept_chat(chat.id, target)
    if previous is not None:
        events.record(events.ChatReassigned(chat.id, previous, target.id, target.display_name,
                                            manager.display_name))
    return taken


def _agent(value: object) -> User:
    user = None
    if isinstance(value, str) and not value.strip().isdigit():
        user = db.session.scalars(select(User).where(User.username == value.strip())).first()
    else:
        user = db.session.get(User, clean_id(value, "agent"))
    if user is None or not user.is_enabled:
        raise NotFound("unknown_agent", "No such agent.", "agent")
    return user


def candidates(chat: Chat) -> list[User]:
    """Who may take a chat over: the enabled accounts of its queue's members."""
    ids = {person.id for person in chat.queue.members}
    return [user for user in people.users_of_persons(ids) if user.is_enabled]


def live_chats(limit: int = 100) -> list[Chat]:
    """The open chats, for the managers' lists: live ones first, oldest first."""
    return list(db.session.scalars(
        select(Chat).where(Chat.status.in_(chats.OPEN_STATES))
        .options(*chats._WITH_SUMMARY)
        .order_by(Chat.status, Chat.requested_at, Chat.id).limit(limit)))
