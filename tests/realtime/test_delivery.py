"""Delivery over the wire: every socket of a busy desk sending its whole burst at once is
acknowledged; a message stored but never published (its process died in between) reaches the
other side when its author re-sends it; a chat of 10,000 messages resumes in bounded pages;
seqs number each chat's messages without gaps."""

from __future__ import annotations

import threading
import time

import pytest

from app import create_app
from app.desk import chats
from app.extensions import db
from app.models import Chat
from tests.realtime.conftest import EVENT_LIMITS
from tests.realtime.peers import TIMEOUT, client_id, login_cookie, request_chat
from tests.support.desk_client import DeskClient

BURST = int(EVENT_LIMITS["SOCKET_EVENT_BURST"])


def accepted_chat(server, peers, agent, email):
    made = request_chat(server.url, email=email)
    end_user = peers.visitor(server, made["visitor_token"])
    assert agent.call("accept", {"chat_id": made["chat_id"]}, "/queue")["ok"] is True
    end_user.wait("agent_joined", "/chat")
    return made, end_user


def asked_again_when_limited(peer, event: str, payload: dict) -> dict:
    """The answer to `event`; a socket that just spent its whole burst is told rate_limited
    until its budget refills (a few a second), and asks again, as the clients do."""
    for _ in range(50):
        reply = peer.call(event, payload)
        if reply.get("error") != "rate_limited":
            return reply
        time.sleep(0.25)
    raise AssertionError(f"{event} still rate_limited")


def fire(peer, payloads: list[dict], acks: list, done: threading.Event, lock) -> None:
    """Emit every payload at once; the acknowledgements are collected as they come."""
    for payload in payloads:
        def answered(reply, payload=payload):
            with lock:
                acks.append((payload, reply))
                if len(acks) == done.expected:
                    done.set()
        peer.sio.emit("send", payload, namespace="/chat", callback=answered)


def test_every_socket_sending_its_whole_burst_at_once_is_acknowledged(server, peers):
    alice = peers.agent(server, "alice")
    bob = peers.agent(server, "bob")
    opened = [accepted_chat(server, peers, agent, f"full-burst-{n}@example.org")
              for n, agent in enumerate([alice, bob, alice, bob])]
    # Every end user's socket its whole burst; each agent his whole burst over his chats
    # (an agent's sends each load his account, the case that once took the pool's last
    # connection from the writer).
    plan = [(end_user, [{"chat_id": made["chat_id"], "body": f"end user {n}.{i}",
                         "client_id": client_id()} for i in range(BURST)])
            for n, (made, end_user) in enumerate(opened)]
    for agent, mine in ((alice, opened[0::2]), (bob, opened[1::2])):
        plan.append((agent, [{"chat_id": mine[i % 2][0]["chat_id"], "body": f"agent {i}",
                              "client_id": client_id()} for i in range(BURST)]))
    acks: list = []
    done = threading.Event()
    done.expected = sum(len(payloads) for _, payloads in plan)
    lock = threading.Lock()
    threads = [threading.Thread(target=fire, args=(peer, payloads, acks, done, lock))
               for peer, payloads in plan]
    for thread in threads:
        thread.start()
    assert done.wait(4 * TIMEOUT), f"{len(acks)} of {done.expected} acknowledged"
    refused = [reply for _, reply in acks if not reply.get("ok")]
    assert refused == []
    for made, end_user in opened:
        history = asked_again_when_limited(end_user, "history", {"chat_id": made["chat_id"]})
        assert [m["seq"] for m in history["messages"]] == list(
            range(1, len(history["messages"]) + 1)), "numbered without gaps"
        assert history["last_seq"] == len(history["messages"])


def test_a_message_stored_but_never_published_reaches_the_agent_when_re_sent(server, peers):
    """The end user's process committed the message and died before publishing it: the
    acknowledgement never came, so the end user re-sends it (same client id) to another
    process, which answers `duplicate` and publishes the stored message again."""
    alice = peers.agent(server, "alice")
    made, end_user = accepted_chat(server, peers, alice, "unpublished@example.org")
    lost = client_id()
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=server.database_url)
    with app.app_context():  # stored behind the server's back: nobody was told
        chat = db.session.get(Chat, made["chat_id"])
        stored, created = chats.post_message(chat.id, chats.Sender.visitor(chat),
                                             "Did you get this?", lost)
        db.session.remove()
        db.engine.dispose()
    assert created
    reply = end_user.call("send", {"chat_id": made["chat_id"], "body": "Did you get this?",
                                   "client_id": lost})
    assert reply["ok"] is True and reply["duplicate"] is True
    assert reply["message"] == stored
    assert alice.wait("message", "/chat", lambda m: m["client_id"] == lost) == stored
    # The author's socket has it in its acknowledgement only.
    assert end_user.received("message", "/chat", lambda m: m["client_id"] == lost) == []


