"""Canned responses: ready-made answers a queue's managers keep, and each agent his own.

A body is plain text with placeholders in braces, filled in for the chat at hand:
`{end_user_name}`, `{agent_name}`, `{sr_number}`, `{queue}`; `{{` and `}}` stand for a
literal brace. Anything else in braces is refused on save, naming it. A response may have
language variants (one row each, same shortcut): a chat whose end user's widget speaks that
language gets the variant, any other chat the default text.
"""

from __future__ import annotations

import re
from string import Formatter

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.desk import people
from app.desk.errors import Conflict, Forbidden, NotFound, ValidationError
from app.desk.unit_of_work import use_case
from app.desk.validation import clean_id, clean_text
from app.extensions import db
from app.models import CannedResponse, Chat, ChatContext, User

PLACEHOLDERS = ("end_user_name", "agent_name", "sr_number", "queue")
SAMPLE = {"end_user_name": "Eve End-User", "agent_name": "Alice Agent",
          "sr_number": "SR1001", "queue": "Software"}
BODY_MAX_LENGTH = 4000
_SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


# --- placeholders --------------------------------------------------------------------------

def _parts(body: str) -> list[tuple[str, str | None]]:
    """(literal text, placeholder or None) pairs; unknown or malformed placeholders refused."""
    try:
        parsed = list(Formatter().parse(body))
    except ValueError as exc:
        raise ValidationError("bad_placeholder", "A brace is not closed: write {{ or }} for a "
                              "brace itself, or a placeholder such as {agent_name}.",
                              "body") from exc
    unknown = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        label = "{" + name + (f"!{conversion}" if conversion else "") + (
            f":{spec}" if spec else "") + "}"
        if name not in PLACEHOLDERS or spec or conversion:
            unknown.append(label)
    if unknown:
        known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        raise ValidationError(
            "unknown_placeholder",
            f"Unknown placeholder{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"use {known}.", "body")
    return [(literal, name) for literal, name, _, _ in parsed]


def fill(body: str, values: dict[str, str]) -> str:
    """The body with its placeholders filled in."""
    return "".join(literal + (values[name] if name else "") for literal, name in _parts(body))


def values_for(chat: Chat, agent: User) -> dict[str, str]:
    return {"end_user_name": chat.visitor.display_name, "agent_name": agent.display_name,
            "sr_number": chat.service_request.number, "queue": chat.queue.name}


# --- cleaning ------------------------------------------------------------------------------

def clean_shortcut(value: object) -> str:
    text = clean_text(value, "shortcut", max_length=41, multiline=False).lower().lstrip("/")
    if not _SHORTCUT.match(text):
        raise ValidationError("invalid", "A shortcut is 1 to 40 letters, digits, - or _ "
                              "(e.g. reset-password).", "shortcut")
    return text


def clean_language(value: object) -> str:
    """"" for the default text, else a language code such as "de"."""
    text = (clean_text(value, "language", max_length=16, required=False, multiline=False)
            or "").lower()
    if text and not _LANGUAGE.match(text):
        raise ValidationError("invalid", "The language is a code such as en or de, or empty "
                              "for the default text.", "language")
    return text


def language_of(tag: str | None) -> str:
    """The primary language of a browser's tag ("de-AT" -> "de")."""
    return (tag or "").split("-")[0].split("_")[0].strip().lower()


# --- saving --------------------------------------------------------------------------------

def get_response(response_id: object) -> CannedResponse:
    row = db.session.get(CannedResponse, clean_id(response_id, "id"))
    if row is None:
        raise NotFound("unknown_response", "No such canned response.", "id")
    return row


def _may_edit(actor: User, row: CannedResponse) -> None:
    if row.owner_id is not None and row.owner_id != actor.id:
        raise Forbidden("not_yours", "This canned response belongs to another agent.", "id")
    if row.queue_id is not None and not actor.is_manager:
        raise Forbidden("forbidden", "Only managers keep a queue's canned responses.", "id")


@use_case
def save_response(actor: User, *, title: object, shortcut: object, body: object,
                  language: object = "", queue: object = None, response_id: object = None
                  ) -> CannedResponse:
    """Create (no `response_id`) or change a canned response.

    With `queue` it is that queue's (managers only), else the actor's own. A shortcut names
    one response per queue (or agent) and language.
    """
    if response_id is None:
        row = CannedResponse()
        if queue is not None:
            row.queue_id = people.get_queue(queue).id
        else:
            row.owner_id = actor.id
    else:
        row = get_response(response_id)
        if queue is not None and row.queue_id is not None:
            row.queue_id = people.get_queue(queue).id
    _may_edit(actor, row)
    values = {"title": clean_text(title, "title", max_length=120, multiline=False),
              "shortcut": clean_shortcut(shortcut), "language": clean_language(language),
              "body": clean_text(body, "body", max_length=BODY_MAX_LENGTH)}
    _parts(values["body"])
    with db.session.no_autoflush:
        _refuse_collision(row, values["shortcut"], values["language"])
    for name, value in values.items():
        setattr(row, name, value)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError as exc:  # a colleague saved the same shortcut a moment ago
        raise _collision(row.queue_id is not None, row.shortcut, row.language) from exc
    return row


def _refuse_collision(row: CannedResponse, shortcut: str, language: str) -> None:
    scope = (CannedResponse.queue_id == row.queue_id if row.queue_id is not None
             else CannedResponse.owner_id == row.owner_id)
    other = db.session.scalar(select(CannedResponse.id).where(
        scope, CannedResponse.shortcut == shortcut, CannedResponse.language == language,
        CannedResponse.id != (row.id or 0)))
    if other is not None:
        raise _collision(row.queue_id is not None, shortcut, language)


def _collision(of_queue: bool, shortcut: str, language: str) -> Conflict:
    where = "this queue" if of_queue else "your canned responses"
    variant = f" in {language}" if language else ""
    return Conflict("shortcut_taken", f"The shortcut /{shortcut}{variant} is already used "
                    f"in {where}.", "shortcut")


@use_case
def delete_response(actor: User, response_id: object) -> None:
    row = get_response(response_id)
    _may_edit(actor, row)
    db.session.delete(row)


def own_responses(agent: User) -> list[CannedResponse]:
    return list(db.session.scalars(
        select(CannedResponse).where(CannedResponse.owner_id == agent.id)
        .order_by(CannedResponse.shortcut, CannedResponse.language)))


# --- in a chat -----------------------------------------------------------------------------

def for_chat(chat: Chat, agent: User) -> list[dict]:
    """What `/` offers in a chat: the agent's own responses and those of the chat's queue,
    each in the chat's language where it has that variant, filled in for this chat.

    An agent's own response hides a queue's with the same shortcut.
    """
    language = language_of(db.session.scalar(
        select(ChatContext.language).where(ChatContext.chat_id == chat.id)))
    rows = db.session.scalars(select(CannedResponse).where(or_(
        CannedResponse.owner_id == agent.id, CannedResponse.queue_id == chat.queue_id)))
    chosen: dict[str, CannedResponse] = {}
    for row in sorted(rows, key=lambda r: (r.owner_id is None, r.language != language,
                                           r.language != "", r.id)):
        if row.language in ("", language):
            chosen.setdefault(row.shortcut, row)
    values = values_for(chat, agent)
    return [{"id": row.id, "shortcut": row.shortcut, "title": row.title,
             "language": row.language or None,
             "scope": "mine" if row.owner_id is not None else "queue",
             "text": fill(row.body, values)}
            for row in sorted(chosen.values(), key=lambda r: r.shortcut)]
