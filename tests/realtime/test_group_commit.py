"""Messages that arrive at once share a transaction on the server (group commit); over the
wire every one is still acknowledged after it is stored, reaches the agent once and in order,
and the author's socket gets it only in its acknowledgement."""

from __future__ import annotations

import threading

from tests.realtime.peers import TIMEOUT, client_id, request_chat

MESSAGES = 8


def emit_all(peer, chat_id: int, bodies: list[str]) -> tuple[list[str], threading.Event, list]:
    """Send every body without waiting in between; the acknowledgements arrive later."""
    acks: list = [None] * len(bodies)
    ids = [client_id() for _ in bodies]
    done = threading.Event()
    lock = threading.Lock()

    def on_ack(index):
        def callback(reply):
            with lock:
                acks[index] = reply
                if all(a is not None for a in acks):
                    done.set()
        return callback

    for index, body in enumerate(bodies):
        peer.sio.emit("send", {"chat_id": chat_id, "body": body, "client_id": ids[index]},
                      namespace="/chat", callback=on_ack(index))
    return ids, done, acks


def accepted_chat_with_two_tabs(server, peers, agent, email):
    """A chat the agent accepted, its end user in two tabs: (chat id, tab 1, tab 2)."""
    made = request_chat(server.url, email=email)
    tabs = [peers.visitor(server, made["visitor_token"]) for _ in range(2)]
    assert agent.call("accept", {"chat_id": made["chat_id"]}, "/queue")["ok"] is True
    for tab in tabs:
        tab.wait("agent_joined", "/chat")
    return made["chat_id"], *tabs


def test_a_burst_from_many_chats_is_stored_in_order_and_delivered_once(server, peers):
    alice = peers.agent(server, "alice")
    # (chat id, the tab that writes, the same end user's other tab)
    chats = [accepted_chat_with_two_tabs(server, peers, alice, f"burst{n}@example.org")
             for n in range(4)]

    sent = {}
    for chat_id, writing, _ in chats:
        bodies = [f"chat {chat_id} line {i} <b>not bold</b>" for i in range(MESSAGES)]
        sent[chat_id] = (bodies, *emit_all(writing, chat_id, bodies))
    for chat_id, (bodies, ids, done, acks) in sent.items():
        assert done.wait(TIMEOUT), f"chat {chat_id}: {acks}"
        assert all(a["ok"] is True and a["duplicate"] is False for a in acks), acks
        assert [a["message"]["body"] for a in acks] == bodies
        assert [a["message"]["client_id"] for a in acks] == ids
        stored_ids = [a["message"]["id"] for a in acks]
        assert stored_ids == sorted(stored_ids), "stored in the order sent"

    for chat_id, writing, reading in chats:
        _, ids, _, acks = sent[chat_id]
        expected = [a["message"] for a in acks]

        def burst(message, ids=frozenset(ids)):
            return message["client_id"] in ids

        for _ in expected:
            alice.wait("message", "/chat", burst)
            reading.wait("message", "/chat", burst)
        assert alice.received("message", "/chat", burst) == expected
        assert reading.received("message", "/chat", burst) == expected
        # The author's own socket has each message in its acknowledgement only.
        assert writing.received("message", "/chat", burst) == []


def test_the_same_message_sent_from_two_tabs_at_once_is_stored_once(server, peers):
    alice = peers.agent(server, "alice")
    chat_id, tab1, tab2 = accepted_chat_with_two_tabs(server, peers, alice,
                                                      "twotabs@example.org")
    same = client_id()
    payload = {"chat_id": chat_id, "body": "Only once, please", "client_id": same}
    replies: list = []
    barrier = threading.Barrier(2)

    def send(tab):
        barrier.wait()
        replies.append(tab.call("send", payload))

    threads = [threading.Thread(target=send, args=(tab,)) for tab in (tab1, tab2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert [r["ok"] for r in replies] == [True, True], replies
    assert sorted(r["duplicate"] for r in replies) == [False, True]
    assert replies[0]["message"] == replies[1]["message"]
    alice.wait("message", "/chat", lambda m: m["client_id"] == same)
    history = alice.call("history", {"chat_id": chat_id})["messages"]
    assert [m["client_id"] for m in history].count(same) == 1
    # The duplicate is published again (its first publication may have died with a process):
    # the agent gets the same stored message, one id and seq, and de-duplicates.
    copies = alice.received("message", "/chat", lambda m: m["client_id"] == same)
    assert {(m["id"], m["seq"]) for m in copies} == {
        (replies[0]["message"]["id"], replies[0]["message"]["seq"])}


def test_a_chat_id_sent_as_text_is_the_same_chat_and_the_author_is_not_echoed(server, peers):
    alice = peers.agent(server, "alice")
    chat_id, writing, reading = accepted_chat_with_two_tabs(server, peers, alice,
                                                            "textid@example.org")
    sent = client_id()
    reply = writing.call("send", {"chat_id": str(chat_id), "body": "as text",
                                  "client_id": sent})
    assert reply["ok"] is True and reply["message"]["chat_id"] == chat_id
    assert reading.wait("message", "/chat", lambda m: m["client_id"] == sent) == reply["message"]
    assert alice.wait("message", "/chat", lambda m: m["client_id"] == sent) == reply["message"]
    assert writing.received("message", "/chat", lambda m: m["client_id"] == sent) == []
