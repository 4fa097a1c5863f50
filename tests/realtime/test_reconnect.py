"""Dropped connections: only the missed messages come back; an end user is not dropped from
the queue at the first lost connection, only after the grace period; idle chats close."""

from __future__ import annotations

import time

from tests.realtime.peers import client_id, request_chat


def open_chat(server, peers, email="rita@example.org"):
    alice = peers.agent(server, "alice")
    made = request_chat(server.url, email=email)
    erin = peers.visitor(server, made["visitor_token"])
    assert alice.call("accept", {"chat_id": made["chat_id"]}, "/queue")["ok"] is True
    erin.wait("agent_joined", "/chat")
    return made, alice, erin


def say(peer, chat_id, body):
    reply = peer.call("send", {"chat_id": chat_id, "body": body, "client_id": client_id()})
    assert reply["ok"] is True, reply
    return reply["message"]


def test_end_user_reconnecting_gets_only_the_missed_messages(server, peers):
    made, alice, erin = open_chat(server, peers)
    chat_id = made["chat_id"]
    say(erin, chat_id, "It says my password expired.")
    seen = say(alice, chat_id, "Which application?")
    erin.wait("message", "/chat", lambda m: m["id"] == seen["id"])
    erin.disconnect()
    missed = [say(alice, chat_id, "Are you still there?"), say(alice, chat_id, "I reset it.")]

    back = peers.visitor(server, made["visitor_token"], last_message_id=seen["id"])
    history = back.wait("history", "/chat")
    assert history["status"] == "ACTIVE" and history["agent"] == "Alice Agent"
    assert history["messages"] == missed
    assert back.call("history", {"chat_id": chat_id, "after_id": seen["id"]})["messages"] == missed
    # Without a cursor, the whole conversation in order.
    everything = peers.visitor(server, made["visitor_token"]).wait("history", "/chat")
    assert [m["body"] for m in everything["messages"]][-4:] == [
        "It says my password expired.", "Which application?", "Are you still there?",
        "I reset it."]


def test_agent_reconnecting_gets_his_live_chats_with_only_the_missed_messages(server, peers):
    made, alice, erin = open_chat(server, peers, email="remy@example.org")
    chat_id = made["chat_id"]
    last = say(alice, chat_id, "One moment please.")
    alice.disconnect()
    missed = say(erin, chat_id, "Sure, take your time.")
    again = peers.agent(server, "alice", namespaces=("/chat",),
                        auth={"last_message_ids": {str(chat_id): last["id"]}})
    history = again.wait("history", "/chat", lambda h: h["chat_id"] == chat_id)
    assert history["messages"] == [missed]
    assert history["chat"]["end_user"]["email"] == "remy@example.org"
    assert history["chat"]["sr"]["number"] == made["sr_number"]


def test_waiting_end_user_is_abandoned_only_after_the_grace_period(quick_timers_server, peers):
    server = quick_timers_server  # CHAT_ABANDON_GRACE=3
    alice = peers.agent(server, "alice")
    made = request_chat(server.url, email="gina@example.org")
    chat_id = made["chat_id"]

    def still_waiting():
        chats = alice.call("waiting_list", {}, "/queue")["chats"]
        return any(c["chat_id"] == chat_id for c in chats)

    tab1 = peers.visitor(server, made["visitor_token"])
    tab2 = peers.visitor(server, made["visitor_token"])
    tab1.disconnect()  # another tab is still open: not gone
    time.sleep(4.5)
    assert still_waiting()
    tab2.disconnect()  # gone ... and back within the grace period
    time.sleep(1)
    tab3 = peers.visitor(server, made["visitor_token"])
    assert tab3.wait("queue_position", "/chat")["chat_id"] == chat_id
    time.sleep(4.5)
    assert still_waiting()
    assert not alice.received("chat_left", "/queue", lambda c: c["chat_id"] == chat_id)

    tab3.disconnect()  # gone for good
    left = alice.wait("chat_left", "/queue", lambda c: c["chat_id"] == chat_id, timeout=15)
    assert left["reason"] == "abandoned"
    assert not still_waiting()
    late = peers.visitor(server, made["visitor_token"]).wait("history", "/chat")
    assert late["status"] == "ABANDONED"


def test_idle_chat_is_closed_by_the_system_and_both_sides_told(quick_timers_server, peers):
    made, alice, erin = open_chat(quick_timers_server, peers, email="ida@example.org")
    # CHAT_IDLE_TIMEOUT=4: nobody writes.
    closed = erin.wait("chat_closed", "/chat", timeout=20)
    assert closed["chat_id"] == made["chat_id"] and closed["closed_by"] == "SYSTEM"
    assert "without messages" in closed["reason"]
    assert alice.wait("chat_closed", "/chat", lambda c: c["chat_id"] == made["chat_id"]
                      )["closed_by"] == "SYSTEM"
    assert erin.call("send", {"chat_id": made["chat_id"], "body": "hello?",
                              "client_id": client_id()})["error"] == "closed"
