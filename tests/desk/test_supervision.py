"""Live supervision in the service layer: watch, join, write, take over."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.desk import chats, events, supervision
from app.desk.errors import Conflict, Forbidden, ValidationError
from app.extensions import db
from app.models import Chat, ChatStatus, ChatSupervisor, SenderRole


def live_chat(desk, queue="Software"):
    result = chats.request_chat(name="Eve End-User", email="eve@example.com", queue=queue,
                                question="Outlook asks for my password")
    return chats.accept_chat(result.chat.id, desk.alice)


def test_only_managers_watch_and_only_open_chats(desk):
    chat = live_chat(desk)
    assert supervision.watchable_chat(desk.maria, chat.id).id == chat.id
    with pytest.raises(Forbidden):
        supervision.watchable_chat(desk.alice, chat.id)
    chats.close_chat(chat.id, by=SenderRole.AGENT, agent=desk.alice)
    with pytest.raises(Conflict) as refused:
        supervision.watchable_chat(desk.maria, chat.id)
    assert refused.value.code == "closed"


def test_joining_tells_the_end_user_and_lets_the_manager_write(desk, published):
    chat = live_chat(desk)
    supervision.join_chat(chat.id, desk.maria)
    last = chats.history(chat.id)[-1]
    assert last["sender"]["role"] == "SYSTEM"
    assert last["body"] == "Maria Manager (supervisor) joined the chat."
    assert events.SupervisorJoined(chat.id, desk.maria.id, "Maria Manager",
                                   desk.alice.id) in published
    message, created = supervision.post_as_supervisor(chat.id, desk.maria, "I can help.", "m-1")
    assert created and message["sender"] == {"role": "AGENT", "name": "Maria Manager"}
    again, created = supervision.post_as_supervisor(chat.id, desk.maria, "I can help.", "m-1")
    assert not created and again == message
    # The agent writes on as before.
    reply, _ = chats.post_message(chat.id, chats.Sender.agent(desk.alice), "Thanks!", "a-1")
    assert [m["body"] for m in chats.history(chat.id)][-2:] == ["I can help.", "Thanks!"]
    assert reply["sender"]["name"] == "Alice Agent"


def test_joining_twice_is_one_join(desk):
    chat = live_chat(desk)
    supervision.join_chat(chat.id, desk.maria)
    count = len(chats.history(chat.id))
    supervision.join_chat(chat.id, desk.maria)
    assert len(chats.history(chat.id)) == count
    assert len(db.session.scalars(select(ChatSupervisor)).all()) == 1


def test_a_manager_who_did_not_join_cannot_write(desk):
    chat = live_chat(desk)
    with pytest.raises(Forbidden) as refused:
        supervision.post_as_supervisor(chat.id, desk.maria, "Hello", "m-1")
    assert refused.value.code == "not_joined"
    assert [m["body"] for m in chats.history(chat.id)][-1].startswith("Hello, this is Alice")


def test_join_is_refused_to_agents_and_on_closed_or_waiting_chats(desk):
    chat = live_chat(desk)
    with pytest.raises(Forbidden):
        supervision.join_chat(chat.id, desk.bob)
    waiting = chats.request_chat(name="Eve", email="eve@example.com", queue="Network",
                                 question="VPN").chat
    with pytest.raises(Conflict) as refused:
        supervision.join_chat(waiting.id, desk.maria)
    assert refused.value.code == "not_accepted"
    chats.close_chat(chat.id, by=SenderRole.VISITOR)
    with pytest.raises(Conflict) as refused:
        supervision.join_chat(chat.id, desk.maria)
    assert refused.value.code == "closed"
    assert db.session.scalars(select(ChatSupervisor)).all() == []


def test_writing_after_the_chat_closed_is_refused(desk):
    chat = live_chat(desk)
    supervision.join_chat(chat.id, desk.maria)
    chats.close_chat(chat.id, by=SenderRole.VISITOR)
    with pytest.raises(Conflict) as refused:
        supervision.post_as_supervisor(chat.id, desk.maria, "Still there?", "m-1")
    assert refused.value.code == "closed"


def test_manager_takes_a_chat_over_for_himself(desk, published):
    chat = live_chat(desk)
    taken = supervision.take_over(chat.id, desk.maria)
    assert (taken.status, taken.agent_id) == (ChatStatus.ACTIVE, desk.maria.id)
    assert taken.service_request.owner_id == desk.maria.person_id
    assert events.ChatReassigned(chat.id, desk.alice.id, desk.maria.id, "Maria Manager",
                                 "Maria Manager") in published
    assert any(isinstance(e, events.ChatAccepted) and e.agent_id == desk.maria.id
               for e in published)
    # Alice no longer writes in it.
    with pytest.raises(Forbidden):
        chats.post_message(chat.id, chats.Sender.agent(desk.alice), "Hello?", "a-9")


def test_manager_hands_a_chat_to_another_agent_of_its_queue(desk):
    chat = live_chat(desk)  # Software: alice and bob
    taken = supervision.take_over(chat.id, desk.maria, "bob")
    assert taken.agent_id == desk.bob.id
    assert [u.username for u in supervision.candidates(taken)] == ["alice", "bob"]


def test_take_over_follows_the_accept_rules(desk):
    chat = live_chat(desk, queue="Hardware")  # bob is not a Hardware agent
    with pytest.raises(Forbidden) as refused:
        supervision.take_over(chat.id, desk.maria, desk.bob.id)
    assert refused.value.code == "not_your_queue"
    db.session.rollback()
    kept = db.session.get(Chat, chat.id, populate_existing=True)
    assert (kept.status, kept.agent_id) == (ChatStatus.ACTIVE, desk.alice.id)
    with pytest.raises(ValidationError) as refused:
        supervision.take_over(chat.id, desk.maria, "alice")
    assert refused.value.code == "same_agent"
    with pytest.raises(Forbidden):
        supervision.take_over(chat.id, desk.bob, "bob")


def test_a_waiting_chat_can_be_assigned(desk):
    waiting = chats.request_chat(name="Eve", email="eve@example.com", queue="Network",
                                 question="VPN").chat
    taken = supervision.take_over(waiting.id, desk.maria, "bob")
    assert (taken.status, taken.agent_id) == (ChatStatus.ACTIVE, desk.bob.id)


def test_live_chats_list_open_chats_only(desk):
    chat = live_chat(desk)
    waiting = chats.request_chat(name="Eve", email="eve@example.com", queue="Network",
                                 question="VPN").chat
    ended = live_chat(desk)
    chats.close_chat(ended.id, by=SenderRole.VISITOR)
    assert [c.id for c in supervision.live_chats()] == [chat.id, waiting.id]


def test_the_desks_own_lines_say_what_happened_for_every_language(desk, published):
    """A join and a transfer (a hand-over: the widget's browser test): each SYSTEM line
    carries its kind and names (the widget words it in its language), in the live event and
    in the history alike; the end user's and agents' own messages carry none."""
    from app.desk import notes

    chat = live_chat(desk)
    supervision.join_chat(chat.id, desk.maria)
    notes.transfer_with_note(chat.id, desk.alice, "Network", None)
    chats.accept_chat(chat.id, desk.bob)
    lines = [m for m in chats.history(chat.id) if m["sender"]["role"] == "SYSTEM"]
    assert [m.get("notice") for m in lines] == [
        {"kind": "supervisor_joined", "name": "Maria Manager"},
        {"kind": "transferred", "agent": "Alice Agent", "queue": "Network"},
    ]
    live = [e.message for e in published if isinstance(e, events.MessagePosted)
            and e.message["sender"]["role"] == "SYSTEM"]
    assert [m["notice"]["kind"] for m in live] == ["supervisor_joined", "transferred"]
    assert all("notice" not in m for m in chats.history(chat.id)
               if m["sender"]["role"] != "SYSTEM")
