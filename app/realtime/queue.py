"""Namespace /queue: the agents' queue indicator, their status, offers and the accept race."""

from __future__ import annotations

import logging

from flask import request
from sqlalchemy.exc import SQLAlchemyError

from app import wire
from app.desk import availability, chats, events, presence, routing
from app.desk.errors import DeskError
from app.realtime import publisher
from app.realtime.auth import AGENT, SocketClient, agent_identity, load_agent
from app.realtime.base import DeskNamespace, database_errors, fields, session_scope
from app.realtime.rooms import QUEUE_NS, agent_room, queue_room

log = logging.getLogger(__name__)


class QueueNamespace(DeskNamespace):
    events = frozenset({"accept", "decline", "set_status", "waiting_list"})

    def __init__(self, node: str) -> None:
        super().__init__(QUEUE_NS)
        self.node = node

    def on_connect(self, auth=None):
        with self.connecting(request.sid):
            user_id, generation = agent_identity(allow_unverified=True)
            client = SocketClient(request.sid, AGENT, user_id=user_id, generation=generation)
            self.socketio.server.enter_room(request.sid, agent_room(client.user_id),
                                            namespace=QUEUE_NS)
            self.register(client)
            self.attach(client)

    def attach(self, client: SocketClient) -> None:
        """Presence row, queue rooms and a fresh queue_state; on a database failure the
        socket stays connected, is told the error, and is retried by the sweeper."""
        try:
            with database_errors(f"registering agent socket {client.sid}"):
                user = load_agent(client)
                client.queue_ids = presence.agent_connected(client.sid, user, self.node)
        except SQLAlchemyError:
            if not client.state_error:
                client.state_error = True
                self.emit_to("queue_state", wire.queue_state_error(), to=client.sid)
            return
        for queue_id in client.queue_ids:
            self.socketio.server.enter_room(client.sid, queue_room(queue_id), namespace=QUEUE_NS)
        state = publisher.queue_state_for(client.user_id)
        was_error, client.state_error = client.state_error, "error" in state
        if not (was_error and client.state_error):  # an unchanged error is not repeated
            self.emit_to("queue_state", state, to=client.sid)

    def present_again(self) -> None:
        """This process was declared dead while it was alive (frozen for too long): its
        consoles count as online again."""
        with events.batched():
            for client in self.local_clients():
                try:
                    with session_scope(f"registering agent socket {client.sid} again"):
                        presence.agent_connected(client.sid, load_agent(client), self.node)
                except DeskError:  # his session ended meanwhile: the sweeper drops it
                    pass

    def report_outage(self, message: str | None = None) -> None:
        """The database or the message queue is gone: every indicator here shows an error
        (once), and the sweeper retries them until a normal queue_state can be sent."""
        for client in self.local_clients(state_error=False):
            client.state_error = True
            self.emit_to("queue_state", wire.queue_state_error(message), to=client.sid)

    def retry_failed(self) -> None:
        """Sweeper: sockets whose last queue_state was an error get another try."""
        for client in self.local_clients(state_error=True):
            if client.sid not in self.clients:
                continue
            try:
                with session_scope(f"retrying agent socket {client.sid}"):
                    self.attach(client)
            except DeskError:  # the account was disabled meanwhile
                self.socketio.server.disconnect(client.sid, namespace=QUEUE_NS)

    def on_disconnect(self, reason=None):
        client = self.forget(request.sid)
        if client is None:
            return
        with session_scope(f"removing the presence of {client.sid}", reraise=False):
            presence.agent_disconnected(client.sid)

    @fields("chat_id")
    def on_accept(self, client: SocketClient, payload: dict) -> dict:
        chat = chats.accept_chat(payload["chat_id"], load_agent(client))
        return {"ok": True, "chat": wire.chat_summary(chat)}

    @fields("chat_id")
    def on_decline(self, client: SocketClient, payload: dict) -> dict:
        routing.decline_offer(payload["chat_id"], load_agent(client))
        return {"ok": True}

    @fields("status")
    def on_set_status(self, client: SocketClient, payload: dict) -> dict:
        user = availability.set_status(load_agent(client), payload["status"])
        return {"ok": True, "status": user.status}

    @fields()
    def on_waiting_list(self, client: SocketClient, payload: dict) -> dict:
        return {"ok": True,
                "chats": [wire.chat_summary(c) for c in chats.waiting_chats(load_agent(client))]}
