"""Notes and live supervision over real sockets: what agents, managers and end users receive.

The end user's socket records every raw event it gets; notes and whispers must never be
among them, whatever happens in the chat.
"""

from __future__ import annotations

import pytest
import sqlalchemy

from tests.realtime.peers import client_id, request_chat
from tests.support.chat_fill import fill_chat

pytestmark = pytest.mark.live

SECRETS = ("VIP: be gentle", "Offer the loan laptop", "Over to Network")


def never_told(peer) -> None:
    """No raw event of this socket carries a note, a whisper or their text."""
    assert [name for _, name, _ in peer.events if name == "note"] == []
    raw = repr(peer.events)
    for secret in SECRETS:
        assert secret not in raw


def live_chat(server, peers, email: str):
    """Alice accepts a new chat of Erin's; Maria is connected to /chat: (ids and peers)."""
    alice = peers.agent(server, "alice")
    maria = peers.agent(server, "maria", namespaces=("/chat",))
    made = request_chat(server.url, email=email)
    erin = peers.visitor(server, made["visitor_token"])
    assert alice.call("accept", {"chat_id": made["chat_id"]}, "/queue")["ok"] is True
    erin.wait("agent_joined", "/chat")
    return made["chat_id"], alice, maria, erin


def test_a_watching_manager_follows_the_chat_the_end_user_never_hears_notes(server, peers):
    chat_id, alice, maria, erin = live_chat(server, peers, "watch@example.org")

    watching = maria.call("watch", {"chat_id": chat_id})
    assert watching["ok"] is True and watching["joined"] is False
    assert watching["chat"]["agent"] == "Alice Agent" and watching["notes"] == []
    assert watching["messages"][0]["body"] == "My mail client keeps asking for a password."

    # Messages and typing of both sides reach the watcher.
    said = erin.call("send", {"chat_id": chat_id, "body": "Still broken", "client_id": client_id()})
    assert maria.wait("message", "/chat", lambda m: m["id"] == said["message"]["id"])
    replied = alice.call("send", {"chat_id": chat_id, "body": "Looking", "client_id": client_id()})
    assert maria.wait("message", "/chat", lambda m: m["id"] == replied["message"]["id"])
    erin.sio.emit("typing", {"chat_id": chat_id, "typing": True}, namespace="/chat")
    assert maria.wait("typing", "/chat", lambda t: t["role"] == "VISITOR")["typing"] is True

    # An internal note: the watcher gets it, the agent has it in his ack and history.
    noted = alice.call("note", {"chat_id": chat_id, "body": SECRETS[0], "client_id": "n-1"})
    assert noted["ok"] is True and noted["note"]["kind"] == "NOTE"
    assert maria.wait("note", "/chat")["body"] == SECRETS[0]
    assert [n["body"] for n in alice.call("history", {"chat_id": chat_id})["notes"]] == [
        SECRETS[0]]

    # A whisper reaches the chat's agent, highlighted as one.
    whispered = maria.call("whisper", {"chat_id": chat_id, "body": SECRETS[1],
                                       "client_id": "w-1"})
    assert whispered["ok"] is True
    heard = alice.wait("note", "/chat", lambda n: n["kind"] == "WHISPER")
    assert heard["body"] == SECRETS[1] and heard["author"]["name"] == "Maria Manager"
    assert heard["to"]["name"] == "Alice Agent"

    # An agent who is not a manager is refused everything, and hears nothing of the chat.
    bob = peers.agent(server, "bob", namespaces=("/chat",))
    for event, payload in (("watch", {"chat_id": chat_id}), ("join", {"chat_id": chat_id}),
                           ("whisper", {"chat_id": chat_id, "body": "psst", "client_id": "b"}),
                           ("take_over", {"chat_id": chat_id})):
        refused = bob.call(event, payload)
        assert refused["ok"] is False and refused["error"] == "forbidden", event
    # The end user cannot supervise or write notes either.
    assert erin.call("watch", {"chat_id": chat_id})["error"] == "forbidden"
    assert erin.call("note", {"chat_id": chat_id, "body": "x", "client_id": "x"})[
        "error"] == "forbidden"

    # Join: the end user is told a second person joined; both write.
    assert maria.call("join", {"chat_id": chat_id}) == {"ok": True, "chat_id": chat_id,
                                                        "joined": True}
    assert erin.wait("supervisor_joined", "/chat")["name"] == "Maria Manager"
    joined = erin.wait("message", "/chat", lambda m: m["sender"]["role"] == "SYSTEM")
    assert joined["body"] == "Maria Manager (supervisor) joined the chat."
    mine = maria.call("send", {"chat_id": chat_id, "body": "Maria here, I can help.",
                               "client_id": client_id()})
    assert mine["ok"] is True and mine["message"]["sender"]["name"] == "Maria Manager"
    assert erin.wait("message", "/chat", lambda m: m["id"] == mine["message"]["id"])
    assert alice.wait("message", "/chat", lambda m: m["id"] == mine["message"]["id"])
    later = alice.call("send", {"chat_id": chat_id, "body": "Thanks Maria",
                                "client_id": client_id()})
    assert erin.wait("message", "/chat", lambda m: m["id"] == later["message"]["id"])

    # A transfer with a note: the note stays among agents.
    moved = alice.call("transfer", {"chat_id": chat_id, "queue": "Network", "note": SECRETS[2]})
    assert moved["ok"] is True
    assert maria.wait("note", "/chat", lambda n: n["body"] == SECRETS[2])
    erin.wait("chat_transferred", "/chat")
    bob_queue = peers.agent(server, "bob", namespaces=("/queue", "/chat"))
    assert bob_queue.call("accept", {"chat_id": chat_id}, "/queue")["ok"] is True
    history = bob_queue.wait("history", "/chat", lambda h: h["chat_id"] == chat_id)
    assert [n["body"] for n in history["notes"]] == list(SECRETS)

    # Closed: whisper and join are refused with a clear error.
    erin.call("close", {"chat_id": chat_id})
    assert maria.wait("chat_closed", "/chat")["closed_by"] == "VISITOR"
    assert maria.call("whisper", {"chat_id": chat_id, "body": "late", "client_id": "w-2"})[
        "error"] == "closed"
    assert maria.call("join", {"chat_id": chat_id})["error"] == "closed"

    never_told(erin)
    # Bob's refused whisper was emitted to nobody (Alice got every later event in order).
    assert not alice.received("note", "/chat", lambda n: n["body"] == "psst")


