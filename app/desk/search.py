"""Search that stays fast on a desk with years of data: SRs, chats and persons.

Callers (the admin's lists and pickers) add these SQL conditions to their own queries. Text
is matched as ``ILIKE '%word%'`` per word, every word must match somewhere: on PostgreSQL the
trigram (pg_trgm) indexes of SR summaries and of persons' names, addresses and phone numbers
serve it, and an SR number is found exactly through its unique index. SQLite gives the same
answers by reading the tables, which the desks it serves can afford.

The conditions are written so that PostgreSQL can choose, from its estimates, between the
indexes that find few matches and reading the newest SRs first when matches are frequent:
an OR of conditions on the SR's own columns, never an OR across a join.
"""

from __future__ import annotations

import re

from sqlalchemy import and_, false, or_, select
from sqlalchemy.sql.elements import ColumnElement

from app.desk.requests import NUMBER_OFFSET
from app.extensions import db
from app.models import Chat, Person, PersonGroup, ServiceRequest

MAX_WORDS = 5
MAX_PERSON_IDS = 1000
MAX_WORD_LENGTH = 60
# "SR1234", "sr1234" or "1234": a number is looked up exactly.
SR_NUMBER = re.compile(r"^(?:sr)?(\d{1,9})$", re.IGNORECASE)


def words(text: object) -> list[str]:
    """The words of a search box, at most MAX_WORDS of at most MAX_WORD_LENGTH characters."""
    if not isinstance(text, str):
        return []
    return [word[:MAX_WORD_LENGTH] for word in text.split()[:MAX_WORDS]]


def _pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(column, word: str) -> ColumnElement[bool]:
    return column.ilike(_pattern(word), escape="\\")


# --- persons ---------------------------------------------------------------------------------

def person_matches(word: str) -> ColumnElement[bool]:
    """The person's name, e-mail address or phone number contains the word."""
    return or_(_contains(Person.display_name, word), _contains(Person.email, word),
               _contains(Person.phone, word))


def persons_matching(text: object) -> ColumnElement[bool]:
    """Every word of `text` is in the person's name, address or phone number."""
    found = words(text)
    return and_(*[person_matches(word) for word in found]) if found else false()


def find_persons(text: object, *, limit: int = 10, offset: int = 0) -> list[Person]:
    """Persons for a picker, by name."""
    return list(db.session.scalars(
        select(Person).where(persons_matching(text))
        .order_by(Person.display_name, Person.id).offset(offset).limit(limit)))


def find_groups(text: object, *, limit: int = 10, offset: int = 0) -> list[PersonGroup]:
    """Person groups for a picker, by name (all of them, page by page, for no text)."""
    query = select(PersonGroup)
    for word in words(text):
        query = query.where(_contains(PersonGroup.name, word))
    return list(db.session.scalars(
        query.order_by(PersonGroup.name).offset(offset).limit(limit)))


# --- service requests and chats ----------------------------------------------------------------

def sr_number(word: str) -> str | None:
    """The SR number a word names ("SR1234", "sr1234", "1234"), or None."""
    match = SR_NUMBER.match(word)
    if match is None or int(match.group(1)) <= NUMBER_OFFSET:
        return None
    return f"SR{int(match.group(1))}"


def _reported_by(word: str) -> ColumnElement[bool]:
    """The SR's end user is a person the word finds.

    The persons are looked up first: a list of ids lets PostgreSQL use the SR table's index
    on reported_by_id (and estimate how many SRs match). When the word finds very many
    persons a sub-select is used instead; those SRs are frequent enough to be found by
    reading the newest first.
    """
    persons = select(Person.id).where(person_matches(word))
    ids = list(db.session.scalars(persons.limit(MAX_PERSON_IDS + 1)))
    if len(ids) > MAX_PERSON_IDS:
        return ServiceRequest.reported_by_id.in_(persons)
    return ServiceRequest.reported_by_id.in_(ids) if ids else false()


def _sr_matches(word: str) -> ColumnElement[bool]:
    """The SR's number is the word, or its summary or its end user contains it."""
    number = sr_number(word)
    if number is not None and not word.isdigit():
        return ServiceRequest.number == number  # "SR1234" is a number, never a summary word
    arms = [_contains(ServiceRequest.summary, word), _reported_by(word)]
    if number is not None:
        arms.append(ServiceRequest.number == number)
    return or_(*arms)


def service_requests_matching(text: object) -> ColumnElement[bool]:
    """Every word of `text` finds the SR: its number, a word of its summary, or its end user
    (name, e-mail address, phone number)."""
    found = words(text)
    return and_(*[_sr_matches(word) for word in found]) if found else false()


def chats_matching(text: object) -> ColumnElement[bool]:
    """Chats whose SR the text finds (the SR's summary is the chat's first line; its end
    user is the chat's)."""
    return Chat.service_request.has(service_requests_matching(text))
