"""The shared shape of the Socket.IO namespaces: one dispatcher for every client event.

It checks the socket, its flood budget, the event name and the payload's shape, calls the
handler, maps DeskError to the error acknowledgement in ONE place, and always ends the
database session so no transaction outlives an event (`session_scope`, which connections,
disconnections and background jobs use too).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial

from flask_socketio import Namespace
from socketio import packet as sio_packet
from sqlalchemy.exc import SQLAlchemyError

from app import metrics
from app.desk import sessions
from app.desk.errors import DeskError, server_error, unavailable
from app.extensions import db
from app.json_depth import TOO_DEEP
from app.realtime.auth import (
    SocketClient,
    event_budget_settings,
    history_budget_settings,
    refuse,
)
from app.realtime.ratelimit import SharedBudgets

log = logging.getLogger(__name__)


@contextmanager
def database_errors(what: str, *, reraise: bool = True) -> Iterator[None]:
    """A database error in this work is logged and rolled back, then raised again (or, with
    `reraise=False`, swallowed: the caller carries on without that work)."""
    try:
        yield
    except SQLAlchemyError:
        log.exception("database error: %s", what)
        db.session.rollback()
        if reraise:
            raise


@contextmanager
def session_scope(what: str, *, reraise: bool = True) -> Iterator[None]:
    """The database work of one socket event, connection or background job: errors as in
    `database_errors`, and the session always ends with it."""
    try:
        with database_errors(what, reraise=reraise):
            yield
    finally:
        db.session.remove()


# The socket whose event is being handled, as (namespace, sid): the publisher skips it for
# changes the event caused, since its acknowledgement carries them already.
ORIGIN: ContextVar[tuple[str, str] | None] = ContextVar("socket_origin", default=None)


def origin_sid(namespace: str) -> str | None:
    origin = ORIGIN.get()
    return origin[1] if origin is not None and origin[0] == namespace else None


def error(code: str, message: str, field: str | None = None) -> dict:
    return DeskError(code, message, field).to_dict()


class Payload(dict):
    """A client payload checked against the fields an event accepts."""

    @classmethod
    def check(cls, data: dict, required: tuple[str, ...], optional: tuple[str, ...] = ()
              ) -> Payload:
        for name in data:
            if name not in required and name not in optional:
                raise DeskError("unknown_field", f"Unexpected field {name!r}.", str(name)[:64])
        for name in required:
            if name not in data:
                raise DeskError("required", f"{name} is required.", name)
        return cls(data)


def fields(*required: str, optional: tuple[str, ...] = ()):
    """Declare the payload fields of an event handler: `@fields("chat_id", "body")`."""

    def decorate(handler):
        handler.payload_fields = (required, optional)
        return handler

    return decorate


class DeskNamespace(Namespace):
    """Class-based namespace whose client events are `on_<event>(client, payload)` methods."""

    events: frozenset[str] = frozenset()
    # Events handled in an application context only, without Flask-SocketIO's per-event
    # request context (a Request object and the copied cookie session): the busiest events,
    # whose handlers use neither `request`, `session` nor `url_for`.
    light_events: frozenset[str] = frozenset()
    # Events whose answer comes later from elsewhere, handled without a green thread of
    # their own (see `answer_later`); each has an `on_<event>_later` handler.
    later_events: frozenset[str] = frozenset()
    # Events paid from the history budget rather than the event budget: pages a client asks
    # for one after the other to catch up.
    paged_events: frozenset[str] = frozenset()
    # Set when the process stops gracefully: new connections are refused (they go elsewhere).
    stopping = False

    def __init__(self, namespace: str) -> None:
        super().__init__(namespace)
        self.clients: dict[str, SocketClient] = {}
        self.budgets = SharedBudgets()
        self.history_budgets = SharedBudgets()

    # --- dispatch ------------------------------------------------------------------------

    def trigger_event(self, event, *args):
        sid, *data = args
        if event in ("connect", "disconnect") and not self.server.manager.is_connected(
                sid, self.namespace):
            # The server's own life-cycle call (a connected socket's "connect" event is just
            # an unknown client event).
            return self._life_cycle(event, *args)
        token = ORIGIN.set((self.namespace, sid))
        try:
            if event in self.light_events:
                environ = self.server.get_environ(sid, namespace=self.namespace)
                if not environ:
                    return None
                with environ["flask.app"].app_context():
                    return self._dispatch(sid, event, *data)
            return self.socketio._handle_event(partial(self._dispatch, sid, event), event,
                                               self.namespace, sid, *data)
        finally:
            ORIGIN.reset(token)

    def _life_cycle(self, event: str, sid: str, *args):
        """connect/disconnect, counted and logged once the socket is (no longer) ours."""
        before = self.clients.get(sid)
        try:
            return super().trigger_event(event, sid, *args)
        finally:
            after = self.clients.get(sid)
            if event == "connect" and before is None and after is not None:
                metrics.socket_connected(self.namespace, after.role)
                environ = self.server.get_environ(sid, namespace=self.namespace) or {}
                log.info("%s connect %s", self.namespace, after.role,
                         extra={"kind": "socket", "event": "connect", "sid": sid,
                                "namespace": self.namespace, "chat_id": after.chat_id,
                                "remote_addr": environ.get("REMOTE_ADDR")})
            elif event == "disconnect" and before is not None and after is None:
                metrics.socket_disconnected(self.namespace, before.role)
                log.info("%s disconnect %s", self.namespace, before.role,
                         extra={"kind": "socket", "event": "disconnect", "sid": sid,
                                "namespace": self.namespace, "chat_id": before.chat_id})

    def _dispatch(self, sid: str, event: str, *data) -> dict:
        """Handle one client event; counted, timed and logged in one line."""
        started = time.perf_counter()
        result = self._handle(sid, event, *data)
        self._answered(sid, event, data, result, started)
        return result

    def _answered(self, sid: str, event: str, data: tuple, result: dict, started: float
                  ) -> None:
        """An event's answer, counted, timed and logged in one line."""
        seconds = time.perf_counter() - started
        name = event if event in self.events else "unknown"
        ok = isinstance(result, dict) and result.get("ok")
        outcome = "ok" if ok else str(result.get("error") if isinstance(result, dict) else None)
        metrics.socket_event(self.namespace, name, outcome, seconds)
        # A stored message has its own line (the desk's MessagePosted): a successful send or
        # typing is only worth one when debugging.
        level = logging.DEBUG if outcome == "ok" and name in self.light_events else logging.INFO
        if not log.isEnabledFor(level):
            return
        client = self.clients.get(sid)
        chat_id = data[0].get("chat_id") if data and isinstance(data[0], dict) else None
        log.log(level, "%s %s %s %.1fms", self.namespace, name, outcome, seconds * 1000,
                extra={"kind": "socket", "event": name, "namespace": self.namespace, "sid": sid,
                       "outcome": outcome, "duration_ms": round(seconds * 1000, 2),
                       "chat_id": chat_id if type(chat_id) is int else (
                           client.chat_id if client else None)})

    def _handle(self, sid: str, event: str, *data, answer=None) -> dict | None:
        try:
            with session_scope(f"{self.namespace} {event}"):
                return self._run(sid, event, *data, answer=answer)
        except DeskError as exc:
            return exc.to_dict()
        except SQLAlchemyError:
            return unavailable().to_dict()
        except Exception:
            log.exception("error in %s %s", self.namespace, event)
            return server_error().to_dict()

    def _run(self, sid: str, event: str, *data, answer=None) -> dict | None:
        client = self.clients.get(sid)
        if client is None:
            if self.stopping:
                # Its connection is being closed by a graceful stop (an event can still be
                # answered on a long-polling transport): not a refusal, send it again once
                # reconnected, as when the database is down.
                return error("unavailable", "This server is stopping; send again once "
                                            "reconnected.")
            return error("not_connected", "This socket is not connected.")
        budget = client.history_budget if event in self.paged_events else client.budget
        if not budget.take():
            return error("rate_limited", "Too many events; slow down and retry in a moment.")
        if event not in self.events:
            return error("unknown_event", f"Unknown event {str(event)[:64]!r}.")
        if TOO_DEEP in data:
            return error("invalid", "The payload is nested too deeply.")
        if len(data) > 1 or (data and not isinstance(data[0], dict)):
            return error("invalid", "The payload must be one JSON object.")
        handler = getattr(self, f"on_{event}")
        required, optional = getattr(handler, "payload_fields", ((), ()))
        payload = Payload.check(data[0] if data else {}, required, optional)
        if answer is not None:
            return getattr(self, f"on_{event}_later")(client, payload, answer)
        return handler(client, payload)

    # --- events answered later, without a green thread each ---------------------------

    def answer_later(self, sid: str, eio_sid: str, ack_id: int | None, data: list) -> bool:
        """Handle a `later_events` event in the socket's own reader, without the green thread
        (and the wait) an event otherwise takes: its checks run here, then its handler
        `on_<event>_later(client, payload, answer)` returns the answer at once, or returns
        None and hands `answer` a function that builds it once its work is done elsewhere
        (the message writer: the acknowledgement follows the commit, as before). False when
        this socket's event takes the usual way (`later_for` says which)."""
        client = self.clients.get(sid)
        event, *args = data
        if client is None or not self.later_for(client):
            return False
        environ = self.server.get_environ(sid, namespace=self.namespace)
        if not environ:
            return False
        started = time.perf_counter()
        server = self.server

        def reply(result: dict) -> None:
            self._answered(sid, event, args, result, started)
            if ack_id is not None:
                server._send_packet(eio_sid, server.packet_class(  # noqa: SLF001
                    sio_packet.ACK, namespace=self.namespace, id=ack_id, data=[result]))

        def answer(build) -> None:
            try:
                result = build()
            except DeskError as exc:
                result = exc.to_dict()
            except Exception:
                log.exception("error in %s %s", self.namespace, event)
                result = server_error().to_dict()
            reply(result)

        token = ORIGIN.set((self.namespace, sid))
        try:
            with environ["flask.app"].app_context():
                result = self._handle(sid, event, *args, answer=answer)
        finally:
            ORIGIN.reset(token)
        if result is not None:
            reply(result)
        return True

    def later_for(self, client: SocketClient) -> bool:
        """Whether this socket's `later_events` are answered later (see `answer_later`)."""
        return False

    # --- connections ---------------------------------------------------------------------

    @contextmanager
    def connecting(self, sid: str) -> Iterator[None]:
        """The work of a connect handler: its database session ends with it, and any failure
        forgets the socket and refuses the connection (a DeskError with its own code, a
        database error as `unavailable`)."""
        try:
            if self.stopping:
                raise unavailable()
            with session_scope(f"{self.namespace} connect"):
                yield
        except DeskError as exc:
            self.forget(sid)
            raise refuse(exc) from None
        except SQLAlchemyError:
            self.forget(sid)
            raise refuse(unavailable()) from None
        except BaseException:
            self.forget(sid)
            raise

    # --- the sockets of this process ---------------------------------------------------

    def register(self, client: SocketClient) -> None:
        """A connected socket: kept, with its event and history budgets (each shared per chat,
        end user, agent)."""
        self.forget(client.sid)
        client.budget = self.budgets.budget(*event_budget_settings(), client.budget_keys())
        client.history_budget = self.history_budgets.budget(*history_budget_settings(),
                                                            client.budget_keys())
        self.clients[client.sid] = client

    def forget(self, sid: str) -> SocketClient | None:
        """A socket gone (or refused): dropped, and its share of the budgets released."""
        client = self.clients.pop(sid, None)
        if client is not None:
            self.budgets.release(client.budget)
            self.history_budgets.release(client.history_budget)
        return client

    def drop_ended_sessions(self) -> None:
        """Sweeper: agent sockets whose sessions ended meanwhile (logout, password, disabled,
        on whichever process) are disconnected; the publisher already emptied their rooms."""
        agents = [client for client in self.local_clients() if client.is_agent]
        if not agents:
            return
        current = sessions.current_generations({client.user_id for client in agents})
        for client in agents:
            if current.get(client.user_id) != client.generation and client.sid in self.clients:
                self.socketio.server.disconnect(client.sid, namespace=self.namespace)

    # --- helpers -------------------------------------------------------------------------

    def emit_to(self, event: str, data: dict, to, skip_sid=None) -> None:
        self.socketio.emit(event, data, namespace=self.namespace, to=to, skip_sid=skip_sid)

    def local_clients(self, **match) -> list[SocketClient]:
        return [c for c in list(self.clients.values())
                if all(getattr(c, key) == value for key, value in match.items())]


def answer_events_later(server) -> None:
    """Route the `later_events` of this Socket.IO server's desk namespaces to `answer_later`.

    python-socketio runs every client event in a green thread of its own (async_handlers),
    where a `send` then waits for the message writer: a spawn, a wait and two switches per
    message, a tenth of the server's time on a busy desk. Those events are handled where they
    are read instead, and answered by whoever finishes their work. Where events are handled
    one by one (Flask-SocketIO's test client sets async_handlers off and expects each
    event's answer before the next), everything takes the usual way.
    """
    usual = server._handle_event  # noqa: SLF001

    def handle_event(eio_sid, namespace, id, data):  # noqa: A002 - python-socketio's name
        handler = server.namespace_handlers.get(namespace or "/")
        if server.async_handlers and isinstance(handler, DeskNamespace) and data and \
                type(data[0]) is str and data[0] in handler.later_events:
            sid = server.manager.sid_from_eio_sid(eio_sid, handler.namespace)
            if sid is not None and server.manager.is_connected(sid, handler.namespace) and \
                    handler.answer_later(sid, eio_sid, id, data):
                return None
        return usual(eio_sid, namespace, id, data)

    server._handle_event = handle_event  # noqa: SLF001
