"""What happened in the desk, told to whoever listens after the transaction commits.

The service layer publishes; the realtime adapter subscribes and emits Socket.IO events,
so admin edits, HTTP calls, CLI commands and socket calls notify clients the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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
class ServiceRequestChanged:
    sr_id: int
    number: str


Subscriber = Callable[[object], None]
_subscribers: list[Subscriber] = []


def subscribe(fn: Subscriber) -> None:
    """Register a listener once (idempotent, since apps may be created several times)."""
    if fn not in _subscribers:
        _subscribers.append(fn)


def unsubscribe(fn: Subscriber) -> None:
    if fn in _subscribers:
        _subscribers.remove(fn)


def publish(*events: object) -> None:
    """Deliver events to every listener; a failing listener never undoes a committed change."""
    for event in events:
        for fn in list(_subscribers):
            try:
                fn(event)
            except Exception:  # noqa: BLE001 - delivery is best effort after commit
                log.exception("event listener failed for %r", event)
