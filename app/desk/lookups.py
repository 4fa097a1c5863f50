"""What a user may look up, for other systems (the REST API): SRs, chats, persons, queues.

The rights are the console's: an agent sees the SRs he owns, those of his groups and those he
chatted about, the chats of his queues and his own, the persons those concern and the members
of his groups; a manager sees everything. Anything else is unknown to him (NotFound, never
Forbidden), so that an id he may not see is not even confirmed to exist.

Lists are read page by page with a cursor (the last id of the page, newest first), stable
while rows are added.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from app.desk import people, search, stats
from app.desk.errors import NotFound, ValidationError
from app.desk.validation import clean_id, clean_text
from app.desk.worklist import sr_visible_to
from app.extensions import db
from app.models import (
    Chat,
    ChatStatus,
    Person,
    PersonGroup,
    ServiceRequest,
    SRStatus,
    User,
    group_members,
)

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None


def clean_limit(value: object) -> int:
    if value in (None, ""):
        return DEFAULT_LIMIT
    number = clean_id(value, "limit")
    if number > MAX_LIMIT:
        raise ValidationError("invalid", f"limit is at most {MAX_LIMIT}.", "limit")
    return number


def _page(query, column, cursor: object, limit: object) -> Page:
    """Rows newest first (by `column`, an id), after the cursor."""
    size = clean_limit(limit)
    if cursor not in (None, ""):
        query = query.where(column < clean_id(cursor, "cursor"))
    rows = list(db.session.scalars(query.order_by(column.desc()).limit(size + 1)).unique())
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, str(rows[-1].id) if more and rows else None)


def _enum(kind, value: object, field: str):
    try:
        return kind(str(value).upper())
    except ValueError as exc:
        allowed = ", ".join(item.value for item in kind)
        raise ValidationError("invalid", f"Unknown {field} {value!r} (one of {allowed}).",
                              field) from exc


# --- service requests --------------------------------------------------------------------

def service_requests(user: User, *, status: object = None, q: object = None,
                     group_id: object = None, cursor: object = None,
                     limit: object = None) -> Page:
    query = select(ServiceRequest).options(
        joinedload(ServiceRequest.reported_by), joinedload(ServiceRequest.owner),
        joinedload(ServiceRequest.owner_group))
    if not user.is_manager:
        query = query.where(sr_visible_to(user))
    if status not in (None, ""):
        query = query.where(ServiceRequest.status == _enum(SRStatus, status, "status"))
    if group_id not in (None, ""):
        query = query.where(ServiceRequest.owner_group_id == clean_id(group_id, "group_id"))
    text = clean_text(q, "q", max_length=200, required=False, multiline=False)
    if text:
        query = query.where(search.service_requests_matching(text))
    return _page(query, ServiceRequest.id, cursor, limit)


def service_request(user: User, number: object) -> ServiceRequest:
    text = clean_text(number, "number", max_length=20, multiline=False)
    query = select(ServiceRequest).where(ServiceRequest.number == text.upper())
    if not user.is_manager:
        query = query.where(sr_visible_to(user))
    sr = db.session.scalars(query).first()
    if sr is None:
        raise NotFound("not_found", f"No service request {text}.", "number")
    return sr


# --- chats -------------------------------------------------------------------------------

def _chats_visible_to(user: User):
    return or_(Chat.agent_id == user.id, Chat.queue_id.in_(
        select(group_members.c.group_id).where(group_members.c.person_id == user.person_id)))


def chats(user: User, *, status: object = None, queue_id: object = None, cursor: object = None,
          limit: object = None) -> Page:
    query = select(Chat).options(joinedload(Chat.queue), joinedload(Chat.visitor),
                                 joinedload(Chat.agent), joinedload(Chat.service_request))
    if not user.is_manager:
        query = query.where(_chats_visible_to(user))
    if status not in (None, ""):
        query = query.where(Chat.status == _enum(ChatStatus, status, "status"))
    if queue_id not in (None, ""):
        query = query.where(Chat.queue_id == clean_id(queue_id, "queue_id"))
    return _page(query, Chat.id, cursor, limit)


def chat(user: User, chat_id: object) -> Chat:
    query = select(Chat).where(Chat.id == clean_id(chat_id, "chat_id"))
    if not user.is_manager:
        query = query.where(_chats_visible_to(user))
    found = db.session.scalars(query).first()
    if found is None:
        raise NotFound("unknown_chat", "No such chat.", "chat_id")
    return found


# --- persons and queues ------------------------------------------------------------------

def _persons_visible_to(user: User):
    mine = select(group_members.c.group_id).where(group_members.c.person_id == user.person_id)
    srs = select(ServiceRequest).where(sr_visible_to(user)).subquery()
    return or_(
        Person.id == user.person_id,
        Person.id.in_(select(group_members.c.person_id).where(group_members.c.group_id.in_(mine))),
        Person.id.in_(select(srs.c.reported_by_id)),
        Person.id.in_(select(srs.c.owner_id)),
        Person.id.in_(select(Chat.visitor_id).where(_chats_visible_to(user))),
    )


def persons(user: User, *, q: object = None, cursor: object = None,
            limit: object = None) -> Page:
    query = select(Person)
    if not user.is_manager:
        query = query.where(_persons_visible_to(user))
    text = clean_text(q, "q", max_length=200, required=False, multiline=False)
    if text:
        query = query.where(search.persons_matching(text))
    return _page(query, Person.id, cursor, limit)


def person(user: User, person_id: object) -> Person:
    query = select(Person).where(Person.id == clean_id(person_id, "person_id"))
    if not user.is_manager:
        query = query.where(_persons_visible_to(user))
    found = db.session.scalars(query).first()
    if found is None:
        raise NotFound("not_found", "No such person.", "person_id")
    return found


def group(user: User, group_id: object) -> PersonGroup:
    """A person group an SR may be queued to (any group: queuing to another team is allowed)."""
    found = db.session.get(PersonGroup, clean_id(group_id, "owner_group_id"))
    if found is None:
        raise ValidationError("invalid", "Unknown person group.", "owner_group_id")
    return found


def queues(user: User) -> list[dict]:
    """The chat queues the user works in (a manager: all) with their live figures."""
    rows = stats.queues_now()
    if user.is_manager:
        return rows
    mine = set(people.agent_queue_ids(user))
    return [row for row in rows if row["id"] in mine]
