"""From desk events to Socket.IO: the one place that tells clients what changed.

The service layer's use cases record events; once their transaction has committed, the
events reach `on_desk_events` (whether the change came from a socket handler, an HTTP view,
the admin, a background job or the CLI), which turns them into emits. Every emit goes to a
room, so with a message queue (Redis) it reaches clients on every server process.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from app import wire
from app.desk import availability, chats, events, notes, people, presence
from app.extensions import db, socketio
from app.models import Chat, PersonGroup, User
from app.realtime.base import database_errors, origin_sid
from app.realtime.rooms import (
    CHAT_NS,
    QUEUE_NS,
    agent_room,
    chat_rooms,
    queue_room,
    staff_rooms,
)
from app.realtime.writer import message_origin

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    events.subscribe(app, on_desk_events)


# --- what the namespaces send on connect -------------------------------------------------

def queue_state_for(user_id: int) -> dict:
    """An agent's queue_state; on a database failure the same shape with an `error` field."""
    try:
        with database_errors(f"queue_state of user {user_id}"):
            user = db.session.get(User, user_id)
            if user is not None:
                return chats.queue_state(user)
        log.error("queue_state: no user %s", user_id)
    except SQLAlchemyError:
        pass
    return wire.queue_state_error()


def history_payload(chat: Chat, after: int | None = None, *, for_agent: bool,
                    by_seq: bool = False) -> dict:
    """One page of a chat's messages after a message id (or seq) (`more`: the client asks
    for the next); an agent's (or manager's) carries the internal notes written among them."""
    messages, more = chats.history_page(chat.id, after, by_seq=by_seq)
    kept = notes.notes_beside({chat.id: (messages, more)}, {chat.id: after},
                              by_seq=by_seq)[chat.id] if for_agent else None
    return wire.history(chat, messages, for_agent=for_agent, more=more, notes=kept)


# --- fan-out -----------------------------------------------------------------------------

class _Refresh:
    """The queues whose positions and agents' states a list of events changed, sent once."""

    def __init__(self) -> None:
        self.positions: set[int] = set()
        self.states: set[int] = set()
        self.agents: set[int] = set()  # agents told their state even if in no queue above

    def send(self) -> None:
        for queue_id in sorted(self.positions):
            send_positions(queue_id)
        if self.states or self.agents:
            send_states(sorted(self.states), sorted(self.agents))


# While a list of desk events is published: the refresh they add up to.
_REFRESH: ContextVar[_Refresh | None] = ContextVar("queue_refresh", default=None)


def refresh_queues(queue_ids) -> None:
    """Counts changed in these queues: new positions to the waiting, new state to agents.

    While a list of events is being published, once for all of them at its end.
    """
    pending = _REFRESH.get()
    if pending is not None:
        pending.positions.update(queue_ids)
        pending.states.update(queue_ids)
        return
    refresh = _Refresh()
    refresh.positions.update(queue_ids)
    refresh.states.update(queue_ids)
    refresh.send()


def _refresh_states(queue_ids) -> None:
    pending = _REFRESH.get()
    if pending is not None:
        pending.states.update(queue_ids)
    else:
        send_states(queue_ids)


def send_positions(queue_id: int, only_chat: int | None = None) -> None:
    online = chats.agents_online(queue_id)
    available = availability.agents_available(queue_id)
    for chat_id, position in chats.waiting_positions(queue_id):
        if only_chat is None or chat_id == only_chat:
            socketio.emit("queue_position",
                          wire.queue_position(chat_id, position, online, available),
                          namespace=CHAT_NS, to=chat_rooms(chat_id, None))


def send_states(queue_ids, user_ids=()) -> None:
    users = {user.id: user for queue_id in queue_ids
             for user in presence.online_agents(queue_id)}
    for user_id in user_ids:
        if user_id not in users:
            user = db.session.get(User, user_id)
            if user is not None:
                users[user_id] = user
    states = queue_states_for(list(users.values()))
    for user_id in sorted(users):
        socketio.emit("queue_state", states[user_id], namespace=QUEUE_NS,
                      to=agent_room(user_id))


def queue_states_for(users: list[User]) -> dict[int, dict]:
    """queue_state of many agents in three queries (not three per agent); errors as above."""
    try:
        with database_errors(f"queue_state of {len(users)} agents"):
            return chats.queue_states(users)
    except SQLAlchemyError:
        return {user.id: wire.queue_state_error() for user in users}