def test_a_chat_of_ten_thousand_messages_resumes_in_bounded_pages(server, peers):
    alice = peers.agent(server, "alice")
    made, end_user = accepted_chat(server, peers, alice, "long-chat@example.org")
    chat_id = made["chat_id"]
    line = "A long line of a long chat, written again and again. " * 18  # ~1 KB
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=server.database_url)
    with app.app_context():
        chat = db.session.get(Chat, chat_id)
        sender = chats.Sender.visitor(chat)
        db.session.remove()
        for start in range(0, 10_000, 500):
            outcomes = chats.post_messages([chats.Draft(chat_id, sender, f"{n} {line}", f"l-{n}")
                                            for n in range(start, start + 500)])
            assert all(isinstance(o, tuple) for o in outcomes)
        last_seq = db.session.get(Chat, chat_id).last_seq
        db.session.remove()
        db.engine.dispose()
    assert last_seq == 10_000 + 2  # the question and the greeting came first

    client = DeskClient([server.url], visitor_token=made["visitor_token"], chat_id=chat_id)
    try:
        assert client.wait_for(lambda: client.last_seq.get(chat_id) == last_seq,
                               6 * TIMEOUT), (client.connections, len(client.frames),
                                              client.last_seq, client.errors[:3])
        held = client.holds(chat_id)
        assert sorted(m["seq"] for m in held.values()) == list(range(1, last_seq + 1))
        assert max(client.frames) <= 200 and len(client.frames) > 40  # ~256 KB each
        assert all(count == 1 for count in client.deliveries.values())
    finally:
        client.close()
    # An agent's console connecting gets the first page of each live chat, not the lot.
    console = DeskClient([server.url], cookie=login_cookie(server.url, "alice"))
    try:
        assert console.wait_for(lambda: console.last_seq.get(chat_id) == last_seq,
                                6 * TIMEOUT), (console.connections, console.frames[:5],
                                               console.last_seq)
        assert max(console.frames) <= 200
    finally:
        console.close()


@pytest.mark.live  # two server processes of its own
def test_sigterm_finishes_the_batch_moves_clients_and_forgets_the_process(
        tmp_path, peers):
    """A graceful stop during a burst: what was acknowledged is stored, the clients are let
    go (not left hanging) and re-send the rest to the process that takes over, presence rows
    go at once; nothing lost, nothing doubled."""
    import signal

    from sqlalchemy import func, select

    from app.models import AgentPresence, ChatMessage, ServerNode
    from tests.conftest import seeded_database
    from tests.support.server import LiveServer

    url = seeded_database("sqlite", tmp_path)
    first = LiveServer(url, log_path=tmp_path / "first.log").start()
    second = LiveServer(url, log_path=tmp_path / "second.log")
    try:
        alice = peers.agent(first, "alice")
        made = request_chat(first.url, email="rolling@example.org")
        assert alice.call("accept", {"chat_id": made["chat_id"]}, "/queue")["ok"] is True
        waiting = request_chat(first.url, email="still-waiting@example.org")
        peers.visitor(first, waiting["visitor_token"])
        chat_id = made["chat_id"]
        end_user = DeskClient([first.url, second.url], visitor_token=made["visitor_token"],
                              chat_id=chat_id)
        sent = [end_user.send(chat_id, f"line {n}") for n in range(BURST)]
        first.process.send_signal(signal.SIGTERM)
        assert first.process.wait(10) == 0, "a graceful stop exits by itself"
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
        with app.app_context():
            acknowledged = {c for c in sent if c in end_user.acked}
            stored = set(db.session.scalars(select(ChatMessage.client_id).where(
                ChatMessage.chat_id == chat_id, ChatMessage.client_id.in_(sent))))
            assert acknowledged <= stored
            assert db.session.scalar(select(func.count()).select_from(ServerNode)) == 0
            assert db.session.scalar(select(func.count()).select_from(AgentPresence)) == 0
            assert db.session.get(Chat, waiting["chat_id"]).visitor_left_at is not None
            db.session.remove()
        second.start()
        try:
            assert end_user.wait_for(lambda: not end_user.unsent, 3 * TIMEOUT), end_user.unsent
            with app.app_context():
                stored = list(db.session.scalars(select(ChatMessage.client_id).where(
                    ChatMessage.chat_id == chat_id, ChatMessage.client_id.in_(sent))))
                db.session.remove()
                db.engine.dispose()
            assert sorted(stored) == sorted(sent), "every message stored exactly once"
            assert end_user.connections == 2
        finally:
            end_user.close()
    finally:
        first.stop()
        second.stop()
