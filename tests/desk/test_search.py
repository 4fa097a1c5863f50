"""Search of SRs, chats and persons: the same answers on SQLite and PostgreSQL.

(On PostgreSQL the trigram indexes serve these searches; tests/test_query_plans.py checks
that they do.)
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.desk import chats, people, search
from app.extensions import db
from app.models import Chat, Person, ServiceRequest


def _request(name: str, email: str, question: str, phone: str | None = None):
    return chats.request_chat(name=name, email=email, phone=phone, queue="Hardware",
                              question=question)


@pytest.fixture
def srs(desk):
    """Three chat SRs of known end users and summaries."""
    opened = [
        _request("Gina Garcia", "gina@example.org", "The printer on floor 2 jams",
                 phone="+1 555 0177"),
        _request("Tom Tanaka", "tom@corp.example", "VPN drops every hour"),
        _request("Ann Adams", "ann_adams@example.org", "Need 100% disk quota"),
    ]
    return [result.sr for result in opened]


def _numbers(text: str) -> set[str]:
    return set(db.session.scalars(
        select(ServiceRequest.number).where(search.service_requests_matching(text))))


def test_an_sr_number_is_found_exactly_with_or_without_its_prefix(srs):
    first = srs[0].number  # SR1001
    assert _numbers(first) == {first}
    assert _numbers(first.lower()) == {first}
    assert _numbers(first[2:]) == {first}
    assert _numbers("SR100") == set()  # never a part of a number


def test_words_find_summaries_and_end_users_and_every_word_must_match(srs):
    gina, tom, ann = (sr.number for sr in srs)
    assert _numbers("printer") == {gina}
    assert _numbers("PRINTER") == {gina}  # case does not matter
    assert _numbers("garcia") == {gina}  # end user's name
    assert _numbers("corp.example") == {tom}  # end user's e-mail
    assert _numbers("0177") == {gina}  # end user's phone
    assert _numbers("example.org") == {gina, ann}
    assert _numbers("example.org printer") == {gina}
    assert _numbers("vpn garcia") == set()


def test_like_wildcards_in_the_search_are_plain_characters(srs):
    ann = srs[2].number
    assert _numbers("100%") == {ann}
    assert _numbers("%") == {ann}
    assert _numbers("ann_adams") == {ann}
    assert _numbers("_") == {ann}


def test_nothing_is_found_for_no_words(srs):
    assert _numbers("") == set()
    assert _numbers("   ") == set()
    assert search.words(None) == []
    assert len(search.words("a b c d e f g h")) == search.MAX_WORDS


def test_persons_and_groups_are_found_for_pickers(srs, desk):
    people.end_user("Gino Garcia", "gino@example.org", verified=True)
    db.session.commit()
    found = [p.display_name for p in search.find_persons("garc")]
    assert found == ["Gina Garcia", "Gino Garcia"]  # by name
    assert [p.display_name for p in search.find_persons("garc", limit=1, offset=1)] == [
        "Gino Garcia"]
    assert [p.display_name for p in search.find_persons("alice@example")] == ["Alice Agent"]
    assert search.find_persons("") == []
    assert [g.name for g in search.find_groups("")] == ["Hardware", "Network", "Software"]
    assert [g.name for g in search.find_groups("WARE")] == ["Hardware", "Software"]


def test_chats_are_found_through_their_sr(srs):
    gina_sr = srs[0]
    chat_ids = set(db.session.scalars(select(Chat.id).where(search.chats_matching("garcia"))))
    assert chat_ids == {c.id for c in gina_sr.chats}
    assert set(db.session.scalars(select(Chat.id).where(search.chats_matching(gina_sr.number)))
               ) == chat_ids


def test_a_word_that_finds_very_many_persons_still_finds_their_srs(srs, monkeypatch):
    monkeypatch.setattr(search, "MAX_PERSON_IDS", 1)  # "example.org" finds two persons
    gina, _, ann = (sr.number for sr in srs)
    assert _numbers("example.org") == {gina, ann}
    assert db.session.scalar(select(Person.id).where(search.persons_matching("zzz"))) is None
