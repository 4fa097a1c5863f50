"""Which desk event is which webhook event, and what its payload says: the one place.

A webhook receives ``{"id", "event", "occurred_at", "data"}``; this module turns the desk
events of one transaction into those, in the order they happened, each with the key that
keeps its receiver's view in order (the chat for chat events, the SR for SR events).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from app import wire
from app.desk import events as desk
from app.extensions import db
from app.models import Chat, ServiceRequest, utcnow

MESSAGE_CREATED = "message.created"
# Every event a webhook may subscribe to, with what it means (shown in the admin and docs).
EVENTS: dict[str, str] = {
    "chat.requested": "An end user asked for a chat; it waits in its queue.",
    "chat.accepted": "An agent accepted a waiting chat.",
    "chat.transferred": "An agent handed a live chat to another queue, where it waits again.",
    MESSAGE_CREATED: "A message was posted in a chat (end user, agent or the desk).",
    "chat.closed": "A chat ended: closed by either side, timed out, or abandoned while "
                   "waiting (data.chat.status ABANDONED).",
    "sr.created": "A service request was opened.",
    "sr.updated": "A service request changed: its fields, status, owner or work log.",
}


@dataclass(frozen=True)
class Outgoing:
    """One webhook event, ready to be written to the outbox."""

    event: str
    order_key: str
    occurred_at: str
    data: dict


def names(batch: Iterable[object]) -> set[str]:
    """The webhook events this batch of desk events becomes (cheap: no database)."""
    return {name for name, _ in _classified(list(batch))}


def outgoing(batch: list[object], wanted: set[str]) -> list[Outgoing]:
    """The wanted webhook events of one transaction's desk events, in order, with their data
    as the transaction leaves them (read before it commits)."""
    result = []
    for name, item in _classified(batch):
        if name in wanted:
            result.append(_build(name, item))
    return result


def _classified(batch: list[object]) -> list[tuple[str, object]]:
    transferred = {e.chat_id for e in batch if isinstance(e, desk.ChatTransferred)}
    created = {e.sr_id for e in batch if isinstance(e, desk.ServiceRequestChanged) and e.opened}
    seen_srs: set[int] = set()
    result: list[tuple[str, object]] = []
    for item in batch:
        if isinstance(item, desk.ChatWaiting):
            if item.chat_id not in transferred:  # a transfer is told as chat.transferred
                result.append(("chat.requested", item))
        elif isinstance(item, desk.ChatAccepted):
            result.append(("chat.accepted", item))
        elif isinstance(item, desk.ChatTransferred):
            result.append(("chat.transferred", item))
        elif isinstance(item, desk.MessagePosted):
            result.append((MESSAGE_CREATED, item))
        elif isinstance(item, desk.ChatClosed):
            result.append(("chat.closed", item))
        elif isinstance(item, desk.ServiceRequestChanged) and item.sr_id not in seen_srs:
            # One per SR and transaction: its data is the SR as the transaction leaves it.
            seen_srs.add(item.sr_id)
            result.append(("sr.created" if item.sr_id in created else "sr.updated", item))
    return result


def _build(name: str, item) -> Outgoing:  # noqa: ANN001 - one of the desk's event classes
    if isinstance(item, desk.MessagePosted):
        message = item.message
        return Outgoing(name, f"chat:{item.chat_id}", message["sent_at"],
                        {"chat_id": item.chat_id, "message": message})
    if isinstance(item, desk.ServiceRequestChanged):
        sr = db.session.get(ServiceRequest, item.sr_id, populate_existing=True)
        moment = sr.created_at if item.opened else sr.changed_at
        return Outgoing(name, f"sr:{sr.id}", _time(moment), {"sr": wire.service_request_record(sr)})
    chat = db.session.get(Chat, item.chat_id, populate_existing=True)
    data: dict = {"chat": wire.chat_record(chat)}
    moment = None
    if isinstance(item, desk.ChatWaiting):
        moment = chat.requested_at
    elif isinstance(item, desk.ChatAccepted):
        moment = chat.accepted_at
    elif isinstance(item, desk.ChatTransferred):
        moment = chat.requested_at
        data["from_queue_id"] = item.from_queue_id
        data["by_agent_id"] = item.agent_id
    elif isinstance(item, desk.ChatClosed):
        moment = chat.closed_at
    return Outgoing(name, f"chat:{chat.id}", _time(moment), data)


def _time(moment: datetime | None) -> str:
    return wire.iso_time(moment or utcnow())
