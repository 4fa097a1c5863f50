"""Wire shapes: every JSON object a client sees, built in one place.

`docs/protocol.md` documents these shapes field by field; the realtime namespaces, the
publisher, the widget API and the agent console's JSON API all build their payloads here,
so a field is named, formatted and documented once. Plain functions over models and values:
no request, no session state.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from app.models import (
    Attachment,
    Chat,
    ChatContext,
    ChatMessage,
    ChatNote,
    Person,
    SenderRole,
    ServiceRequest,
    StatusHistory,
    WorkLogEntry,
    WorkLogType,
)


def iso_time(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z` suffix, as every time on the wire."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


# --- chat ----------------------------------------------------------------------------------

def message(id: int, chat_id: int, role: SenderRole, name: str, body: str,
            sent_at: datetime, client_id: str | None, seq: int, notice: dict | None = None,
            attachments: Iterable[dict] = ()) -> dict:
    """A chat message (built from values, so the message writer needs no model object);
    `seq` numbers the chat's messages 1, 2, 3, ... without gaps; `attachments` are the files
    it carries, as `attachment` shows them; a desk line (SYSTEM) may carry a `notice`: what
    happened and to whom, for clients that word it in another language than `body`."""
    payload = {
        "id": id,
        "chat_id": chat_id,
        "seq": seq,
        "sender": {"role": role.value, "name": name},
        "body": body,
        "sent_at": iso_time(sent_at),
        "client_id": client_id,
        "attachments": list(attachments),
    }
    if notice:
        payload["notice"] = notice
    return payload


def encoded_size(payload: dict) -> int:
    """The bytes of a payload as JSON on the wire (non-ASCII escaped: an upper bound)."""
    return len(json.dumps(payload, separators=(",", ":")))


def message_of(row: ChatMessage, attachments: Iterable[dict] = ()) -> dict:
    return message(row.id, row.chat_id, row.sender_role, row.sender_name, row.body,
                   row.sent_at, row.client_id, row.seq, row.notice, attachments)


def attachment(row: Attachment, url: str, thumbnail_url: str | None) -> dict:
    """A file in a chat: `url` (and `thumbnail_url` for images) are signed links that
    expire, relative to the desk's address."""
    return {
        "id": row.public_id,
        "name": row.name,
        "size": row.size,
        "content_type": row.content_type,
        "url": url,
        "thumbnail_url": thumbnail_url,
        "width": row.width,
        "height": row.height,
    }


def sent_file(file: dict, role: SenderRole, name: str, sent_at: datetime) -> dict:
    """A file of an SR (the SR form lists them): the attachment as `attachment` shows it,
    with who sent it and when."""
    return {**file, "sent_by": {"role": role.value, "name": name}, "sent_at": iso_time(sent_at)}


def chat_summary(chat: Chat) -> dict:
    """The chat as the agent console and the widget list it."""
    person = chat.visitor
    sr = chat.service_request
    return {
        "chat_id": chat.id,
        "status": chat.status.value,
        "queue": {"id": chat.queue_id, "name": chat.queue.name},
        "sr": {"id": sr.id, "number": sr.number, "status": sr.status.value},
        # What the end user typed unless a host site vouched for him (`verified`).
        "end_user": {"name": person.display_name, "email": person.email, "phone": person.phone,
                     "verified": bool(chat.verified)},
        "agent": chat.agent.display_name if chat.agent else None,
        "question": chat.question,
        "requested_at": iso_time(chat.requested_at),
        "accepted_at": iso_time(chat.accepted_at),
        "greeting": chat.queue.greeting,
    }


def chat_context(row: ChatContext | None) -> dict | None:
    """Where the end user asks from (each field may be null): what the widget sent and the
    browser and OS the server read from the user agent."""
    if row is None:
        return None
    return {"page_url": row.page_url, "page_title": row.page_title, "referrer": row.referrer,
            "language": row.language, "time_zone": row.time_zone, "browser": row.browser,
            "os": row.os}


def earlier_request(sr: ServiceRequest) -> dict:
    """One of the person's other SRs beside a chat, with its chats (newest first)."""
    return {"number": sr.number, "summary": sr.summary, "status": sr.status.value,
            "created_at": iso_time(sr.created_at), "link": f"/sr/{sr.number}",
            "chats": [{"chat_id": c.id, "status": c.status.value,
                       "requested_at": iso_time(c.requested_at)}
                      for c in sorted(sr.chats, key=lambda c: c.id, reverse=True)]}


def solved_before(sr: ServiceRequest) -> dict:
    """A resolved SR like the one being asked about, with the solution to reuse."""
    return {"number": sr.number, "summary": sr.summary, "solution": sr.solution,
            "status": sr.status.value, "resolved_at": iso_time(sr.changed_at),
            "link": f"/sr/{sr.number}"}


