"""Outgoing mail: rendered from templates and written to the outbox in the caller's transaction.

Sending (claiming rows so each is sent once, retries, back-off) lives in
``app/mail/sender.py``, the SMTP and .eml transports in ``app/mail/transport.py``;
nothing here talks to a mail server.
"""

from __future__ import annotations

import unicodedata
from email.headerregistry import Address
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.desk.settings import setting
from app.extensions import db
from app.models import Chat, OutboxMessage, ServiceRequest

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mail"
_env = Environment(
    loader=FileSystemLoader(str(_TEMPLATES)),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    trim_blocks=True,
    lstrip_blocks=True,
)


def header_text(text: str, limit: int = 200) -> str:
    """Header-safe: one line with no CR/LF or other control characters, bounded length."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())[:limit]


DISPLAY_NAME_MAX = 64


def display_name(text: str | None) -> str:
    """A recipient's name as it may stand in ``To:``: letters, digits, spaces and ``. ' -``,
    at most 64 characters.

    End users type their names; a name with address syntax in it (``<>``, ``@``, commas,
    quotes, ``=?…?=``) could become a second recipient once a long header is folded (CPython
    may drop the quotes around such a name), so everything but plain name characters goes.
    """
    plain = unicodedata.normalize("NFC", header_text(text or "", 200))
    kept = "".join(ch if ch.isalnum() or ch in " .'-" else " " for ch in plain)
    return " ".join(kept.split())[:DISPLAY_NAME_MAX].strip()


def _render(name: str, **context) -> tuple[str, str]:
    context.setdefault("base_url", setting("PUBLIC_BASE_URL"))
    text = _env.get_template(f"{name}.txt").render(**context)
    html = _env.get_template(f"{name}.html").render(**context)
    return text, html


def enqueue(*, kind: str, to_address: str, to_name: str | None, subject: str, body_text: str,
            body_html: str | None, sr: ServiceRequest | None = None) -> OutboxMessage:
    """Add one message to the outbox (no commit: it belongs to the caller's transaction)."""
    Address(display_name=display_name(to_name), addr_spec=to_address)  # validates
    row = OutboxMessage(kind=kind, service_request=sr, to_address=to_address,
                        to_name=display_name(to_name) or None,
                        subject=header_text(subject, 250), body_text=body_text,
                        body_html=body_html)
    db.session.add(row)
    return row


def queue_resolution_notice(sr: ServiceRequest) -> OutboxMessage | None:
    """Tell the end user how the SR was resolved; None when the SR has no one to tell."""
    person = sr.reported_by or sr.affected_person
    if person is None or not person.email:
        return None
    text, html = _render("resolution", sr=sr, person=person)
    return enqueue(kind="resolution", to_address=person.email, to_name=person.display_name,
                   subject=f"[{sr.number}] Resolved: {sr.summary}", body_text=text,
                   body_html=html, sr=sr)


def queue_transcript(chat: Chat) -> OutboxMessage | None:
    """Send the end user the whole chat, in order, with times and senders."""
    person = chat.visitor
    if not person.email:
        return None
    from app.desk.attachments import mail_links

    sr = chat.service_request
    text, html = _render("transcript", sr=sr, chat=chat, person=person, messages=chat.messages,
                         files=mail_links(chat.id),
                         link_days=setting("ATTACHMENT_MAIL_LINK_MAX_AGE") // 86400)
    return enqueue(kind="transcript", to_address=person.email, to_name=person.display_name,
                   subject=f"[{sr.number}] Transcript of your chat: {sr.summary}",
                   body_text=text, body_html=html, sr=sr)