def test_a_manager_takes_a_chat_over_and_its_agent_is_told(server, peers):
    chat_id, alice, maria, erin = live_chat(server, peers, "takeover@example.org")
    assert maria.call("watch", {"chat_id": chat_id})["ok"] is True
    taken = maria.call("take_over", {"chat_id": chat_id})
    assert taken == {"ok": True, "chat_id": chat_id, "agent": "Maria Manager"}
    told = alice.wait("chat_reassigned", "/chat")
    assert told == {"chat_id": chat_id, "agent": "Maria Manager", "by": "Maria Manager"}
    assert erin.wait("agent_joined", "/chat")["agent"] == "Maria Manager"
    refused = alice.call("send", {"chat_id": chat_id, "body": "me?", "client_id": client_id()})
    assert refused["error"] == "not_yours"
    never_told(erin)


def test_a_manager_made_agent_stops_watching(server, peers):
    chat_id, alice, maria, erin = live_chat(server, peers, "demoted@example.org")
    assert maria.call("watch", {"chat_id": chat_id})["ok"] is True
    engine = sqlalchemy.create_engine(server.database_url)
    role = sqlalchemy.text("UPDATE user_account SET role = :role WHERE username = 'maria'")
    try:
        with engine.begin() as connection:
            connection.execute(role, {"role": "AGENT"})
        assert maria.wait("watch_ended", "/chat") == {"reason": "not_a_manager"}
        said = erin.call("send", {"chat_id": chat_id, "body": "Anyone there?",
                                  "client_id": client_id()})
        assert alice.wait("message", "/chat", lambda m: m["id"] == said["message"]["id"])
        assert maria.call("watch", {"chat_id": chat_id})["error"] == "forbidden"
        assert not maria.received("message", "/chat",
                                  lambda m: m["id"] == said["message"]["id"])
    finally:
        with engine.begin() as connection:
            connection.execute(role, {"role": "MANAGER"})
        engine.dispose()


def pages_of(peer, chat_id: int, first: dict | None = None) -> list[dict]:
    """Every page of the chat's history, from `first` (or the first) on, as a client pages."""
    pages = [first or peer.call("history", {"chat_id": chat_id})]
    while pages[-1]["more"]:
        after = pages[-1]["messages"][-1]["seq"]
        pages.append(peer.call("history", {"chat_id": chat_id, "after_seq": after}))
        assert pages[-1]["ok"] is True, pages[-1]
    return pages


def test_each_note_comes_once_in_the_history_page_of_the_messages_it_was_written_among(
        server, peers):
    chat_id, alice, maria, erin = live_chat(server, peers, "paged-notes@example.org")
    notes = ["Before the long part", "In the middle", "At the end"]
    for n, body in enumerate(notes):  # 250 messages between two notes: pages of 200
        assert alice.call("note", {"chat_id": chat_id, "body": body,
                                   "client_id": client_id()})["ok"] is True
        if n < 2:
            fill_chat(server.database_url, chat_id, 250, prefix=f"part-{n}")
    by_page = [["Before the long part"], ["In the middle"], ["At the end"]]

    pages = pages_of(alice, chat_id)
    assert [len(page["messages"]) for page in pages] == [200, 200, 102]
    assert [[note["body"] for note in page["notes"]] for page in pages] == by_page
    # A page asked for by message id carries the same.
    after_id = pages[0]["messages"][-1]["id"]
    assert [n["body"] for n in alice.call("history", {"chat_id": chat_id,
                                                      "after_id": after_id})["notes"]] == \
        ["In the middle"]
    # A client that holds the first 450 messages gets only the note written since.
    assert [n["body"] for n in alice.call("history", {"chat_id": chat_id,
                                                      "after_seq": 450})["notes"]] == \
        ["At the end"]

    # A console connecting: the first page of each live chat, with its notes only.
    console = peers.agent(server, "alice", namespaces=("/chat",))
    opened = console.wait("history", "/chat", lambda h: h["chat_id"] == chat_id)
    assert [n["body"] for n in opened["notes"]] == ["Before the long part"]

    # A manager watching pages through the rest, though the chat's queue is not his.
    watching = maria.call("watch", {"chat_id": chat_id})
    assert [[n["body"] for n in page["notes"]] for page in pages_of(maria, chat_id, watching)
            ] == by_page
    never_told(erin)
