"""Two server processes sharing a database and a Redis message queue: an agent on one and an
end user on the other chat normally, and queue notifications and presence span both."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.conftest import BACKENDS, seeded_database
from tests.realtime.peers import Peer, client_id, login_cookie, request_chat
from tests.support.server import LiveServer

REDIS_URL = os.environ.get("TEST_REDIS_URL")
pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL not set")]


@pytest.fixture(scope="module", params=BACKENDS)
def cluster(request, tmp_path_factory):
    """Settings for server processes sharing one database and one private Redis channel."""
    tmp = tmp_path_factory.mktemp("cluster")
    url = seeded_database(request.param, tmp)
    env = {"SOCKETIO_MESSAGE_QUEUE": REDIS_URL,
           "SOCKETIO_CHANNEL": f"sdc-test-{uuid.uuid4().hex}",  # private to these tests
           "PRESENCE_HEARTBEAT": "1"}
    return url, env, tmp


def _process(cluster, name: str) -> LiveServer:
    url, env, tmp = cluster
    return LiveServer(url, env=env, log_path=tmp / f"server-{name}.log")


@pytest.fixture(scope="module")
def two_servers(cluster):
    servers = [_process(cluster, name).start() for name in ("a", "b")]
    yield servers
    for server in servers:
        server.stop()


def software(state):
    return next(q for q in state["queues"] if q["name"] == "Software")


def test_agent_on_one_process_chats_with_end_user_on_the_other(two_servers, peers):
    a, b = two_servers
    alice = peers.agent(a, "alice")               # process A
    bob = peers.agent(b, "bob", namespaces=("/queue",))  # process B
    bob.wait("queue_state", "/queue", lambda s: software(s)["agents_online"] == 2)

    made = request_chat(b.url)                    # the widget talks to process B
    chat_id = made["chat_id"]
    assert made["agents_online"] == 2             # B counts Alice, connected to A
    assert alice.wait("chat_waiting", "/queue")["chat_id"] == chat_id
    assert bob.wait("chat_waiting", "/queue")["chat_id"] == chat_id
    assert alice.wait("queue_state", "/queue", lambda s: s["total"] == 1)
    erin = peers.visitor(b, made["visitor_token"])
    assert erin.wait("queue_position", "/chat")["agents_online"] == 2

    assert alice.call("accept", {"chat_id": chat_id}, "/queue")["ok"] is True  # on A
    assert erin.wait("agent_joined", "/chat")["agent"] == "Alice Agent"       # on B
    assert bob.wait("chat_taken", "/queue")["agent"] == "Alice Agent"         # on B
    assert bob.wait("queue_state", "/queue", lambda s: s["total"] == 0)

    sent = erin.call("send", {"chat_id": chat_id, "body": "Hello from B", "client_id": "b-1"})
    assert alice.wait("message", "/chat", lambda m: m["client_id"] == "b-1") == sent["message"]
    reply = alice.call("send", {"chat_id": chat_id, "body": "Hello from A",
                                "client_id": client_id()})
    assert erin.wait("message", "/chat", lambda m: m["id"] == reply["message"]["id"]
                     )["body"] == "Hello from A"
    erin.call("typing", {"chat_id": chat_id, "typing": True})
    assert alice.wait("typing", "/chat")["role"] == "VISITOR"
    assert alice.call("close", {"chat_id": chat_id})["ok"] is True
    assert erin.wait("chat_closed", "/chat")["closed_by"] == "AGENT"


def test_chat_accepted_through_one_process_reaches_the_agents_chat_socket_on_the_other(
        two_servers, peers):
    a, b = two_servers
    cookie = login_cookie(a.url, "alice")
    chat_socket = peers.track(Peer(a.url, ["/chat"], headers={"Cookie": cookie}).connect())
    queue_socket = peers.track(Peer(b.url, ["/queue"], headers={"Cookie": cookie}).connect())
    made = request_chat(a.url, email="paul@example.org")
    erin = peers.visitor(a, made["visitor_token"])
    queue_socket.wait("chat_waiting", "/queue")
    assert queue_socket.call("accept", {"chat_id": made["chat_id"]}, "/queue")["ok"] is True
    opened = chat_socket.wait("history", "/chat", lambda h: h["chat_id"] == made["chat_id"])
    assert opened["status"] == "ACTIVE" and opened["chat"]["agent"] == "Alice Agent"
    erin.call("send", {"chat_id": made["chat_id"], "body": "Are you there?", "client_id": "p1"})
    assert chat_socket.wait("message", "/chat", lambda m: m["client_id"] == "p1")
    answer = chat_socket.call("send", {"chat_id": made["chat_id"], "body": "Yes!",
                                       "client_id": "p2"})
    assert answer["ok"] is True
    assert erin.wait("message", "/chat", lambda m: m["client_id"] == "p2")["body"] == "Yes!"


def test_agents_of_a_stopped_process_stop_counting_as_online(cluster, two_servers, peers):
    a, _ = two_servers
    c = _process(cluster, "c").start()
    try:
        alice = peers.agent(a, "alice", namespaces=("/queue",))
        peers.agent(c, "bob", namespaces=("/queue",), reconnection=False)
        alice.wait("queue_state", "/queue", lambda s: software(s)["agents_online"] == 2)
    finally:
        c.stop()  # its disconnect handlers never run: A cleans up after the missed beats
    state = alice.wait("queue_state", "/queue", lambda s: software(s)["agents_online"] == 1,
                       timeout=20)
    assert software(state)["agents_online"] == 1
