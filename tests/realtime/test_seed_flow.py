"""The seed flow over the wire: an end user (official JS client under Node) and two agents."""

from __future__ import annotations

import pytest

from tests.conftest import seeded_database
from tests.realtime.node_visitor import node_available
from tests.realtime.peers import client_id, request_chat
from tests.support.server import LiveServer

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not node_available(), reason="node and node_modules required")]


def test_end_user_and_agents_chat_from_request_to_rating(live_server, peers):
    seed_flow(live_server, peers)


def test_the_same_flow_under_gevent(tmp_path, peers):
    """gevent is the other green-thread server the stack supports (STACK-NOTES)."""
    server = LiveServer(seeded_database("sqlite", tmp_path), env={"ASYNC_MODE": "gevent"},
                        log_path=tmp_path / "server.log").start()
    try:
        seed_flow(server, peers)
    finally:
        server.stop()


def seed_flow(live_server, peers):
    alice = peers.agent(live_server, "alice")
    bob = peers.agent(live_server, "bob")
    assert alice.wait("queue_state", "/queue")["total"] == 0
    assert bob.wait("queue_state", "/queue")["total"] == 0

    made = request_chat(live_server.url, question="Outlook asks for my password <again>")
    chat_id = made["chat_id"]
    assert made["sr_number"].startswith("SR") and made["position"] == 1
    assert made["queue"]["name"] == "Software" and made["agents_online"] == 2

    # Every agent of the queue is told at once, with the counts of his own queues.
    for agent_peer in (alice, bob):
        waiting = agent_peer.wait("chat_waiting", "/queue")
        assert waiting["chat_id"] == chat_id and waiting["sr"]["number"] == made["sr_number"]
        assert waiting["end_user"] == {"name": "Erin End-User", "email": "erin@example.org",
                                       "phone": "+1 555 0199", "verified": False}
        state = agent_peer.wait("queue_state", "/queue", lambda s: s["total"] == 1)
        software = next(q for q in state["queues"] if q["name"] == "Software")
        assert software["waiting"] == 1 and software["agents_online"] == 2

    erin = peers.node_visitor(live_server, {"visitor_token": made["visitor_token"]})
    erin.wait_type("connect")
    history = erin.wait("history")
    assert history["status"] == "WAITING"
    assert [m["body"] for m in history["messages"]] == ["Outlook asks for my password <again>"]
    assert erin.wait("queue_position") == {"chat_id": chat_id, "position": 1, "agents_online": 2,
                                           "agents_available": 2}

    accepted = alice.call("accept", {"chat_id": chat_id}, "/queue")
    assert accepted["ok"] is True and accepted["chat"]["status"] == "ACTIVE"
    assert bob.wait("chat_taken", "/queue")["agent"] == "Alice Agent"
    assert bob.wait("queue_state", "/queue", lambda s: s["total"] == 0)
    assert erin.wait("agent_joined") == {"chat_id": chat_id, "agent": "Alice Agent"}
    opened = alice.wait("history", "/chat", lambda h: h["chat_id"] == chat_id)
    assert opened["chat"]["sr"]["number"] == made["sr_number"]
    greeting = erin.wait("message", lambda m: m["sender"]["role"] == "AGENT")
    assert greeting["body"].startswith("Hello, this is Alice Agent")

    # Both sides type and write; text is stored and delivered as text, time stamps in UTC.
    assert erin.call("typing", {"chat_id": chat_id, "typing": True}) == {"ok": True}
    assert alice.wait("typing", "/chat") == {"chat_id": chat_id, "role": "VISITOR",
                                             "name": "Erin End-User", "typing": True}
    sent = erin.call("send", {"chat_id": chat_id, "body": "<script>alert(1)</script>",
                              "client_id": "node-1"})
    assert sent["ok"] is True and sent["message"]["body"] == "<script>alert(1)</script>"
    assert sent["message"]["sent_at"].endswith("Z")
    seen = alice.wait("message", "/chat", lambda m: m["client_id"] == "node-1")
    assert seen == sent["message"]
    reply = alice.call("send", {"chat_id": chat_id, "body": "Let me reset it.",
                                "client_id": client_id()})
    assert erin.wait("message", lambda m: m["id"] == reply["message"]["id"])["body"] == \
        "Let me reset it."
    assert reply["message"]["sender"] == {"role": "AGENT", "name": "Alice Agent"}

    closed = alice.call("close", {"chat_id": chat_id})
    assert closed == {"ok": True, "chat_id": chat_id, "status": "CLOSED"}
    assert erin.wait("chat_closed") == {"chat_id": chat_id, "closed_by": "AGENT", "reason": None}
    assert erin.call("send", {"chat_id": chat_id, "body": "one more", "client_id": "node-2"}
                     )["error"] == "closed"
    assert erin.call("rate", {"chat_id": chat_id, "rating": 5, "comment": "Quick!"}) == {
        "ok": True, "chat_id": chat_id, "rating": 5}

    # The agent reads the whole conversation back, in order, exactly once each.
    full = alice.call("history", {"chat_id": chat_id})
    bodies = [m["body"] for m in full["messages"]]
    assert bodies[0] == "Outlook asks for my password <again>"
    assert bodies[-2:] == ["<script>alert(1)</script>", "Let me reset it."]
    assert len({m["id"] for m in full["messages"]}) == len(bodies)
