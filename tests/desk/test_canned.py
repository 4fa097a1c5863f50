"""Canned responses: placeholders, shortcuts, language variants, who keeps which."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.desk import canned, chats
from app.desk.errors import Conflict, Forbidden, ValidationError
from app.extensions import db
from app.models import CannedResponse


def ask(language=None, queue="Software"):
    return chats.request_chat(name="Eve End-User", email="eve@example.com", queue=queue,
                              question="My password expired",
                              context={"language": language} if language else None)


def queue_response(desk, shortcut="reset", body="Hi {end_user_name}, {agent_name} here.",
                   language="", queue=None):
    return canned.save_response(desk.maria, queue=queue or desk.software.id, title="Reset",
                                shortcut=shortcut, body=body, language=language)


def count() -> int:
    return db.session.scalar(select(func.count(CannedResponse.id)))


def test_placeholders_are_filled_in_for_the_chat(desk):
    queue_response(desk, body="Hello {end_user_name}, I am {agent_name} of {queue}; your "
                              "request is {sr_number}. Braces: {{ok}}.")
    chat = chats.accept_chat(ask().chat.id, desk.alice)
    [offered] = canned.for_chat(chat, desk.alice)
    assert offered["shortcut"] == "reset"
    assert offered["scope"] == "queue"
    assert offered["text"] == (f"Hello Eve End-User, I am Alice Agent of Software; your "
                               f"request is {chat.service_request.number}. Braces: {{ok}}.")


@pytest.mark.parametrize("body, named", [
    ("Hi {customer}!", "{customer}"),
    ("Hi {end_user_name} and {ticket} and {0}", "{ticket}, {0}"),
    ("Hi {agent_name!r}", "{agent_name!r}"),
])
def test_unknown_placeholder_is_refused_naming_it(desk, body, named):
    with pytest.raises(ValidationError) as refused:
        queue_response(desk, body=body)
    assert refused.value.code == "unknown_placeholder"
    assert named in refused.value.message
    assert refused.value.field == "body"
    assert count() == 0


def test_a_lone_brace_is_refused(desk):
    with pytest.raises(ValidationError) as refused:
        queue_response(desk, body="Hi {end_user_name")
    assert refused.value.code == "bad_placeholder"
    assert count() == 0


def test_colliding_shortcut_is_refused_per_queue_and_language(desk):
    queue_response(desk, shortcut="reset")
    with pytest.raises(Conflict) as refused:
        queue_response(desk, shortcut="/Reset")  # the same once cleaned
    assert refused.value.code == "shortcut_taken"
    assert "/reset" in refused.value.message
    # Another queue, another language, or an agent's own: no collision.
    queue_response(desk, shortcut="reset", queue=desk.hardware.id)
    queue_response(desk, shortcut="reset", language="de")
    canned.save_response(desk.alice, title="Mine", shortcut="reset", body="My way")
    assert count() == 4


def test_changing_a_response_to_a_taken_shortcut_is_refused(desk):
    queue_response(desk, shortcut="reset")
    other = queue_response(desk, shortcut="vpn")
    with pytest.raises(Conflict):
        canned.save_response(desk.maria, response_id=other.id, queue=desk.software.id,
                             title="VPN", shortcut="reset", body="x")
    db.session.rollback()
    assert db.session.get(CannedResponse, other.id).shortcut == "vpn"


@pytest.mark.parametrize("field, value", [("shortcut", "two words"), ("shortcut", ""),
                                          ("language", "german"), ("title", ""),
                                          ("body", "")])
def test_bad_fields_are_refused(desk, field, value):
    values = {"title": "T", "shortcut": "ok", "body": "B", "language": ""} | {field: value}
    with pytest.raises(ValidationError) as refused:
        canned.save_response(desk.alice, **values)
    assert refused.value.field == field
    assert count() == 0


def test_the_chat_language_picks_the_variant_else_the_default(desk):
    queue_response(desk, body="Hello {end_user_name}")
    queue_response(desk, body="Hallo {end_user_name}", language="de")
    german = chats.accept_chat(ask("de-AT").chat.id, desk.alice)
    french = chats.accept_chat(ask("fr").chat.id, desk.alice)
    unknown = chats.accept_chat(ask().chat.id, desk.bob)
    assert [r["text"] for r in canned.for_chat(german, desk.alice)] == ["Hallo Eve End-User"]
    assert [r["text"] for r in canned.for_chat(french, desk.alice)] == ["Hello Eve End-User"]
    assert [r["text"] for r in canned.for_chat(unknown, desk.bob)] == ["Hello Eve End-User"]


def test_a_queue_offers_its_own_and_the_agents_own_responses_only(desk):
    queue_response(desk, shortcut="soft", body="Software answer")
    queue_response(desk, shortcut="hard", body="Hardware answer", queue=desk.hardware.id)
    canned.save_response(desk.alice, title="Alice", shortcut="sign", body="Alice, {queue}")
    canned.save_response(desk.bob, title="Bob", shortcut="bob", body="Bob")
    chat = chats.accept_chat(ask().chat.id, desk.alice)
    offered = {r["shortcut"]: (r["scope"], r["text"]) for r in canned.for_chat(chat, desk.alice)}
    assert offered == {"soft": ("queue", "Software answer"), "sign": ("mine", "Alice, Software")}


def test_an_agents_own_response_hides_the_queues_of_the_same_shortcut(desk):
    queue_response(desk, shortcut="bye", body="Queue goodbye")
    canned.save_response(desk.alice, title="Bye", shortcut="bye", body="Alice's goodbye")
    chat = chats.accept_chat(ask().chat.id, desk.alice)
    assert [r["text"] for r in canned.for_chat(chat, desk.alice)] == ["Alice's goodbye"]


def test_only_managers_keep_queue_responses_and_only_owners_their_own(desk):
    with pytest.raises(Forbidden):
        canned.save_response(desk.alice, queue=desk.software.id, title="T", shortcut="x",
                             body="B")
    mine = canned.save_response(desk.alice, title="T", shortcut="x", body="B")
    with pytest.raises(Forbidden):
        canned.save_response(desk.bob, response_id=mine.id, title="T", shortcut="y",
                             body="Bob was here")
    with pytest.raises(Forbidden):
        canned.delete_response(desk.bob, mine.id)
    db.session.rollback()
    assert db.session.get(CannedResponse, mine.id).body == "B"
    canned.delete_response(desk.alice, mine.id)
    assert count() == 0


def test_fill_matches_the_preview_rules():
    assert canned.fill("{{x}} {queue}", {"queue": "Q"}) == "{x} Q"
