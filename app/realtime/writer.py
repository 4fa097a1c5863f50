"""Group commit of chat messages: the `send` events that arrive together share a transaction.

Each `send` handler hands its draft to the process's writer task and waits for the outcome.
The writer takes everything that is waiting (what arrived while the previous transaction
was committing) and stores it with one `chats.post_messages` call, on a connection it keeps
for itself: one statement that commits by itself on PostgreSQL, one short transaction on
SQLite, for the lot instead of for each message. A lone message is written at once
(no delay is added to wait for company), and every acknowledgement still follows the
commit of its message. The rules stay in `app.desk.chats`; this is only how calls are
grouped.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections import deque
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from app.desk import chats
from app.desk.errors import DeskError, server_error, unavailable
from app.desk.unit_of_work import writing_on
from app.desk.validation import clean_id
from app.extensions import db
from app.realtime.base import origin_sid, session_scope
from app.realtime.rooms import CHAT_NS

log = logging.getLogger(__name__)
MAX_BATCH = 200
WAIT_SECONDS = 30.0
# The writer's own connection is checked with a ping after this many idle seconds (the
# server or a proxy may have dropped it); between busy batches it is used as it is.
IDLE_PING_SECONDS = 30.0

# While the writer publishes a batch: {(chat id, client id): sid of the socket that sent it},
# so that the author's socket (which has the message in its acknowledgement) is skipped.
BATCH_ORIGINS: ContextVar[dict | None] = ContextVar("batch_origins", default=None)


@dataclass
class _Pending:
    app: object
    draft: chats.Draft
    sid: str
    done: object  # an Event of the server's async mode
    outcome: object = field(default=None)
    since: float = field(default_factory=time.monotonic)
    # Called with the outcome once its batch is committed and published (a `submit`);
    # None for a `post`, whose caller waits for `done`.
    then: object = field(default=None)

    def answer(self, outcome) -> None:
        """The outcome, given once: to the waiting caller, or to its `then`."""
        if self.done.is_set():
            return
        self.outcome = outcome
        self.done.set()
        if self.then is not None:
            try:
                self.then(outcome)
            except Exception:  # noqa: BLE001 - the writer must outlive any one answer
                log.exception("answering a chat message failed")


class MessageWriter:
    """One per Socket.IO server (process): the task that writes chat messages.

    On PostgreSQL it keeps up to CHAT_MESSAGE_WRITERS batches in flight, each on a lane with
    a connection of its own: while one batch waits for its commit to reach the disk, the
    next is written. Two batches in flight never share a chat (a draft whose chat is being
    written waits for the next batch), so a chat's messages are stored, numbered and
    published in the order they came, and writers never wait for each other's row locks.
    SQLite has one writer at a time: one lane.
    """

    def __init__(self, server) -> None:
        self._server = server  # socketio.Server: its async mode's tasks and events
        self._pending: deque[_Pending] = deque()
        self._done_event = _one_shot_event_factory(server)
        self._wakeup = server.eio.create_event()
        self._lanes: list[_Lane] = []
        self._in_flight: dict[_Lane, set] = {}  # a busy lane: the chats of its batch
        self._batches: dict[_Lane, list[_Pending]] = {}  # a busy lane: its batch
        server.start_background_task(self._run)
        server.start_background_task(self._watch)

    def post(self, app, draft: chats.Draft, sid: str) -> tuple[dict, bool]:
        """Store the draft with whatever else is waiting; (message, created) or DeskError.

        The caller's database session is ended first: a handler that waited for the writer
        while holding a pooled connection (e.g. the one that loaded the agent) could take
        the last one the writer needs, and both would wait for the pool's time-out.
        """
        db.session.remove()
        item = _Pending(app, draft, sid, self._done_event())
        self._pending.append(item)
        self._wakeup.set()
        # No time-out of its own (a timer per message costs the event loop): the watchdog
        # answers a draft the writer has not answered within WAIT_SECONDS.
        item.done.wait()
        if isinstance(item.outcome, DeskError):
            raise item.outcome
        return item.outcome

    def submit(self, app, draft: chats.Draft, sid: str, then) -> None:
        """Store the draft with whatever else is waiting, without waiting for it: `then` is
        called, in the writer's task and in an application context, with the outcome
        ((message, created) or DeskError) once its batch is committed and published. It
        must not block (no database work: hand that to a task of its own)."""
        self._pending.append(_Pending(app, draft, sid, _Answered(), then=then))
        self._wakeup.set()

    def _watch(self) -> None:
        """Every few seconds: a draft waiting longer than WAIT_SECONDS (its batch stuck, or
        the writer gone) is answered `unavailable` (send again), as a time-out would."""
        while True:
            self._server.sleep(min(5.0, WAIT_SECONDS / 2))
            late = time.monotonic() - WAIT_SECONDS
            waiting = [*self._pending, *(item for batch in tuple(self._batches.values())
                                         for item in batch)]
            overdue = [item for item in waiting if item.since < late and not item.done.is_set()]
            if overdue:
                log.error("message writer did not answer %d messages within %s s",
                          len(overdue), WAIT_SECONDS)
            for item in overdue:
                with item.app.app_context():
                    item.answer(unavailable())
            if overdue:
                self._pending = deque(item for item in self._pending if not item.done.is_set())

    def idle(self) -> bool:
        """Nothing waiting and no batch being written (a graceful stop waits for this)."""
        return not self._pending and not self._in_flight

    def _run(self) -> None:
        while True:
            self._wakeup.wait()
            self._wakeup.clear()
            # Let the handlers that are ready to run (messages already received) queue their
            # drafts first: a bigger batch for the same commit, at no added wait.
            self._server.sleep(0)
            self._server.sleep(0)
            while self._pending:
                lane = self._free_lane(self._pending[0].app)
                batch = self._take_batch() if lane is not None else []
                if not batch:
                    break  # every lane busy, or every waiting chat being written: a lane's
                    # end wakes this loop again
                self._in_flight[lane] = {_chat_key(item.draft) for item in batch}
                self._batches[lane] = batch
                self._server.start_background_task(self._write_on, lane, batch)

    def _free_lane(self, app) -> _Lane | None:
        wanted = _lanes_for(app)
        for lane in self._lanes[:wanted]:
            if lane not in self._in_flight:
                return lane
        if len(self._lanes) < wanted:  # a lane (and its connection) when first needed
            self._lanes.append(_Lane())
            return self._lanes[-1]
        return None

    def _take_batch(self) -> list[_Pending]:
        """Up to MAX_BATCH waiting drafts, in order, but none of a chat being written."""
        writing = set().union(*tuple(self._in_flight.values())) - {None}
        batch: list[_Pending] = []
        later: list[_Pending] = []
        while self._pending and len(batch) < MAX_BATCH:
            item = self._pending.popleft()
            (later if _chat_key(item.draft) in writing else batch).append(item)
        self._pending.extendleft(reversed(later))
        return batch

    def _write_on(self, lane: _Lane, batch: list[_Pending]) -> None:
        try:
            self._write(lane, batch)
        except Exception:  # noqa: BLE001 - the writer must outlive any one batch
            log.exception("message writer failed on %d messages", len(batch))
            with batch[0].app.app_context():
                for item in batch:
                    item.answer(server_error())
        finally:
            del self._in_flight[lane]
            self._batches.pop(lane, None)
            self._wakeup.set()

    def _write(self, lane: _Lane, batch: list[_Pending]) -> None:
        by_app: dict[int, list[_Pending]] = {}
        for item in batch:
            by_app.setdefault(id(item.app), []).append(item)
        for items in by_app.values():
            outcomes = self._outcomes(lane, items)
            with items[0].app.app_context():
                for item, outcome in zip(items, outcomes, strict=True):
                    item.answer(outcome)

    def _outcomes(self, lane: _Lane, items: list[_Pending]) -> list:
        token = None
        try:
            token = BATCH_ORIGINS.set({key: item.sid for item in items
                                       if (key := _key(item.draft)) is not None})
            with items[0].app.app_context(), \
                    session_scope(f"writing {len(items)} chat messages"), \
                    writing_on(lane.connection_for(items[0].app)):
                # The batch is written on the lane's own connection: no pool checkout, and
                # no ping of a pooled connection, per batch.
                return chats.post_messages([item.draft for item in items])
        except SQLAlchemyError:
            lane.drop()  # a new connection for the next batch, if this one broke
            return [unavailable()] * len(items)
        except Exception:  # noqa: BLE001 - the writer must outlive any one batch
            log.exception("error writing %d chat messages", len(items))
            return [server_error()] * len(items)
        finally:
            if token is not None:
                BATCH_ORIGINS.reset(token)


class _Lane:
    """Where one batch at a time is written: the connection it keeps for itself (one per
    app it writes for)."""

    def __init__(self) -> None:
        self.connection = None  # (app, Connection, last used)

    def connection_for(self, app):  # noqa: ANN001
        now = time.monotonic()
        if self.connection is not None:
            owner, connection, used = self.connection
            if owner is not app or connection.closed or connection.invalidated:
                self.drop()
            elif now - used > IDLE_PING_SECONDS:
                try:
                    connection.exec_driver_sql("SELECT 1")
                    connection.rollback()
                except SQLAlchemyError:
                    self.drop()
        if self.connection is None:
            self.connection = (app, _writer_connection(app), now)
        owner, connection, _ = self.connection
        self.connection = (owner, connection, now)
        return connection

    def drop(self) -> None:
        if self.connection is None:
            return
        _, connection, _ = self.connection
        self.connection = None
        try:
            # Discarded, never handed back to the pool: it carries the writer's settings.
            connection.invalidate()
            connection.close()
        except SQLAlchemyError:
            log.warning("the message writer's connection did not close cleanly")


_LANES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # app -> lanes


def _lanes_for(app) -> int:  # noqa: ANN001
    """Batches in flight at once: CHAT_MESSAGE_WRITERS on PostgreSQL, one on SQLite."""
    lanes = _LANES.get(app)
    if lanes is None:
        with app.app_context():
            postgresql = db.engine.dialect.name == "postgresql"
        lanes = _LANES[app] = max(1, int(app.config.get("CHAT_MESSAGE_WRITERS", 2))
                                  ) if postgresql else 1
    return lanes


def _writer_connection(app):  # noqa: ANN001
    """A new connection for the writer. On PostgreSQL its commits wait for the WAL to reach
    the disk (an acknowledged message survives a crash of the database) unless an operator
    sets CHAT_MESSAGE_SYNC_COMMIT=false: that wait (a disk flush, ~2.5 ms here) is most of a
    batch's time, and without it a crash of the database may lose the messages of its last
    ~0.6 s (3 x wal_writer_delay), never more and never corrupted. An app server's crash or
    restart loses nothing either way."""
    connection = db.engine.connect()
    if connection.dialect.name == "postgresql" and not app.config.get(
            "CHAT_MESSAGE_SYNC_COMMIT"):
        connection.exec_driver_sql("SET synchronous_commit TO off")
        connection.commit()
    return connection


class _Answered:
    """The `done` of a submitted draft: nobody waits on it, it only records the answer."""

    __slots__ = ("_set",)

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set


class _EventletDone:
    """A one-shot event on eventlet's own primitive: a third cheaper than its green
    threading.Event (a Condition and a lock), and there is one per message."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        from eventlet.event import Event

        self._event = Event()

    def set(self) -> None:
        if not self._event.ready():
            self._event.send(True)

    def is_set(self) -> bool:
        return self._event.ready()

    def wait(self) -> None:
        self._event.wait()


def _one_shot_event_factory(server):
    if server.async_mode == "eventlet":
        return _EventletDone
    return server.eio.create_event


def _chat_key(draft: chats.Draft) -> int | None:
    try:
        return clean_id(draft.chat_id, "chat_id")
    except DeskError:
        return None  # not a valid draft: the desk refuses it


def _key(draft: chats.Draft) -> tuple | None:
    key = (draft.chat_id, draft.client_id)
    try:
        hash(key)
    except TypeError:
        return None  # not a valid draft: the desk refuses it, nothing is published
    return key


def message_origin(message: dict) -> str | None:
    """The socket that sent this message: it has it in its acknowledgement already."""
    origins = BATCH_ORIGINS.get()
    if origins is None:
        return origin_sid(CHAT_NS)
    return origins.get((message["chat_id"], message["client_id"]))
