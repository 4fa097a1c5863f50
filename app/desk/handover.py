"""Hand a live chat to another agent of its queue (the chat stays live; the SR follows).

The receiving agent must be an agent of the chat's queue, online and not away, and have a
free seat: the same capacity rule as accept (`availability.claim_seat`), so a hand-over to
an agent who is full is refused with `at_capacity`. (A manager's take-over is
`supervision.take_over`, which goes through `accept_chat` and so the same rule.)
"""

from __future__ import annotations

from sqlalchemy import select, update

from app import wire
from app.desk import availability, events, people, report_rollup
from app.desk.errors import Conflict, Forbidden, NotFound, ValidationError
from app.desk.unit_of_work import use_case
from app.extensions import db
from app.models import AgentStatus, Chat, ChatMessage, ChatStatus, SenderRole, User, utcnow


def find_agent(value: object) -> User:
    """The receiving agent by user id or username."""
    user = None
    if isinstance(value, int) and not isinstance(value, bool):
        user = db.session.get(User, value)
    elif isinstance(value, str) and value.strip():
        user = db.session.scalars(select(User).where(User.username == value.strip())).first()
    if user is None or not user.is_enabled:
        raise NotFound("unknown_agent", "No such agent.", "agent")
    return user


def candidates(chat_id: object, agent: User) -> list[dict]:
    """Whom the chat's agent can hand his live chat to now: the other available agents of
    its queue with a free seat (hand_over checks the same again when he chooses)."""
    from app.desk.chats import get_chat

    chat = get_chat(chat_id)
    _check_handing(chat, agent, by_manager=False)
    return [row for row in availability.available_in_queue(chat.queue_id)
            if row["id"] != chat.agent_id]


def _check_handing(chat: Chat, agent: User, *, by_manager: bool) -> None:
    if chat.status != ChatStatus.ACTIVE or (chat.agent_id != agent.id and not by_manager):
        raise Forbidden("not_yours", "Only the agent of a live chat can hand it over.",
                        "chat_id")


@use_case
def hand_over(chat_id: object, agent: User, to_agent: object, *,
              by_manager: bool = False) -> Chat:
    """`agent` (the chat's agent, or a manager with `by_manager`) hands the live chat to
    `to_agent`, who must be able to take it now."""
    from app.desk.chats import get_chat, take_seqs

    chat = get_chat(chat_id)
    _check_handing(chat, agent, by_manager=by_manager)
    target = find_agent(to_agent)
    if target.id == chat.agent_id:
        raise ValidationError("same_agent", "The chat is already with this agent.", "agent")
    if not people.is_queue_member(target, chat.queue_id):
        raise Forbidden("not_your_queue", f"{target.display_name} is not an agent of "
                        f"{chat.queue.name}.", "agent")
    if availability.shown_status(target) != AgentStatus.AVAILABLE.value:
        raise Conflict("not_available", f"{target.display_name} is not available right now.",
                       "agent")
    availability.claim_seat(target)
    previous = db.session.get(User, chat.agent_id)
    now = utcnow()
    moved = db.session.execute(
        update(Chat).where(Chat.id == chat.id, Chat.status == ChatStatus.ACTIVE,
                           Chat.agent_id == previous.id)
        .values(agent_id=target.id, last_activity_at=now)
        .execution_options(synchronize_session=False)).rowcount == 1
    if not moved:
        raise Conflict("closed", "This chat is no longer live.", "chat_id")
    report_rollup.touch(chat.id)
    db.session.refresh(chat)
    chat.service_request.owner_id = target.person_id
    chat.service_request.changed_by = agent
    note = ChatMessage(chat=chat, sender_role=SenderRole.SYSTEM, sender_name="Service Desk",
                       body=f"{previous.display_name} handed the chat to "
                            f"{target.display_name}.",
                       notice={"kind": "handed_over", "agent": previous.display_name,
                               "to": target.display_name},
                       client_id=f"handover-{int(now.timestamp() * 1000)}", sent_at=now,
                       seq=take_seqs(chat.id, 1))
    db.session.add(note)
    db.session.flush()
    events.record(
        events.ChatTransferred(chat.id, chat.queue_id, chat.queue_id, previous.id),
        events.MessagePosted(chat.id, wire.message_of(note), agent_id=previous.id),
        events.ChatAccepted(chat.id, chat.queue_id, target.id, target.display_name),
        events.ServiceRequestChanged(chat.service_request.id, chat.service_request.number),
        events.PresenceChanged(tuple(people.agent_queue_ids(previous)), (previous.id,)),
        events.PresenceChanged(tuple(people.agent_queue_ids(target)), (target.id,)))
    return chat
