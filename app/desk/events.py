"""What happened in the desk, told to whoever listens once the change is committed.

The service layer records events inside a use case's transaction (`record`); the session
holds them until the commit and drops them on rollback (see `unit_of_work`). Listeners are
registered per application (`subscribe(app, fn)`): the realtime adapter turns events into
Socket.IO emits, so admin edits, HTTP calls, CLI commands and socket calls notify clients
the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatWaiting:
    """A chat entered a queue (new request or transfer)."""

    chat_id: int
    queue_id: int


@dataclass(frozen=True)
class ChatAccepted:
    chat_id: int
    queue_id: int
    agent_id: int
    agent_name: str


@dataclass(frozen=True)
class ChatLeftQueue:
    """A waiting chat left its queue without being accepted (abandoned, closed, transferred)."""

    chat_id: int
    queue_id: int
    reason: str


@dataclass(frozen=True)
class MessagePosted:
    chat_id: int
    message: dict = field(hash=False)
    # The chat's agent as the posting transaction saw it (None: not accepted yet), so the
    # publisher need not look it up again.
    agent_id: int | None = None


@dataclass(frozen=True)
class NoteWritten:
    """An internal note (or a manager's whisper) in a chat: for its agent and its watchers,
    never its end user."""

    chat_id: int
    note: dict = field(hash=False)
    agent_id: int | None = None


@dataclass(frozen=True)
class SupervisorJoined:
    """A manager joined a live chat: its end user and agent are told."""

    chat_id: int
    user_id: int
    name: str
    agent_id: int | None


@dataclass(frozen=True)
class ChatReassigned:
    """A manager took a live chat from its agent (for himself or another agent)."""

    chat_id: int
    from_agent_id: int
    to_agent_id: int
    to_agent_name: str
    by_name: str


@dataclass(frozen=True)
class ChatClosed:
    chat_id: int
    queue_id: int
    closed_by: str
    reason: str | None


@dataclass(frozen=True)
class ChatTransferred:
    chat_id: int
    from_queue_id: int
    to_queue_id: int
    agent_id: int


@dataclass(frozen=True)
class ChatOffered:
    """Auto routing offered a waiting chat to one agent, for `expires_in` seconds."""

    chat_id: int
    queue_id: int
    user_id: int
    expires_in: int


@dataclass(frozen=True)
class OfferEnded:
    """An agent's offer of a chat ended without his accept: declined, expired, withdrawn."""

    chat_id: int
    user_id: int
    outcome: str


@dataclass(frozen=True)
class AgentStatusChanged:
    """An agent's status as others see it (available, away, offline), since when and, when
    the desk set it, why."""

    user_id: int
    status: str
    since: datetime | None = field(default=None, hash=False)
    reason: str | None = None


@dataclass(frozen=True)
class SessionsEnded:
    """Every session of a login ended (logout, password change, disabled): its open sockets
    must go, on every process."""

    user_id: int
    reason: str


@dataclass(frozen=True)
class MembershipChanged:
    """Persons joined or left groups: their agents' sockets follow their chat queues."""

    person_ids: tuple[int, ...]
    group_ids: tuple[int, ...]


@dataclass(frozen=True)
class PresenceChanged:
    """Agents' consoles opened or closed (or went with a server process that stopped), or
    their status or free seats changed: the agents online and available of these queues
    changed."""

    queue_ids: tuple[int, ...]
    user_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class ServerNodesGone:
    """Server processes left the desk: stopped cleanly, or `crashed` (stopped beating).

    A process that crashed may have committed messages it never published: clients
    elsewhere must catch up from the database.
    """

    nodes: tuple[str, ...]
    crashed: bool


@dataclass(frozen=True)
class ServiceRequestChanged:
    sr_id: int
    number: str
    opened: bool = False  # opened in this use case (not "created": a LogRecord field)


Subscriber = Callable[[list[object]], None]
_EXTENSION = "desk_events"
_PENDING = "desk.events_pending"  # recorded in the open transaction
_COMMITTED = "desk.events_committed"  # committed, not yet delivered
# Inside `batched()`: the events delivered so far, handed over together at its end.
_held: ContextVar[list[object] | None] = ContextVar("desk_events_held", default=None)
# Inside `collected()`: the events recorded so far.
_statement: ContextVar[list[object] | None] = ContextVar("desk_events_statement", default=None)


def init_app(app: Flask) -> None:
    """Give the app its own list of listeners (two apps in one process never share one)."""
    app.extensions[_EXTENSION] = []
    if not sa_event.contains(Session, "after_commit", _after_commit):
        sa_event.listen(Session, "after_commit", _after_commit)
        sa_event.listen(Session, "after_soft_rollback", _after_soft_rollback)


def subscribe(app: Flask, fn: Subscriber) -> None:
    """Register a listener of this app (idempotent).

    A listener receives a list of events: those of one committed use case, or of a whole
    `batched()` block, in the order they happened.
    """
    listeners = app.extensions[_EXTENSION]
    if fn not in listeners:
        listeners.append(fn)


def unsubscribe(app: Flask, fn: Subscriber) -> None:
    listeners = app.extensions[_EXTENSION]
    if fn in listeners:
        listeners.remove(fn)


def record(*events: object) -> None:
    """Note what a use case did; it is told to listeners after its transaction commits."""
    recorded = _statement.get()
    if recorded is not None:  # a use case on a connection, without the session (`collected`)
        recorded.extend(events)
        return
    from app.desk.unit_of_work import in_transaction
    from app.extensions import db

    if not in_transaction():
        raise RuntimeError("desk events are recorded inside a use case's transaction()")
    db.session.info.setdefault(_PENDING, []).extend(events)


def pending(session: Session) -> list[object]:
    """The events recorded in the session's open transaction, in order: for writers that
    must join that transaction before it commits (an outbox written with the change)."""
    return list(session.info.get(_PENDING, ()))


def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending:
        session.info.setdefault(_COMMITTED, []).extend(pending)


def _after_soft_rollback(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop(_PENDING, None)


@contextmanager
def collected() -> Iterator[list[object]]:
    """Record the events inside into the list it yields rather than into the session: for a
    use case that commits without the session (`unit_of_work.single_statement` and
    `unit_of_work.statements`), which delivers them itself once committed (`deliver`)."""
    recorded: list[object] = []
    token = _statement.set(recorded)
    try:
        yield recorded
    finally:
        _statement.reset(token)


def collecting() -> bool:
    """Whether events are being `collected()` (a use case without the session is open)."""
    return _statement.get() is not None


def deliver(committed: list[object]) -> None:
    """Hand these committed events to the listeners (see `collected`)."""
    _deliver(committed)


def deliver_committed() -> None:
    """Hand the committed events of this session to the listeners (the end of a use case)."""
    from app.extensions import db

    session = db.session
    session.info.pop(_PENDING, None)  # never committed: the use case ended without them
    committed = session.info.pop(_COMMITTED, None)
    if committed:
        _deliver(committed)


@contextmanager
def batched() -> Iterator[None]:
    """Deliver the events of the use cases run inside together, at the end of the block.

    For work that changes many chats at once (the sweeper abandoning every end user who did
    not come back): listeners can then merge what the events cause, e.g. refresh a queue once
    for all the chats that left it rather than once per chat. Events of use cases committed
    before an error inside the block are still delivered.
    """
    if _held.get() is not None:  # already batching: the outer block delivers
        yield
        return
    held: list[object] = []
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
        if held:
            _deliver(held)


def _deliver(events: list[object]) -> None:
    held = _held.get()
    if held is not None:
        held.extend(events)
        return
    for fn in list(current_app.extensions.get(_EXTENSION, ())):
        try:
            fn(events)
        except Exception:  # noqa: BLE001 - delivery is best effort after commit
            log.exception("event listener failed for %r", events)
