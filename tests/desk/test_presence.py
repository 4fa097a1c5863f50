"""Presence: live server processes, their agents and end users, and what a dead one leaves."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.desk import chats, events, presence
from app.extensions import db
from app.models import AgentPresence, Chat, ChatStatus, ServerNode, utcnow


def _ask(n: int = 1):
    return chats.request_chat(name=f"Visitor {n}", email=f"v{n}@example.com",
                              queue="Software", question=f"Question {n}").chat


def _silent_since(node: str, seconds: float):
    """The node's last heartbeat was `seconds` ago; returns that moment."""
    moment = utcnow() - timedelta(seconds=seconds)
    db.session.execute(update(ServerNode).where(ServerNode.node == node)
                       .values(last_seen_at=moment))
    db.session.execute(update(AgentPresence).where(AgentPresence.node == node)
                       .values(last_seen_at=moment))
    db.session.commit()
    return moment


def _chat(chat_id: int) -> Chat:
    return db.session.get(Chat, chat_id, populate_existing=True)


def test_a_node_is_new_once_then_known(desk):
    assert presence.heartbeat("node-a") is False
    assert presence.heartbeat("node-a") is True
    assert db.session.scalar(select(ServerNode.node)) == "node-a"


def test_a_dead_node_lets_go_of_its_agents_and_waiting_end_users_once(desk, published):
    presence.heartbeat("node-a")
    presence.heartbeat("node-b")
    on_a, on_b = _ask(1), _ask(2)
    presence.visitor_connected(on_a.id, "node-a")
    presence.visitor_connected(on_b.id, "node-b")
    presence.agent_connected("sid-alice", desk.alice, "node-a")
    presence.agent_connected("sid-bob", desk.bob, "node-b")
    assert chats.agents_online(desk.software.id) == 2
    died = _silent_since("node-a", 10)
    published.clear()

    assert presence.purge_dead_nodes(6) == ["node-a"]

    assert chats.agents_online(desk.software.id) == 1  # bob, on the live node
    # Gone since A's last heartbeat, exactly as if his socket had closed then...
    assert _chat(on_a.id).visitor_left_at == died
    assert _chat(on_b.id).visitor_left_at is None
    # ... so the usual grace applies: abandoned once it has passed, not before.
    assert chats.abandon_expired(grace_seconds=60) == []
    assert chats.abandon_expired(grace_seconds=5) == [on_a.id]
    assert events.ServerNodesGone(("node-a",), crashed=True) in published
    changed = [e for e in published if isinstance(e, events.PresenceChanged)]
    assert changed and desk.software.id in changed[0].queue_ids
    assert changed[0].user_ids == (desk.alice.id,)
    # Another sweeper arriving later finds nothing left to do.
    published.clear()
    assert presence.purge_dead_nodes(6) == []
    assert published == []


def test_an_end_user_who_moved_to_a_live_node_is_not_let_go(desk):
    presence.heartbeat("node-a")
    presence.heartbeat("node-b")
    chat = _ask()
    presence.visitor_connected(chat.id, "node-a")
    presence.visitor_connected(chat.id, "node-b")  # reconnected elsewhere
    presence.visitor_left(chat.id, "node-a")  # the old socket's late disconnect: ignored
    assert _chat(chat.id).visitor_left_at is None
    _silent_since("node-a", 10)
    presence.purge_dead_nodes(6)
    assert _chat(chat.id).visitor_left_at is None
    assert chats.abandon_expired(grace_seconds=0) == []


def test_the_node_holding_the_end_user_notes_him_gone_when_his_socket_closes(desk):
    chat = _ask()
    presence.visitor_connected(chat.id, "node-a")
    presence.visitor_left(chat.id, "node-a")
    assert _chat(chat.id).visitor_left_at is not None


def test_a_live_socket_corrects_what_another_node_noted(desk):
    chat = _ask()
    presence.visitor_connected(chat.id, "node-a")
    presence.visitor_left(chat.id, "node-a")
    assert presence.visitors_still_here([chat.id], "node-b") == 1
    row = _chat(chat.id)
    assert (row.visitor_left_at, row.visitor_node) == (None, "node-b")
    assert presence.visitors_still_here([chat.id], "node-b") == 0  # nothing to change


def test_a_clean_stop_lets_go_at_once(desk, published):
    presence.heartbeat("node-a")
    chat = _ask()
    presence.visitor_connected(chat.id, "node-a")
    presence.agent_connected("sid-alice", desk.alice, "node-a")
    published.clear()

    presence.node_stopped("node-a")

    assert chats.agents_online(desk.software.id) == 0
    assert _chat(chat.id).visitor_left_at is not None
    assert _chat(chat.id).status == ChatStatus.WAITING  # until the grace has passed
    assert db.session.scalar(select(ServerNode.node)) is None
    assert events.ServerNodesGone(("node-a",), crashed=False) in published


def test_a_node_declared_dead_while_frozen_registers_again(desk):
    presence.heartbeat("node-a")
    presence.agent_connected("sid-alice", desk.alice, "node-a")
    _silent_since("node-a", 10)
    presence.purge_dead_nodes(6)
    assert chats.agents_online(desk.software.id) == 0
    assert presence.heartbeat("node-a") is False  # the caller registers its sockets again
    presence.agent_connected("sid-alice", desk.alice, "node-a")
    assert chats.agents_online(desk.software.id) == 1