def history(chat: Chat, messages: list[dict], *, for_agent: bool,
            notes: list[dict] | None = None, more: bool = False) -> dict:
    """`history`: a page of a chat's messages (after a cursor) and its state; `more` says
    that messages follow this page, `last_seq` is the seq of the chat's latest message; for
    agents also its summary and internal notes (never for the end user)."""
    data = {"chat_id": chat.id, "status": chat.status.value,
            "agent": chat.agent.display_name if chat.agent else None,
            "messages": messages, "more": more, "last_seq": chat.last_seq}
    if for_agent:
        data["chat"] = chat_summary(chat)
        data["notes"] = notes or []
    return data


def note(row: ChatNote, *, to_name: str | None = None) -> dict:
    """An internal note or whisper (`note`): agents and managers only."""
    return {"id": row.id, "chat_id": row.chat_id, "kind": row.kind.value,
            "author": {"id": row.author_id, "name": row.author_name},
            "to": {"id": row.to_user_id, "name": to_name} if row.to_user_id else None,
            "body": row.body, "created_at": iso_time(row.created_at),
            "client_id": row.client_id}


def queue_position(chat_id: int, position: int, agents_online: int,
                   agents_available: int) -> dict:
    """The waiting end user's place; `agents_available` counts the agents of his queue who
    are available with a free seat (the widget's "no agent available" follows it)."""
    return {"chat_id": chat_id, "position": position, "agents_online": agents_online,
            "agents_available": agents_available}


# --- availability and routing --------------------------------------------------------------

def agent_seat(seat: dict) -> dict:
    """An agent's status (available, away, offline), since when and why (when the desk set
    it), and his live chats out of his capacity: his own line in `queue_state`, and a line
    of the managers' agent board."""
    return {"status": seat["status"], "since": iso_time(seat["since"]),
            "reason": seat["reason"], "active_chats": seat["active_chats"],
            "max_chats": seat["max_chats"]}


def agent_status(status: str, since: datetime | None, reason: str | None) -> dict:
    """`agent_status`: the agent's status changed (by one of his consoles or by the desk)."""
    return {"status": status, "since": iso_time(since), "reason": reason}


def chat_offered(chat: Chat, expires_in: int) -> dict:
    """`chat_offered`: auto routing offers this waiting chat to the agent alone."""
    return {"chat": chat_summary(chat), "expires_in": expires_in}


QUEUE_STATE_ERROR = "The chat queue cannot be read right now; retrying."


def queue_state_error(message: str | None = None) -> dict:
    """`queue_state` when the server cannot tell: the indicator shows its error mark."""
    return {"queues": [], "total": None, "oldest_wait_seconds": None, "error": "unavailable",
            "message": message or QUEUE_STATE_ERROR}


def chat_request_created(chat: Chat, position: int, agents_online: int,
                         agents_available: int, token: str, token_max_age: int) -> dict:
    """The answer to `POST /api/chat-requests`."""
    return {
        "chat_id": chat.id,
        "sr_number": chat.service_request.number,
        "visitor_token": token,
        "queue": {"id": chat.queue_id, "name": chat.queue.name},
        "position": position,
        "agents_online": agents_online,
        "agents_available": agents_available,
        "token_expires_in": token_max_age,
    }


def my_request(sr: ServiceRequest) -> dict:
    """One of a verified end user's open SRs (`POST /api/my-requests`): no internals."""
    return {"number": sr.number, "summary": sr.summary, "status": sr.status.value,
            "changed_at": iso_time(sr.changed_at)}


# --- service requests ----------------------------------------------------------------------

def person(row: Person | None) -> dict | None:
    if row is None:
        return None
    return {"id": row.id, "name": row.display_name, "email": row.email, "phone": row.phone}


def work_log_entry(entry: WorkLogEntry) -> dict:
    return {
        "id": entry.id,
        "type": entry.log_type.value,
        "summary": entry.summary,
        "details": entry.details,
        "author": entry.author.display_name if entry.author else "Service Desk",
        "client_visible": entry.client_visible,
        "created_at": iso_time(entry.created_at),
    }


def status_change(row: StatusHistory) -> dict:
    return {
        "from": row.from_status.value if row.from_status else None,
        "to": row.to_status.value,
        "group": row.owner_group.name if row.owner_group else None,
        "by": row.changed_by.display_name if row.changed_by else "Service Desk",
        "at": iso_time(row.changed_at),
        "memo": row.memo,
    }


