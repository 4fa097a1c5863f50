"""Bad input to the service layer: a clear error naming the field, nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.desk import chats, people
from app.desk.chats import Sender
from app.desk.errors import DeskError
from app.extensions import db
from app.models import Chat, ChatMessage, Person, ServiceRequest


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (ServiceRequest, Chat, ChatMessage, Person))


GOOD = {"name": "Eve", "email": "eve@example.com", "phone": "+1 555 0199", "queue": "Software",
        "question": "Help"}


@pytest.mark.parametrize("override, field, code", [
    ({"name": ""}, "name", "required"),
    ({"name": "x" * 121}, "name", "too_long"),
    ({"name": 42}, "name", "invalid"),
    ({"email": "not-an-address"}, "email", "invalid"),
    ({"email": None}, "email", "required"),
    ({"phone": "<script>"}, "phone", "invalid"),
    ({"queue": "Payroll"}, "queue", "unknown_queue"),
    ({"queue": None}, "queue", "unknown_queue"),
    ({"queue": ["Software"]}, "queue", "unknown_queue"),
    ({"question": "   "}, "question", "required"),
    ({"question": "x" * 4001}, "question", "too_long"),
])
def test_chat_request_refuses_bad_input(desk, override, field, code):
    before = counts()
    with pytest.raises(DeskError) as err:
        chats.request_chat(**{**GOOD, **override})
    assert (err.value.field, err.value.code) == (field, code)
    db.session.rollback()
    assert counts() == before


def test_a_person_group_that_is_not_a_chat_queue_is_unknown(desk):
    from app.models import PersonGroup

    db.session.add(PersonGroup(name="Payroll", is_chat_queue=False))
    db.session.commit()
    with pytest.raises(DeskError) as err:
        chats.request_chat(**{**GOOD, "queue": "Payroll"})
    assert err.value.code == "unknown_queue"


@pytest.mark.parametrize("body, client_id, field, code", [
    ("", "c1", "body", "empty"),
    ("   \n ", "c1", "body", "empty"),
    ("x" * 4001, "c1", "body", "too_long"),
    (None, "c1", "body", "invalid"),
    ({"html": 1}, "c1", "body", "invalid"),
    ("hello", "", "client_id", "invalid"),
    ("hello", "c" * 65, "client_id", "invalid"),
    ("hello", 7, "client_id", "invalid"),
])
def test_message_refuses_bad_input(desk, body, client_id, field, code):
    chat = chats.accept_chat(chats.request_chat(**GOOD).chat.id, desk.alice)
    before = counts()
    with pytest.raises(DeskError) as err:
        chats.post_message(chat.id, Sender.visitor(chat), body, client_id)
    assert (err.value.field, err.value.code) == (field, code)
    assert counts() == before


def test_message_at_the_limit_is_accepted(desk):
    chat = chats.accept_chat(chats.request_chat(**GOOD).chat.id, desk.alice)
    message, created = chats.post_message(chat.id, Sender.visitor(chat), "y" * 4000, "c1")
    assert created and len(message["body"]) == 4000


@pytest.mark.parametrize("chat_id", [None, "abc", -1, 0, True, "1; drop table chat", 10**9])
def test_malformed_or_unknown_chat_ids(desk, chat_id):
    with pytest.raises(DeskError) as err:
        chats.accept_chat(chat_id, desk.alice)
    assert err.value.field == "chat_id"


def test_create_user_validates_and_refuses_duplicates(desk):
    with pytest.raises(DeskError) as err:
        people.create_user("alice", "a long secret", display_name="Another Alice")
    assert (err.value.field, err.value.code) == ("username", "duplicate")
    with pytest.raises(DeskError) as err:
        people.create_user("new user!", "a long secret", display_name="X")
    assert err.value.field == "username"
    with pytest.raises(DeskError) as err:
        people.create_user("carol", "pw", display_name="Carol")
    assert err.value.field == "password"


def test_authenticate(desk):
    assert people.authenticate("alice", "demo").username == "alice"
    assert people.authenticate("ALICE", "demo").username == "alice"
    assert people.authenticate("alice", "wrong") is None
    assert people.authenticate("nobody", "demo") is None
    assert people.authenticate(None, None) is None
    desk.bob.is_enabled = False
    db.session.commit()
    assert people.authenticate("bob", "demo") is None