def _emit_chat(event: str, data: dict, chat_id: int, agent_id: int | None) -> None:
    socketio.emit(event, data, namespace=CHAT_NS, to=chat_rooms(chat_id, agent_id))


# --- event handlers ----------------------------------------------------------------------

def on_desk_events(batch: list[object]) -> None:
    """Emit what these events changed; queue figures once for the whole list."""
    refresh = _Refresh()
    token = _REFRESH.set(refresh)
    try:
        for event in batch:
            handler = _HANDLERS.get(type(event))
            if handler is None:
                continue
            try:
                handler(event)
            except Exception:  # noqa: BLE001 - one event's failure must not hide the others
                log.exception("publishing %r failed", event)
    finally:
        _REFRESH.reset(token)
    refresh.send()


def _chat_waiting(event: events.ChatWaiting) -> None:
    chat = db.session.get(Chat, event.chat_id)
    socketio.emit("chat_waiting", wire.chat_summary(chat), namespace=QUEUE_NS,
                  to=queue_room(event.queue_id))
    # Joining at the end of the line moves nobody else.
    send_positions(event.queue_id, only_chat=event.chat_id)
    _refresh_states([event.queue_id])


def _chat_accepted(event: events.ChatAccepted) -> None:
    chat = db.session.get(Chat, event.chat_id)
    socketio.emit("chat_taken", {"chat_id": event.chat_id, "queue_id": event.queue_id,
                                 "agent": event.agent_name},
                  namespace=QUEUE_NS, to=queue_room(event.queue_id),
                  skip_sid=origin_sid(QUEUE_NS))
    _emit_chat("agent_joined", {"chat_id": event.chat_id, "agent": event.agent_name},
               event.chat_id, event.agent_id)
    # The agent's chat window (on whichever process) opens the chat with its history.
    socketio.emit("history", history_payload(chat, for_agent=True), namespace=CHAT_NS,
                  to=agent_room(event.agent_id))
    refresh_queues([event.queue_id])


def _chat_left_queue(event: events.ChatLeftQueue) -> None:
    socketio.emit("chat_left", {"chat_id": event.chat_id, "queue_id": event.queue_id,
                                "reason": event.reason},
                  namespace=QUEUE_NS, to=queue_room(event.queue_id))
    refresh_queues([event.queue_id])


def _message_posted(event: events.MessagePosted) -> None:
    # The author's socket has the message in its acknowledgement already; a system note
    # (e.g. of a transfer) has no author socket and goes to everyone.
    authored = event.message["sender"]["role"] != "SYSTEM"
    socketio.emit("message", event.message, namespace=CHAT_NS,
                  to=chat_rooms(event.chat_id, event.agent_id),
                  skip_sid=message_origin(event.message) if authored else None)


def _note_written(event: events.NoteWritten) -> None:
    # Never to the chat's room: the end user's sockets are there.
    socketio.emit("note", event.note, namespace=CHAT_NS,
                  to=staff_rooms(event.chat_id, event.agent_id), skip_sid=origin_sid(CHAT_NS))


def _supervisor_joined(event: events.SupervisorJoined) -> None:
    _emit_chat("supervisor_joined", {"chat_id": event.chat_id, "name": event.name},
               event.chat_id, event.agent_id)


def _chat_reassigned(event: events.ChatReassigned) -> None:
    socketio.emit("chat_reassigned", {"chat_id": event.chat_id, "agent": event.to_agent_name,
                                      "by": event.by_name},
                  namespace=CHAT_NS, to=staff_rooms(event.chat_id, event.from_agent_id))


def republish_message(message: dict, skip_sid: str | None) -> None:
    """A message stored before and sent again (a client's retry after a reconnection) goes
    out once more: the process that stored it may have died between its commit and its
    publication, and participants de-duplicate by id and seq."""
    try:
        with database_errors(f"republishing message {message['id']}"):
            agent_id = db.session.scalar(
                db.select(Chat.agent_id).where(Chat.id == message["chat_id"]))
    except SQLAlchemyError:
        return  # the retry is acknowledged all the same; the periodic check catches up
    socketio.emit("message", message, namespace=CHAT_NS,
                  to=chat_rooms(message["chat_id"], agent_id), skip_sid=skip_sid)


