"""Namespace /chat: end users (visitor token) and agents (session cookie) in their chats."""

from __future__ import annotations

import logging
import threading
from functools import partial

from flask import current_app, request

from app import wire
from app.desk import (
    availability,
    chat_access,
    chats,
    handover,
    notes,
    people,
    presence,
    supervision,
)
from app.desk.errors import Forbidden, ValidationError
from app.desk.validation import clean_id
from app.models import SenderRole
from app.realtime import publisher
from app.realtime.auth import (
    AGENT,
    VISITOR,
    SocketClient,
    agent_identity,
    load_agent,
    visitor_chat,
)
from app.realtime.base import DeskNamespace, fields, session_scope
from app.realtime.rooms import CHAT_NS, agent_room, chat_room, chat_rooms, watch_room
from app.realtime.writer import MessageWriter

log = logging.getLogger(__name__)

VISITOR_ONLY = Forbidden("forbidden", "Only the end user of a chat can do this.")
AGENT_ONLY = Forbidden("forbidden", "Only an agent can do this.")


def _draft(chat_id: int, sender: chats.Sender, payload: dict) -> chats.Draft:
    return chats.Draft(chat_id, sender, payload.get("body", ""), payload["client_id"],
                       payload.get("attachment_ids"))


def _sent(message: dict, created: bool) -> dict:
    """The acknowledgement of a `send`: the stored message, and whether it was sent before."""
    return {"ok": True, "message": message, "duplicate": not created}


def _raise(exc: Exception):
    raise exc


def _republished(app, message: dict, sid: str, answer) -> None:  # noqa: ANN001
    """A message stored before, sent again: published once more, then acknowledged."""
    with app.app_context(), session_scope("republishing a message"):
        publisher.republish_message(message, sid)
    answer(partial(_sent, message, False))


def _optional_id(value: object, field: str) -> int | None:
    """A message cursor: None or 0 mean "from the start"."""
    if value is None or (type(value) is int and value == 0):
        return None
    return clean_id(value, field)


