"""Availability and auto routing over real sockets, with two server processes sharing a
database and Redis: a status set on one process, an agent whose process is killed, and an
offer made by one process to an agent connected to the other."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import BACKENDS, seeded_database
from tests.realtime import test_multiprocess
from tests.realtime.peers import request_chat

REDIS_URL = os.environ.get("TEST_REDIS_URL")
pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL not set")]
OFFER_SECONDS = 3


@pytest.fixture(scope="module", params=BACKENDS)
def cluster(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("routing")
    url = seeded_database(request.param, tmp)
    engine = create_engine(url)
    with engine.begin() as connection:  # a manager set Network to automatic routing
        connection.execute(text("UPDATE person_group SET routing = 'auto' "
                                "WHERE name = 'Network'"))
    engine.dispose()
    env = {"SOCKETIO_MESSAGE_QUEUE": REDIS_URL,
           "SOCKETIO_CHANNEL": f"sdc-test-{uuid.uuid4().hex}",
           # A process is dead after 3 missed beats: 6 s, which a busy machine's stalls
           # never reach (at 1 s, a stall of 3 s counted a live agent offline).
           "PRESENCE_HEARTBEAT": "2", "AGENT_OFFLINE_GRACE": "1",
           "CHAT_OFFER_TIMEOUT": str(OFFER_SECONDS), "CHAT_OFFER_MISSES_AWAY": "0"}
    return url, env, tmp


# Two server processes of this module's cluster, and a third one started by a test.
two_servers = test_multiprocess.two_servers
_process = test_multiprocess._process


def queue(state: dict, name: str) -> dict:
    return next(q for q in state["queues"] if q["name"] == name)


def test_status_set_on_one_process_is_seen_in_queue_state_on_the_other(two_servers, peers):
    a, b = two_servers
    alice = peers.agent(a, "alice", namespaces=("/queue",))
    bob = peers.agent(b, "bob", namespaces=("/queue",))
    bob.wait("queue_state", "/queue", lambda s: queue(s, "Software")["agents_available"] == 2)

    assert alice.call("set_status", {"status": "away"}, "/queue") == {"ok": True,
                                                                     "status": "away"}

    state = bob.wait("queue_state", "/queue",
                     lambda s: queue(s, "Software")["agents_available"] == 1)
    assert queue(state, "Software")["agents_online"] == 2  # away, yet online
    assert alice.wait("agent_status", "/queue", lambda e: e["status"] == "away")
    # Kept on her account: a console opened on the other process shows it.
    again = peers.agent(b, "alice", namespaces=("/queue",))
    assert again.wait("queue_state", "/queue")["agent"]["status"] == "away"
    for bad in ("busy", "offline", "AWAY", None):
        refused = alice.call("set_status", {"status": bad}, "/queue")
        assert (refused["ok"], refused["error"]) == (False, "unknown_status")
    assert alice.call("set_status", {"status": "available"}, "/queue")["status"] == "available"
    bob.wait("queue_state", "/queue", lambda s: queue(s, "Software")["agents_available"] == 2)


def test_an_agent_whose_process_is_killed_is_offline_within_the_grace(cluster, two_servers,
                                                                      peers):
    a, _ = two_servers
    c = _process(cluster, "c").start()
    try:
        alice = peers.agent(a, "alice", namespaces=("/queue",))
        peers.agent(c, "bob", namespaces=("/queue",), reconnection=False)
        alice.wait("queue_state", "/queue",
                   lambda s: queue(s, "Software")["agents_available"] == 2)
        c.process.kill()  # SIGKILL: no handler of C runs
        c.process.wait(10)
        state = alice.wait("queue_state", "/queue",
                           lambda s: queue(s, "Software")["agents_available"] == 1, timeout=15)
        assert queue(state, "Software")["agents_online"] == 1
    finally:
        c.stop()


def test_auto_routing_offers_a_chat_to_an_agent_on_the_other_process(two_servers, peers):
    a, b = two_servers
    bob = peers.agent(b, "bob", namespaces=("/queue",))  # Network's only agent, on B
    bob.wait("queue_state", "/queue", lambda s: queue(s, "Network")["agents_available"] == 1)

    first = request_chat(a.url, queue="Network", email="nina@example.org")  # through A
    assert first["agents_available"] == 1
    offer = bob.wait("chat_offered", "/queue", lambda o: o["chat"]["chat_id"] == first["chat_id"])
    assert offer["expires_in"] == OFFER_SECONDS and offer["chat"]["queue"]["name"] == "Network"
    accepted = bob.call("accept", {"chat_id": first["chat_id"]}, "/queue")
    assert accepted["ok"] is True and accepted["chat"]["status"] == "ACTIVE"

    # Declined: nobody else is left, so it waits in the queue and anyone of it may take it.
    second = request_chat(a.url, queue="Network", email="nils@example.org")
    bob.wait("chat_offered", "/queue", lambda o: o["chat"]["chat_id"] == second["chat_id"])
    assert bob.call("decline", {"chat_id": second["chat_id"]}, "/queue") == {"ok": True}
    assert bob.call("decline", {"chat_id": second["chat_id"]}, "/queue")["error"] == \
        "not_offered"

    # Unanswered: the sweeper (of whichever process) takes it back when its time is up.
    third = request_chat(a.url, queue="Network", email="noor@example.org")
    bob.wait("chat_offered", "/queue", lambda o: o["chat"]["chat_id"] == third["chat_id"])
    ended = bob.wait("offer_ended", "/queue", lambda e: e["chat_id"] == third["chat_id"],
                     timeout=OFFER_SECONDS + 10)
    assert ended["outcome"] == "expired"
    # Nobody else to offer it to: it waits in the queue, where bob may still pick it.
    assert bob.call("waiting_list", {}, "/queue")["chats"][-1]["chat_id"] == third["chat_id"]
    assert bob.call("accept", {"chat_id": third["chat_id"]}, "/queue")["ok"] is True


def test_a_live_chat_handed_to_an_agent_on_the_other_process(two_servers, peers):
    a, b = two_servers
    alice = peers.agent(a, "alice")
    bob = peers.agent(b, "bob")
    made = request_chat(a.url, email="hana@example.org")  # Software: routed by hand
    erin = peers.visitor(a, made["visitor_token"])
    assert alice.call("accept", {"chat_id": made["chat_id"]}, "/queue")["ok"] is True

    moved = alice.call("transfer", {"chat_id": made["chat_id"], "agent": "bob"})

    assert moved["ok"] is True and moved["to_agent"]["name"] == "Bob Builder"
    opened = bob.wait("history", "/chat", lambda h: h["chat_id"] == made["chat_id"])
    assert opened["status"] == "ACTIVE" and opened["chat"]["agent"] == "Bob Builder"
    assert erin.wait("agent_joined", "/chat", lambda j: j["agent"] == "Bob Builder")
    # The end user's chat never looked as if it waited again; alice's console was told.
    assert erin.received("chat_transferred", "/chat") == []
    alice.wait("chat_transferred", "/chat", lambda t: t["chat_id"] == made["chat_id"])
    again = alice.call("transfer", {"chat_id": made["chat_id"], "agent": "bob"})
    assert (again["ok"], again["error"]) == (False, "not_yours")
    both = alice.call("transfer", {"chat_id": made["chat_id"], "agent": "bob",
                                   "queue": "Network"})
    assert both["error"] == "invalid"
