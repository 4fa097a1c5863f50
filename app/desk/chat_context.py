"""The end user's context beside a chat: where he asks from, and what he asked before.

The widget sends, with the chat request, the page (address and title), the referrer, the
browser's language and time zone; the server adds browser and OS read from the user agent
(ua-parser, the maintained port of the uap-core rules). Everything is the visitor's own
claim, shown as such, never trusted for access.

Earlier requests are found by the chat's e-mail address. When the address is verified (a
host site vouched for it), they are the SRs of the desk's own record of that person. When
it is not (typed into the widget), anyone could have typed it: the list then shows only SRs
the agent may open anyway, and says so.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from sqlalchemy import func, select
from ua_parser import parse as parse_user_agent

from app import wire
from app.desk import worklist
from app.desk.errors import ValidationError
from app.desk.validation import clean_text
from app.extensions import db
from app.models import Chat, ChatContext, Person, ServiceRequest, User

FIELDS = ("page_url", "page_title", "referrer", "language", "time_zone")
URL_MAX = 2000
EARLIER_LIMIT = 10
_LANGUAGE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8}){0,4}$")
_ZONES: set[str] = set()


def clean(context: object) -> dict:
    """The context object of a chat request, checked field by field (each optional)."""
    if context is None:
        return {}
    if not isinstance(context, dict):
        raise ValidationError("invalid", "context must be an object.", "context")
    unknown = sorted(set(context) - set(FIELDS))
    if unknown:
        raise ValidationError("unknown_field", f"context.{unknown[0][:40]} is not known.",
                              f"context.{unknown[0][:40]}")
    cleaned = {
        "page_url": _url(context.get("page_url"), "page_url"),
        "referrer": _url(context.get("referrer"), "referrer"),
        "page_title": clean_text(context.get("page_title"), "context.page_title",
                                 max_length=300, required=False, multiline=False),
        "language": _language(context.get("language")),
        "time_zone": _time_zone(context.get("time_zone")),
    }
    return {key: value for key, value in cleaned.items() if value}


def _url(value: object, name: str) -> str | None:
    field = f"context.{name}"
    text = clean_text(value, field, max_length=URL_MAX, required=False, multiline=False)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError("invalid", f"{field} must be an http or https address.", field)
    return text


def _language(value: object) -> str | None:
    text = clean_text(value, "context.language", max_length=35, required=False,
                      multiline=False)
    if text is not None and not _LANGUAGE.match(text):
        raise ValidationError("invalid", "context.language must be a language tag such as "
                              "en-GB.", "context.language")
    return text


def _time_zone(value: object) -> str | None:
    text = clean_text(value, "context.time_zone", max_length=64, required=False,
                      multiline=False)
    if text is None:
        return None
    if not _ZONES:
        _ZONES.update(available_timezones())
    if text not in _ZONES:
        raise ValidationError("invalid", "context.time_zone must be a time zone such as "
                              "Europe/Berlin.", "context.time_zone")
    return text


def describe_user_agent(user_agent: str | None) -> tuple[str | None, str | None]:
    """("Chrome 131", "Windows 10") from a User-Agent header (None for what is unknown)."""
    if not user_agent:
        return None, None
    found = parse_user_agent(user_agent[:500])
    browser = os_name = None
    if found.user_agent and found.user_agent.family != "Other":
        browser = " ".join(filter(None, [found.user_agent.family, found.user_agent.major]))
    if found.os and found.os.family != "Other":
        os_name = " ".join(filter(None, [found.os.family, found.os.major]))
    return (browser[:80] if browser else None), (os_name[:80] if os_name else None)


def record(chat: Chat, context: dict, user_agent: str | None) -> ChatContext | None:
    """Keep the cleaned context of a new chat (in the chat request's transaction)."""
    browser, os_name = describe_user_agent(user_agent)
    if not context and not browser and not os_name:
        return None
    row = ChatContext(chat_id=chat.id, browser=browser, os=os_name,
                      user_agent=(user_agent or "")[:500] or None, **context)
    db.session.add(row)
    return row


def of_chat(chat_id: int) -> dict | None:
    return wire.chat_context(db.session.get(ChatContext, chat_id))


def latest_of_service_request(sr_id: int) -> dict | None:
    """The context of the SR's latest chat (what the SR form shows)."""
    row = db.session.scalars(
        select(ChatContext).join(Chat, Chat.id == ChatContext.chat_id)
        .where(Chat.sr_id == sr_id).order_by(Chat.id.desc())).first()
    return wire.chat_context(row)


def is_verified(chat: Chat) -> bool:
    """Whether a host site vouched for the chat's e-mail address (`app.desk.identity`)."""
    return chat.verified


def earlier_requests(user: User, chat: Chat) -> dict:
    """The person's other SRs, newest first, each with its chats.

    Verified: the SRs of the desk's record of that address (the person's own; never those of
    chats in which someone merely typed it). Not verified: the SRs of every record of that
    address, but only those the agent may open anyway, and the list says so."""
    verified = is_verified(chat)
    email = (chat.visitor.email or "").lower()
    query = (select(ServiceRequest).join(Person, Person.id == ServiceRequest.reported_by_id)
             .where(func.lower(Person.email) == email, ServiceRequest.id != chat.sr_id))
    if verified:
        query = query.where(Person.verified.is_(True))
    elif not user.is_manager:
        query = query.where(worklist.visible_to(user))
    rows = list(db.session.scalars(
        query.order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
        .limit(EARLIER_LIMIT))) if email else []
    return {"verified": verified, "requests": [wire.earlier_request(sr) for sr in rows]}
