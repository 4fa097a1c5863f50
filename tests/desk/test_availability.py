"""Agent status (available / away / offline) and capacity: who can take a chat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from app.desk import availability, chats, events, presence
from app.desk.errors import DeskError
from app.extensions import db
from app.models import AgentPresence, Chat, ChatStatus, SenderRole, ServerNode, User, utcnow
from tests.desk.test_concurrency import run_at_once


def ask(n: int, queue: str = "Software"):
    return chats.request_chat(name=f"Visitor {n}", email=f"v{n}@example.com", queue=queue,
                              question=f"Question {n}").chat


def fresh(user: User) -> User:
    return db.session.get(User, user.id, populate_existing=True)


def status_of(user: User) -> str:
    return availability.shown_status(fresh(user))


def software_state(user: User) -> dict:
    return next(q for q in chats.queue_state(fresh(user))["queues"] if q["name"] == "Software")


@pytest.fixture
def online(desk):
    """alice and bob each have a console open on one node."""
    presence.heartbeat("node-a")
    presence.agent_connected("sid-alice", desk.alice, "node-a")
    presence.agent_connected("sid-bob", desk.bob, "node-a")
    return desk


def test_status_is_kept_on_the_account_and_offline_follows_the_last_console(online, app):
    desk = online
    assert status_of(desk.alice) == "available"
    availability.set_status(desk.alice, "away")
    assert status_of(desk.alice) == "away"

    presence.agent_disconnected("sid-alice")  # a reload: within the grace he is still here
    assert status_of(desk.alice) == "away"
    presence.agent_connected("sid-alice-2", desk.alice, "node-a")
    assert fresh(desk.alice).console_closed_at is None

    presence.agent_disconnected("sid-alice-2")
    assert availability.end_offline_grace(grace_seconds=60) == []
    assert status_of(desk.alice) == "away"
    assert availability.end_offline_grace(grace_seconds=0) == [desk.alice.id]
    assert status_of(desk.alice) == "offline"

    presence.agent_connected("sid-alice-3", desk.alice, "node-a")  # next morning
    assert status_of(desk.alice) == "away"  # what he chose holds


def test_without_a_grace_closing_the_last_console_is_offline_at_once(online, app, published):
    app.config["AGENT_OFFLINE_GRACE"] = 0
    presence.agent_disconnected("sid-bob")
    assert status_of(online.bob) == "offline"
    told = [e for e in published if isinstance(e, events.AgentStatusChanged)]
    assert told[-1].user_id == online.bob.id and told[-1].status == "offline"


def test_agents_of_a_dead_server_process_are_offline(online):
    presence.heartbeat("node-b")
    presence.agent_connected("sid-bob-b", online.bob, "node-b")
    presence.agent_disconnected("sid-bob")  # bob now only on node B
    stale = utcnow() - timedelta(seconds=30)
    db.session.execute(update(ServerNode).where(ServerNode.node == "node-b")
                       .values(last_seen_at=stale))
    db.session.execute(update(AgentPresence).where(AgentPresence.node == "node-b")
                       .values(last_seen_at=stale))
    db.session.commit()

    assert presence.purge_dead_nodes(6) == ["node-b"]

    assert status_of(online.bob) == "offline"
    assert status_of(online.alice) == "available"
    assert software_state(online.alice)["agents_available"] == 1


@pytest.mark.parametrize("bad", ["busy", "", "AVAILABLE", "offline", None, 1, ["away"]])
def test_unknown_status_is_refused_and_changes_nothing(online, bad):
    with pytest.raises(DeskError) as refused:
        availability.set_status(online.alice, bad)
    assert refused.value.code == "unknown_status" and refused.value.field == "status"
    assert status_of(online.alice) == "available"


def test_agents_available_count_available_agents_with_a_free_seat(online, app):
    desk = online
    app.config["CHAT_MAX_PER_AGENT"] = 2
    assert software_state(desk.alice)["agents_available"] == 2
    made = chats.request_chat(name="Erin", email="erin@example.com", queue="Software",
                              question="Printer?")
    assert made.agents_available == 2

    availability.set_status(desk.bob, "away")
    assert software_state(desk.alice)["agents_available"] == 1
    assert software_state(desk.alice)["agents_online"] == 2  # away is still online

    availability.set_max_chats(desk.alice.id, 1)
    chats.accept_chat(made.chat.id, fresh(desk.alice))  # alice is now full
    state = chats.queue_state(fresh(desk.alice))
    assert state["agent"] == {"status": "available", "since": state["agent"]["since"],
                              "reason": None, "active_chats": 1, "max_chats": 1}
    assert software_state(desk.alice)["agents_available"] == 0
    assert ask(2).id and availability.agents_available(desk.software.id) == 0

    chats.close_chat(made.chat.id, by=SenderRole.AGENT, agent=fresh(desk.alice))
    assert software_state(desk.alice)["agents_available"] == 1


def test_accept_past_capacity_is_refused_and_the_chat_keeps_waiting(online, app):
    desk = online
    app.config["CHAT_MAX_PER_AGENT"] = 2
    first, second, third = ask(1), ask(2), ask(3)
    chats.accept_chat(first.id, fresh(desk.alice))
    chats.accept_chat(second.id, fresh(desk.alice))

    with pytest.raises(DeskError) as refused:
        chats.accept_chat(third.id, fresh(desk.alice))

    assert refused.value.code == "at_capacity"
    assert "2 of 2 chats" in refused.value.message
    assert db.session.get(Chat, third.id, populate_existing=True).status == ChatStatus.WAITING
    chats.close_chat(first.id, by=SenderRole.AGENT, agent=fresh(desk.alice))
    assert chats.accept_chat(third.id, fresh(desk.alice)).agent_id == desk.alice.id


def test_own_max_chats_overrides_the_default(online, app):
    app.config["CHAT_MAX_PER_AGENT"] = 1
    availability.set_max_chats(online.bob.id, "3")
    for n in range(3):
        chats.accept_chat(ask(n).id, fresh(online.bob))
    with pytest.raises(DeskError) as refused:
        chats.accept_chat(ask(9).id, fresh(online.bob))
    assert refused.value.code == "at_capacity"


@pytest.mark.parametrize("bad", [-1, 0, 21, 10_000, "many", "2.5", True, 3.0])
def test_negative_or_absurd_max_chats_is_refused_and_changes_nothing(online, bad):
    availability.set_max_chats(online.alice.id, 4)
    with pytest.raises(DeskError) as refused:
        availability.set_max_chats(online.alice.id, bad)
    assert refused.value.code in {"invalid", "out_of_range"}
    assert refused.value.field == "max_chats"
    db.session.rollback()
    assert fresh(online.alice).max_chats == 4
    availability.set_max_chats(online.alice.id, "")  # back to the default
    assert fresh(online.alice).max_chats is None


def test_two_accepts_at_once_never_pass_the_agents_capacity(app, online, database_url):
    """The last free seat goes to one of two chats accepted at the same moment."""
    app.config["CHAT_MAX_PER_AGENT"] = 1
    rounds = 20 if database_url.startswith("postgresql") else 8
    alice_id = online.alice.id

    def accept(chat_id):
        return lambda: chats.accept_chat(chat_id, db.session.get(User, alice_id)).id

    for n in range(rounds):
        one, other = ask(2 * n).id, ask(2 * n + 1).id
        db.session.remove()
        results = run_at_once(app, accept(one), accept(other))
        won = [r for r in results if isinstance(r, int)]
        assert len(won) == 1, results
        assert [r.code for r in results if isinstance(r, DeskError)] == ["at_capacity"]
        chats.close_chat(won[0], by=SenderRole.AGENT, agent=db.session.get(User, alice_id))


def test_a_chat_handed_to_an_agent_at_capacity_is_refused_and_stays(online, app):
    from app.desk import handover

    desk = online
    app.config["CHAT_MAX_PER_AGENT"] = 1
    mine, bobs = ask(1), ask(2)
    chats.accept_chat(mine.id, fresh(desk.alice))
    chats.accept_chat(bobs.id, fresh(desk.bob))  # bob is full

    with pytest.raises(DeskError) as refused:
        handover.hand_over(mine.id, fresh(desk.alice), "bob")
    assert refused.value.code == "at_capacity"
    db.session.rollback()
    assert db.session.get(Chat, mine.id, populate_existing=True).agent_id == desk.alice.id

    chats.close_chat(bobs.id, by=SenderRole.AGENT, agent=fresh(desk.bob))
    moved = handover.hand_over(mine.id, fresh(desk.alice), "bob")
    assert (moved.agent_id, moved.status) == (desk.bob.id, ChatStatus.ACTIVE)
    assert moved.service_request.owner_id == desk.bob.person_id


def test_a_chat_is_handed_only_to_an_available_agent_of_its_queue(online):
    from app.desk import handover

    desk = online
    chat = ask(1)
    chats.accept_chat(chat.id, fresh(desk.alice))
    availability.set_status(desk.bob, "away")
    cases = [("bob", "not_available"), ("maria", "not_your_queue"), ("nobody", "unknown_agent"),
             ("alice", "same_agent")]
    for target, code in cases:
        with pytest.raises(DeskError) as refused:
            handover.hand_over(chat.id, fresh(desk.alice), target)
        assert refused.value.code == code, target
        db.session.rollback()
    with pytest.raises(DeskError) as refused:  # only the chat's agent hands it over
        handover.hand_over(chat.id, fresh(desk.bob), "alice")
    assert refused.value.code == "not_yours"


def test_a_hand_over_offers_exactly_the_agents_who_could_take_the_chat_now(online, app):
    from app.desk import handover

    desk = online
    app.config["CHAT_MAX_PER_AGENT"] = 2
    chat, other = ask(1), ask(2)
    chats.accept_chat(chat.id, fresh(desk.alice))
    names = lambda: [(row["name"], row["active_chats"], row["max_chats"])  # noqa: E731
                     for row in handover.candidates(chat.id, fresh(desk.alice))]
    assert names() == [("Bob Builder", 0, 2)]  # not alice herself, not maria (not Software)
    chats.accept_chat(other.id, fresh(desk.bob))
    assert names() == [("Bob Builder", 1, 2)]  # one seat left
    app.config["CHAT_MAX_PER_AGENT"] = 1
    assert names() == []  # full
    app.config["CHAT_MAX_PER_AGENT"] = 2
    availability.set_status(fresh(desk.bob), "away")
    assert names() == []  # away
    # Only the chat's agent may ask, and only while it is live.
    with pytest.raises(DeskError) as refused:
        handover.candidates(chat.id, fresh(desk.bob))
    assert refused.value.code == "not_yours"
    with pytest.raises(DeskError) as unknown:
        handover.candidates("x", fresh(desk.alice))
    assert unknown.value.code == "invalid"
