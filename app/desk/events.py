"""What happened in the desk, told to whoever listens after the transaction commits.

The service layer publishes; the realtime adapter subscribes and emits Socket.IO events,
so admin edits, HTTP calls, CLI commands and socket calls notify clients the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

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
class ServiceRequestChanged:
    sr_id: int
    number: str


Subscriber = Callable[[list[object]], None]
_subscribers: list[Subscriber] = []
# Inside `batched()`: the events published so far, delivered together at its end.
_held: ContextVar[list[object] | None] = ContextVar("desk_events_held", default=None)


def subscribe(fn: Subscriber) -> None:
    """Register a listener once (idempotent, since apps may be created several times).

    A listener receives a list of events: those of one `publish` call, or of a whole
    `batched()` block, in the order they happened.
    """
    if fn not in _subscribers:
        _subscribers.append(fn)


def unsubscribe(fn: Subscriber) -> None:
    if fn in _subscribers:
        _subscribers.remove(fn)


def publish(*events: object) -> None:
    """Deliver events to every listener; a failing listener never undoes a committed change."""
    held = _held.get()
    if held is not None:
        held.extend(events)
        return
    _deliver(list(events))


@contextmanager
def batched() -> Iterator[None]:
    """Deliver the events published inside together, at the end of the block.

    For work that changes many chats at once (the sweeper abandoning every end user who did
    not come back): listeners can then merge what the events cause, e.g. refresh a queue once
    for all the chats that left it rather than once per chat. Events of work committed before
    an error inside the block are still delivered.
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
    if not events:
        return
    for fn in list(_subscribers):
        try:
            fn(events)
        except Exception:  # noqa: BLE001 - delivery is best effort after commit
            log.exception("event listener failed for %r", events)