def _chat_closed(event: events.ChatClosed) -> None:
    agent_id = db.session.scalar(db.select(Chat.agent_id).where(Chat.id == event.chat_id))
    _emit_chat("chat_closed", {"chat_id": event.chat_id, "closed_by": event.closed_by,
                               "reason": event.reason}, event.chat_id, agent_id)


def _chat_transferred(event: events.ChatTransferred) -> None:
    queue = db.session.get(PersonGroup, event.to_queue_id)
    data = {"chat_id": event.chat_id, "to_queue": {"id": queue.id, "name": queue.name}}
    if event.from_queue_id == event.to_queue_id:
        # Handed to another agent of its queue: the chat stays live, and its end user is
        # told who joined (agent_joined), never that it waits again.
        socketio.emit("chat_transferred", data, namespace=CHAT_NS,
                      to=staff_rooms(event.chat_id, event.agent_id))
        return
    _emit_chat("chat_transferred", data, event.chat_id, event.agent_id)


def _sessions_ended(event: events.SessionsEnded) -> None:
    """Logout, password change or disabling: the user's consoles are told, his personal
    rooms emptied and his /queue sockets (known by presence) disconnected, on every process.
    Any socket of his left over is refused on its next event and dropped by the sweeper."""
    room = agent_room(event.user_id)
    for namespace in (QUEUE_NS, CHAT_NS):
        socketio.emit("session_ended", {"reason": event.reason}, namespace=namespace, to=room)
        socketio.close_room(room, namespace=namespace)
    sids = presence.agent_sids(event.user_id)
    if sids:
        # In a task of its own: a socket of this process runs its disconnect handler (and its
        # own database session) there, not inside the change that ended the sessions.
        socketio.start_background_task(_disconnect_all, sids, QUEUE_NS)


def _disconnect_all(sids: list[str], namespace: str) -> None:
    for sid in sids:
        socketio.server.disconnect(sid, namespace=namespace)


def _membership_changed(event: events.MembershipChanged) -> None:
    """Agents added to or removed from chat queues: their /queue sockets join or leave those
    queues' rooms at once, on every process, and get their new queue_state."""
    for user in people.users_of_persons(event.person_ids):
        mine = set(people.agent_queue_ids(user))
        for sid in presence.agent_sids(user.id):
            for group_id in event.group_ids:
                if group_id in mine:
                    socketio.server.enter_room(sid, queue_room(group_id), namespace=QUEUE_NS)
                else:
                    socketio.server.leave_room(sid, queue_room(group_id), namespace=QUEUE_NS)
        socketio.emit("queue_state", queue_state_for(user.id), namespace=QUEUE_NS,
                      to=agent_room(user.id))
    refresh_queues(event.group_ids)


def _presence_changed(event: events.PresenceChanged) -> None:
    refresh_queues(event.queue_ids)
    # An agent in none of the queues (or whose queues have nobody else) still sees his own
    # status and seats change.
    pending = _REFRESH.get()
    if pending is not None:
        pending.agents.update(event.user_ids)


def _chat_offered(event: events.ChatOffered) -> None:
    chat = db.session.get(Chat, event.chat_id)
    socketio.emit("chat_offered", wire.chat_offered(chat, event.expires_in), namespace=QUEUE_NS,
                  to=agent_room(event.user_id))


def _offer_ended(event: events.OfferEnded) -> None:
    socketio.emit("offer_ended", {"chat_id": event.chat_id, "outcome": event.outcome},
                  namespace=QUEUE_NS, to=agent_room(event.user_id))


def _agent_status_changed(event: events.AgentStatusChanged) -> None:
    socketio.emit("agent_status", wire.agent_status(event.status, event.since, event.reason),
                  namespace=QUEUE_NS, to=agent_room(event.user_id))


_HANDLERS = {
    events.ChatWaiting: _chat_waiting,
    events.ChatAccepted: _chat_accepted,
    events.ChatLeftQueue: _chat_left_queue,
    events.MessagePosted: _message_posted,
    events.NoteWritten: _note_written,
    events.SupervisorJoined: _supervisor_joined,
    events.ChatReassigned: _chat_reassigned,
    events.ChatClosed: _chat_closed,
    events.ChatTransferred: _chat_transferred,
    events.SessionsEnded: _sessions_ended,
    events.MembershipChanged: _membership_changed,
    events.PresenceChanged: _presence_changed,
    events.ChatOffered: _chat_offered,
    events.OfferEnded: _offer_ended,
    events.AgentStatusChanged: _agent_status_changed,
}
