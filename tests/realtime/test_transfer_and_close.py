"""Transfers, an end user withdrawing from the queue, transcripts, and what each side hears."""

from __future__ import annotations

import pytest

from tests.realtime.node_visitor import NodeVisitor, node_available
from tests.realtime.peers import client_id, request_chat

pytestmark = pytest.mark.live


def test_agent_transfers_a_live_chat_to_another_queue(server, peers):
    alice = peers.agent(server, "alice")  # Hardware, Software
    bob = peers.agent(server, "bob")      # Software, Network
    made = request_chat(server.url, email="tess@example.org")
    chat_id = made["chat_id"]
    erin = peers.visitor(server, made["visitor_token"])
    assert alice.call("accept", {"chat_id": chat_id}, "/queue")["ok"] is True
    erin.wait("agent_joined", "/chat")

    moved = alice.call("transfer", {"chat_id": chat_id, "queue": "Network"})
    assert moved["ok"] is True and moved["to_queue"]["name"] == "Network"
    told = erin.wait("chat_transferred", "/chat")
    assert told == {"chat_id": chat_id, "to_queue": moved["to_queue"]}
    assert alice.wait("chat_transferred", "/chat")["chat_id"] == chat_id
    # It waits in Network now: Bob (a Network agent) is told, the end user gets his place.
    waiting = bob.wait("chat_waiting", "/queue",
                       lambda c: c["chat_id"] == chat_id and c["queue"]["name"] == "Network")
    assert waiting["status"] == "WAITING"
    assert erin.wait("queue_position", "/chat", lambda p: p["chat_id"] == chat_id
                     )["position"] >= 1
    note = erin.wait("message", "/chat", lambda m: m["sender"]["role"] == "SYSTEM")
    assert "transferred the chat to Network" in note["body"]
    # Alice no longer owns it; Bob accepts and the conversation goes on with him.
    assert alice.call("send", {"chat_id": chat_id, "body": "still me?",
                               "client_id": client_id()})["error"] in {"not_accepted",
                                                                       "not_yours"}
    assert bob.call("accept", {"chat_id": chat_id}, "/queue")["ok"] is True
    assert erin.wait("agent_joined", "/chat")["agent"] == "Bob Builder"
    hello = bob.call("send", {"chat_id": chat_id, "body": "Network desk here.",
                              "client_id": client_id()})
    assert erin.wait("message", "/chat", lambda m: m["id"] == hello["message"]["id"])
    assert not alice.received("message", "/chat", lambda m: m["id"] == hello["message"]["id"])


def test_end_user_withdraws_while_waiting_and_asks_for_the_transcript(server, peers):
    alice = peers.agent(server, "alice")
    made = request_chat(server.url, email="wendy@example.org")
    chat_id = made["chat_id"]
    alice.wait("chat_waiting", "/queue", lambda c: c["chat_id"] == chat_id)
    erin = peers.visitor(server, made["visitor_token"])
    closed = erin.call("close", {"chat_id": chat_id})
    assert closed == {"ok": True, "chat_id": chat_id, "status": "CLOSED"}
    assert erin.call("close", {"chat_id": chat_id})["status"] == "CLOSED"  # idempotent
    left = alice.wait("chat_left", "/queue", lambda c: c["chat_id"] == chat_id)
    assert left["reason"] == "closed"
    assert erin.wait("chat_closed", "/chat")["closed_by"] == "VISITOR"
    assert alice.call("accept", {"chat_id": chat_id}, "/queue")["error"] == "not_waiting"
    assert erin.call("request_transcript", {"chat_id": chat_id}) == {"ok": True,
                                                                     "chat_id": chat_id}
    assert alice.call("request_transcript", {"chat_id": chat_id})["error"] == "forbidden"
    assert erin.call("rate", {"chat_id": chat_id, "rating": 9})["error"] == "invalid"


def test_official_js_client_sees_refusals_as_connect_error_with_data(server):
    if not node_available():
        pytest.skip("node and node_modules required")
    made = request_chat(server.url, email="js@example.org")
    forged = NodeVisitor(server.url, {"visitor_token": made["visitor_token"] + "x"})
    try:
        refusal = forged.wait_type("connect_error")
        assert refusal["data"]["error"] == "bad_token"
        assert refusal["message"] == "Invalid visitor token."
    finally:
        forged.close()
    erin = NodeVisitor(server.url, {"visitor_token": made["visitor_token"]})
    try:
        erin.wait_type("connect")
        assert erin.call("send", {"chat_id": made["chat_id"], "body": "x" * 4001,
                                  "client_id": "js-1"})["error"] == "too_long"
        assert erin.call("send", "not an object")["error"] == "invalid"
        assert erin.call("whatever", {})["error"] == "unknown_event"
        ok = erin.call("send", {"chat_id": made["chat_id"], "body": "Still connected",
                                "client_id": "js-2"})
        again = erin.call("send", {"chat_id": made["chat_id"], "body": "Still connected",
                                   "client_id": "js-2"})
        assert ok["ok"] and again["ok"] and again["duplicate"] is True
        assert again["message"]["id"] == ok["message"]["id"]
    finally:
        erin.close()