def service_request(sr: ServiceRequest, allowed_transitions: list[str], *,
                    attachments: Iterable[dict] = (), context: dict | None = None) -> dict:
    """Everything the SR form shows, with the version to save against; `attachments` are
    the files its chats carried, `context` where its latest chat came from."""
    log = [work_log_entry(e) for e in sr.work_log]
    return {
        "id": sr.id,
        "number": sr.number,
        "summary": sr.summary,
        "details": sr.details,
        "status": sr.status.value,
        "allowed_transitions": allowed_transitions,
        "source": sr.source.value,
        "reported_by": person(sr.reported_by),
        "owner": person(sr.owner),
        "owner_group": {"id": sr.owner_group.id, "name": sr.owner_group.name}
        if sr.owner_group else None,
        "reported_priority": sr.reported_priority,
        "impact": sr.impact,
        "urgency": sr.urgency,
        "ci": {"id": sr.ci.id, "label": sr.ci.name} if sr.ci else None,
        "asset": {"id": sr.asset.id, "label": str(sr.asset)} if sr.asset else None,
        "solution": sr.solution,
        "created_at": iso_time(sr.created_at),
        "changed_at": iso_time(sr.changed_at),
        "changed_by": sr.changed_by.display_name if sr.changed_by else None,
        "version": sr.version,
        "work_log": [e for e in log if e["type"] != WorkLogType.TRANSCRIPT.value],
        "transcripts": [e for e in log if e["type"] == WorkLogType.TRANSCRIPT.value],
        "history": [status_change(h) for h in sr.history],
        "chats": [{"chat_id": c.id, "status": c.status.value} for c in sr.chats],
        "attachments": list(attachments),
        "context": context,
    }


def service_request_row(sr: ServiceRequest) -> dict:
    """One line of a list of SRs (My work)."""
    return {
        "number": sr.number,
        "summary": sr.summary,
        "status": sr.status.value,
        "owner": sr.owner.display_name if sr.owner else None,
        "owner_group": sr.owner_group.name if sr.owner_group else None,
        "reported_by": sr.reported_by.display_name if sr.reported_by else None,
        "reported_priority": sr.reported_priority,
        "changed_at": iso_time(sr.changed_at),
    }


# --- records for other systems (the REST API and webhooks) ---------------------------------

def _ref(row, label: str = "name") -> dict | None:
    return {"id": row.id, label: getattr(row, label)} if row is not None else None


def chat_record(chat: Chat) -> dict:
    """A chat as the REST API and webhooks show it: its state, queue, SR, end user and agent."""
    sr = chat.service_request
    return {
        "id": chat.id,
        "status": chat.status.value,
        "queue": {"id": chat.queue_id, "name": chat.queue.name},
        "sr": {"id": sr.id, "number": sr.number, "status": sr.status.value},
        "end_user": person(chat.visitor),
        # Whether a host site vouched for the end user's e-mail (else: what he typed).
        "verified": bool(chat.verified),
        "agent": {"id": chat.agent.id, "name": chat.agent.display_name} if chat.agent else None,
        "question": chat.question,
        "requested_at": iso_time(chat.requested_at),
        "accepted_at": iso_time(chat.accepted_at),
        "closed_at": iso_time(chat.closed_at),
        "closed_by": chat.closed_by,
        "close_reason": chat.close_reason,
        "rating": chat.rating,
    }


def service_request_record(sr: ServiceRequest) -> dict:
    """An SR's fields as the REST API lists them and webhooks send them, with its version."""
    return {
        "id": sr.id,
        "number": sr.number,
        "summary": sr.summary,
        "details": sr.details,
        "status": sr.status.value,
        "source": sr.source.value,
        "reported_by": person(sr.reported_by),
        "owner": person(sr.owner),
        "owner_group": _ref(sr.owner_group),
        "reported_priority": sr.reported_priority,
        "impact": sr.impact,
        "urgency": sr.urgency,
        "classification": sr.classification,
        "ci": _ref(sr.ci),
        "asset": {"id": sr.asset.id, "tag": sr.asset.tag} if sr.asset else None,
        "solution": sr.solution,
        "created_at": iso_time(sr.created_at),
        "changed_at": iso_time(sr.changed_at),
        "version": sr.version,
    }


def service_request_detail(sr: ServiceRequest, allowed_transitions: list[str]) -> dict:
    """An SR with its work log (transcripts included, by type), status history and chats."""
    return {
        **service_request_record(sr),
        "allowed_transitions": allowed_transitions,
        "work_log": [work_log_entry(entry) for entry in sr.work_log],
        "history": [status_change(row) for row in sr.history],
        "chats": [{"chat_id": chat.id, "status": chat.status.value} for chat in sr.chats],
    }