class ChatNamespace(DeskNamespace):
    events = frozenset({"send", "typing", "close", "history", "transfer", "rate",
                        "request_transcript", "note", "watch", "unwatch", "join",
                        "whisper", "take_over"})
    light_events = frozenset({"send", "typing"})
    # An end user's message is checked without the database and acknowledged by the writer.
    later_events = frozenset({"send"})
    paged_events = frozenset({"history"})

    def __init__(self, node: str) -> None:
        super().__init__(CHAT_NS)
        self.node = node
        self._writer: MessageWriter | None = None
        self._writer_lock = threading.Lock()
        self._lagging: dict[int, int] = {}  # chat id -> seq stored but not seen here yet

    def writer(self) -> MessageWriter:
        """This process's message writer, started with the first message."""
        if self._writer is not None:
            return self._writer
        with self._writer_lock:
            if self._writer is None:
                self._writer = MessageWriter(self.server)
            return self._writer

    def current_writer(self) -> MessageWriter | None:
        """The writer if one was started (a graceful stop waits for it to finish)."""
        return self._writer

    def check_delivery(self) -> None:
        """The periodic check, with a message queue: a chat of this process's sockets whose
        latest stored message (its seq) has not reached this process for a whole pass was
        lost between processes (a publish Redis dropped, a process killed between commit and
        publication): its sockets here are told to `resync`, and fetch what they miss."""
        manager = self.server.manager
        seen = getattr(manager, "seen", None)
        if seen is None:
            return  # one process: its emits reach its sockets directly
        agents = {client.user_id for client in self.local_clients(role=AGENT)}
        watched = {chat_id for client in self.local_clients(role=AGENT)
                   for chat_id in client.watching}  # managers' watched chats
        latest = chats.latest_seqs(sorted(set(self.visitor_chat_ids()) | watched),
                                   sorted(agents))
        seen.keep_only(latest)
        lagging, self._lagging = self._lagging, {}
        for chat_id, (last_seq, agent_id) in latest.items():
            if chat_id not in seen.seqs:  # first look: what it holds now counts
                seen.reached(chat_id, last_seq)
            have = seen.seqs[chat_id]
            if last_seq <= have:
                continue
            previous = lagging.get(chat_id)
            if previous is None or previous <= have:
                self._lagging[chat_id] = last_seq  # in flight, maybe: look again next pass
                continue
            log.warning("chat %s: messages up to seq %s did not reach this process; "
                        "its sockets resynchronise", chat_id, last_seq)
            for room in chat_rooms(chat_id, agent_id):
                manager.emit_here("resync", {"chat_id": chat_id, "reason": "behind"}, CHAT_NS,
                                  room=room)
            seen.reached(chat_id, last_seq)

    def visitor_chat_ids(self) -> list[int]:
        return sorted({c.chat_id for c in self.local_clients(role=VISITOR)})

    # --- connection ----------------------------------------------------------------------

    def on_connect(self, auth=None):
        with self.connecting(request.sid):
            if auth is not None and not isinstance(auth, dict):
                raise ValidationError("invalid", "auth must be an object.")
            auth = auth or {}
            if "visitor_token" in auth:
                self._connect_visitor(auth)
            else:
                self._connect_agent(auth)

    def _connect_visitor(self, auth: dict) -> None:
        unknown = set(auth) - {"visitor_token", "last_message_id"}
        if unknown:
            raise ValidationError("unknown_field", "Unexpected auth field.", sorted(unknown)[0])
        chat = visitor_chat(auth.get("visitor_token"))
        after_id = _optional_id(auth.get("last_message_id"), "last_message_id")
        # The end user's name signs what he sends: remembered here, not read for each message.
        client = SocketClient(request.sid, VISITOR, chat_id=chat.id,
                              name=chat.visitor.display_name,
                              end_user=(chat.visitor.email or f"#{chat.visitor_id}").lower())
        self.socketio.server.enter_room(client.sid, chat_room(chat.id), namespace=CHAT_NS)
        self.register(client)
        if chat.visitor_left_at is not None or chat.visitor_node != self.node:
            presence.visitor_connected(chat.id, self.node)
        self.emit_to("history", publisher.history_payload(chat, after_id, for_agent=False),
                     to=client.sid)
        position = chats.queue_position(chat)
        if position:
            self.emit_to("queue_position", wire.queue_position(
                chat.id, position, chats.agents_online(chat.queue_id),
                availability.agents_available(chat.queue_id)), to=client.sid)

    def _connect_agent(self, auth: dict) -> None:
        unknown = set(auth) - {"last_message_ids"}
        if unknown:
            raise ValidationError("unknown_field", "Unexpected auth field.", sorted(unknown)[0])
        known = auth.get("last_message_ids") or {}
        if not isinstance(known, dict):
            raise ValidationError("invalid", "last_message_ids must map chat ids to message ids.",
                                  "last_message_ids")
        known = {clean_id(key, "last_message_ids"): _optional_id(value, "last_message_ids")
                 for key, value in known.items()}
        user_id, generation = agent_identity()
        client = SocketClient(request.sid, AGENT, user_id=user_id, generation=generation)
        user = load_agent(client)
        self.socketio.server.enter_room(client.sid, agent_room(user.id), namespace=CHAT_NS)
        self.register(client)
        live = chats.active_chats(user)
        cursors = {chat.id: known.get(chat.id) for chat in live}
        pages = chats.history_pages(cursors)
        kept = notes.notes_beside(pages, cursors)
        for chat in live:
            messages, more = pages[chat.id]
            self.emit_to("history", wire.history(chat, messages, for_agent=True, more=more,
                                                 notes=kept[chat.id]), to=client.sid)

    def on_disconnect(self, reason=None):
        client = self.forget(request.sid)
        if client is None or client.role != VISITOR:
            return
        if self.local_clients(role=VISITOR, chat_id=client.chat_id):
            return  # another tab of the same end user is still here
        with session_scope(f"marking the end user of chat {client.chat_id} as gone",
                           reraise=False):
            presence.visitor_left(client.chat_id, self.node)

    def drop_ended_sessions(self) -> None:
        super().drop_ended_sessions()
        self.drop_lost_supervision()

    def drop_lost_supervision(self) -> None:
        """Sweeper: sockets watching chats for a user who is no longer a manager (made an
        agent, on whichever process) stop watching them, and are told."""
        watchers = [c for c in self.local_clients() if c.watching]
        if not watchers:
            return
        managers = people.managers_among({c.user_id for c in watchers})
        for client in watchers:
            if client.user_id in managers:
                continue
            for chat_id in sorted(client.watching):
                self.socketio.server.leave_room(client.sid, watch_room(chat_id),
                                                namespace=CHAT_NS)
            client.watching.clear()
            client.joined.clear()
            self.emit_to("watch_ended", {"reason": "not_a_manager"}, to=client.sid)

    # --- events --------------------------------------------------------------------------

    @fields("chat_id", "client_id", optional=("body", "attachment_ids"))
    def on_send(self, client: SocketClient, payload: dict) -> dict:
        chat_id = clean_id(payload["chat_id"], "chat_id")  # "17" and 17 are the same chat
        if chat_id in client.joined:  # a manager who joined the chat
            message, created = supervision.post_as_supervisor(
                chat_id, load_agent(client), payload.get("body", ""), payload["client_id"])
            if not created:
                publisher.republish_message(message, client.sid)
            return _sent(message, created)
        if client.is_agent:
            sender = chats.Sender.agent(load_agent(client))
        else:
            sender = chat_access.visitor_sender(client.chat_id, chat_id, client.name)
        message, created = self.writer().post(current_app._get_current_object(),
                                             _draft(chat_id, sender, payload), client.sid)
        if not created:
            publisher.republish_message(message, client.sid)
        return _sent(message, created)

    def later_for(self, client: SocketClient) -> bool:
        return not client.is_agent  # an agent's account is read for each of his messages

    def on_send_later(self, client: SocketClient, payload: dict, answer) -> None:
        """An end user's `send`: handed to the writer, which acknowledges it once stored."""
        chat_id = clean_id(payload["chat_id"], "chat_id")
        draft = _draft(chat_id, chat_access.visitor_sender(client.chat_id, chat_id, client.name),
                       payload)
        app = current_app._get_current_object()
        sid = client.sid

        def stored(outcome) -> None:
            if isinstance(outcome, Exception):
                answer(partial(_raise, outcome))
            elif outcome[1]:
                answer(partial(_sent, *outcome))
            else:  # sent before: published again, with a read the writer must not wait for
                self.server.start_background_task(_republished, app, outcome[0], sid, answer)

        self.writer().submit(app, draft, sid, stored)

    @fields("chat_id", "typing")
    def on_typing(self, client: SocketClient, payload: dict) -> dict:
        if not isinstance(payload["typing"], bool):
            raise ValidationError("invalid", "typing must be true or false.", "typing")
        if client.is_agent:
            user = load_agent(client)
            chat_id = clean_id(payload["chat_id"], "chat_id")
            if chat_id in client.joined:
                chat = supervision.watchable_chat(user, chat_id)
            else:
                chat = chat_access.agent_live_chat(user, chat_id)
            role, name = SenderRole.AGENT, user.display_name
        else:
            chat = chat_access.visitor_open_chat(client.chat_id, payload["chat_id"])
            role, name = SenderRole.VISITOR, chat.visitor.display_name
        self.emit_to("typing", {"chat_id": chat.id, "role": role.value, "name": name,
                                "typing": payload["typing"]},
                     to=chat_rooms(chat.id, chat.agent_id), skip_sid=client.sid)
        return {"ok": True}

    @fields("chat_id")
    def on_close(self, client: SocketClient, payload: dict) -> dict:
        if client.is_agent:
            chat = chats.close_chat(payload["chat_id"], by=SenderRole.AGENT,
                                    agent=load_agent(client))
        else:
            chat_access.visitor_chat(client.chat_id, payload["chat_id"])
            chat = chats.close_chat(client.chat_id, by=SenderRole.VISITOR)
        return {"ok": True, "chat_id": chat.id, "status": chat.status.value}

    @fields("chat_id", optional=("after_id", "after_seq"))
    def on_history(self, client: SocketClient, payload: dict) -> dict:
        if client.is_agent:
            chat = chat_access.agent_chat(load_agent(client), payload["chat_id"])
        else:
            chat = chat_access.visitor_chat(client.chat_id, payload["chat_id"])
        if "after_seq" in payload:
            if "after_id" in payload:
                raise ValidationError("invalid", "Give after_id or after_seq, not both.",
                                      "after_seq")
            after_seq = _optional_id(payload["after_seq"], "after_seq")
            return {"ok": True, **publisher.history_payload(
                chat, after_seq, for_agent=client.is_agent, by_seq=True)}
        after_id = _optional_id(payload.get("after_id"), "after_id")
        return {"ok": True, **publisher.history_payload(chat, after_id, for_agent=client.is_agent)}

    @fields("chat_id", optional=("queue", "agent", "note"))
    def on_transfer(self, client: SocketClient, payload: dict) -> dict:
        """To another queue (the chat waits there again) or to another agent of its queue
        (the chat stays live: `agent`, his user id or username)."""
        if not client.is_agent:
            raise AGENT_ONLY
        if ("queue" in payload) == ("agent" in payload):
            raise ValidationError("invalid", "Send either queue or agent.", "queue")
        if "agent" in payload:
            if "note" in payload:
                raise ValidationError("invalid", "A note goes with a transfer to a queue.",
                                      "note")
            chat = handover.hand_over(payload["chat_id"], load_agent(client), payload["agent"])
            return {"ok": True, "chat_id": chat.id,
                    "to_agent": {"id": chat.agent_id, "name": chat.agent.display_name}}
        chat = notes.transfer_with_note(payload["chat_id"], load_agent(client),
                                        payload["queue"], payload.get("note"))
        return {"ok": True, "chat_id": chat.id,
                "to_queue": {"id": chat.queue_id, "name": chat.queue.name}}

    @fields("chat_id", "body", "client_id")
    def on_note(self, client: SocketClient, payload: dict) -> dict:
        """An internal note: the chat's agent and managers see it, the end user never."""
        if not client.is_agent:
            raise AGENT_ONLY
        note = notes.write_note(payload["chat_id"], load_agent(client), payload["body"],
                                payload["client_id"])
        return {"ok": True, "note": note}

    # --- supervision (managers) --------------------------------------------------------

    def _supervisor(self, client: SocketClient):
        if not client.is_agent:
            raise AGENT_ONLY
        user = load_agent(client)
        if not user.is_manager:
            raise Forbidden("forbidden", supervision.NOT_A_MANAGER, "chat_id")
        return user

    @fields("chat_id")
    def on_watch(self, client: SocketClient, payload: dict) -> dict:
        """Follow a chat read-only: its messages, notes and typing; the end user is not told."""
        user = self._supervisor(client)
        chat = supervision.watchable_chat(user, payload["chat_id"])
        self.socketio.server.enter_room(client.sid, watch_room(chat.id), namespace=CHAT_NS)
        client.watching.add(chat.id)
        joined = supervision.is_joined(chat.id, user.id)
        if joined:
            client.joined.add(chat.id)
        return {"ok": True, "joined": joined,
                **publisher.history_payload(chat, for_agent=True)}

    @fields("chat_id")
    def on_unwatch(self, client: SocketClient, payload: dict) -> dict:
        chat_id = clean_id(payload["chat_id"], "chat_id")
        self.socketio.server.leave_room(client.sid, watch_room(chat_id), namespace=CHAT_NS)
        client.watching.discard(chat_id)
        client.joined.discard(chat_id)
        return {"ok": True, "chat_id": chat_id}

    @fields("chat_id")
    def on_join(self, client: SocketClient, payload: dict) -> dict:
        """Join a live chat: the end user is told; the manager then writes with `send`."""
        user = self._supervisor(client)
        chat = supervision.join_chat(payload["chat_id"], user)
        self.socketio.server.enter_room(client.sid, watch_room(chat.id), namespace=CHAT_NS)
        client.watching.add(chat.id)
        client.joined.add(chat.id)
        return {"ok": True, "chat_id": chat.id, "joined": True}

    @fields("chat_id", "body", "client_id")
    def on_whisper(self, client: SocketClient, payload: dict) -> dict:
        note = notes.whisper(payload["chat_id"], self._supervisor(client), payload["body"],
                             payload["client_id"])
        return {"ok": True, "note": note}

    @fields("chat_id", optional=("agent",))
    def on_take_over(self, client: SocketClient, payload: dict) -> dict:
        """Reassign the chat to this manager, or to `agent` (user id or username)."""
        chat = supervision.take_over(payload["chat_id"], self._supervisor(client),
                                     payload.get("agent"))
        return {"ok": True, "chat_id": chat.id, "agent": chat.agent.display_name}

    @fields("chat_id", "rating", optional=("comment",))
    def on_rate(self, client: SocketClient, payload: dict) -> dict:
        if client.is_agent:
            raise VISITOR_ONLY
        chat_access.visitor_chat(client.chat_id, payload["chat_id"])
        chat = chats.rate_chat(client.chat_id, payload["rating"], payload.get("comment"))
        return {"ok": True, "chat_id": chat.id, "rating": chat.rating}

    @fields("chat_id")
    def on_request_transcript(self, client: SocketClient, payload: dict) -> dict:
        if client.is_agent:
            raise VISITOR_ONLY
        chat_access.visitor_chat(client.chat_id, payload["chat_id"])
        chats.request_transcript(client.chat_id)
        return {"ok": True, "chat_id": client.chat_id}
