"""`make cluster` end to end: nginx in front of two app processes on PostgreSQL and Redis.

Everything goes through nginx, as in production: the widget's chat request, an agent's login
and console, whole chats over WebSocket and over long-polling only with the end user and the
agent on different processes, /metrics, and a rolling restart of every process in the middle
of two chats, after which nothing is lost or doubled and both sides go on without a reload.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import pytest
import requests
import socketio
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.support import SourceRelay, start_cluster
from tests.realtime.peers import Peer, client_id, login_cookie, request_chat
from tests.support import databases

REDIS_URL = os.environ.get("TEST_REDIS_URL")
WIDGET_ORIGIN = "https://shop.example.com"
pytestmark = [
    pytest.mark.live, pytest.mark.slow,
    pytest.mark.alone,  # a rolling restart of the whole cluster, with nothing else beside it
    pytest.mark.skipif(not (databases.postgres_admin_url() and REDIS_URL),
                       reason="the cluster needs TEST_DATABASE_URL and TEST_REDIS_URL"),
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("cluster")
    running = start_cluster(
        run_dir, databases.create_postgres_database(), REDIS_URL, f"sdc-{uuid.uuid4().hex}",
        {"LOG_FORMAT": "json", "WIDGET_ALLOWED_ORIGINS": WIDGET_ORIGIN,
         "CHAT_REQUEST_RATE_LIMIT": "1000 per minute",
         "CHAT_MAX_PER_AGENT": "10",  # the chats of this module's tests add up on alice
         "SECRET_KEY": "cluster-test-" + "c" * 32})
    yield running
    state = running.state()
    assert running.stop() == 0, running.output_text()[-3000:]
    for pid in [app["pid"] for app in state["apps"]] + [state["nginx_pid"]]:
        assert not _alive(pid), f"process {pid} outlived the cluster"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def machines(cluster):
    """Two client machines that nginx sends to different app processes: (on A, on B)."""
    found: dict[int, SourceRelay] = {}
    for third_byte in range(1, 60):
        relay = SourceRelay(cluster.port, f"127.0.{third_byte}.1")
        port = cluster.upstream_of(relay)
        if port in found:
            relay.close()
        else:
            found[port] = relay
        if len(found) == 2:
            break
    assert len(found) == 2, "no two client addresses land on different processes"
    yield list(found.values())
    for relay in found.values():
        relay.close()


@pytest.fixture
def peers():
    made: list[Peer] = []
    yield made
    for peer in made:
        try:
            peer.disconnect()
        except Exception:  # noqa: BLE001 - best effort
            pass


def _agent(peers, relay, username, transports=("websocket",), auth=None) -> Peer:
    cookie = login_cookie(relay.url, username)  # through nginx, CSRF on
    peer = Peer(relay.url, ["/queue", "/chat"], headers={"Cookie": cookie}, auth=auth,
                transports=transports)
    peers.append(peer.connect())
    return peer


def _visitor(peers, relay, made, transports=("websocket",), auth=None) -> Peer:
    peer = Peer(relay.url, ["/chat"], auth=auth or {"visitor_token": made["visitor_token"]},
                transports=transports)
    peers.append(peer.connect())
    return peer


def _whole_chat(peers, visitor_relay, agent_relay, transports) -> int:
    made = request_chat(visitor_relay.url)
    chat_id = made["chat_id"]
    alice = _agent(peers, agent_relay, "alice", transports)
    erin = _visitor(peers, visitor_relay, made, transports)
    assert erin.wait("history", "/chat")["status"] == "WAITING"
    assert alice.call("accept", {"chat_id": chat_id}, "/queue")["ok"] is True
    erin.wait("agent_joined", "/chat")
    for turn in range(3):
        body = f"Erin, turn {turn}"
        assert erin.call("send", {"chat_id": chat_id, "body": body,
                                  "client_id": client_id()})["ok"] is True
        alice.wait("message", "/chat", lambda m, body=body: m["body"] == body)
        body = f"Alice, turn {turn}"
        assert alice.call("send", {"chat_id": chat_id, "body": body,
                                   "client_id": client_id()})["ok"] is True
        erin.wait("message", "/chat", lambda m, body=body: m["body"] == body)
    assert alice.call("close", {"chat_id": chat_id})["ok"] is True
    assert erin.wait("chat_closed", "/chat")["chat_id"] == chat_id
    return chat_id


def _connects(cluster, **match) -> list[dict]:
    return [line for line in cluster.app_log_lines()
            if line.get("kind") == "socket" and line.get("event") == "connect"
            and all(line.get(key) == value for key, value in match.items())]


def test_widget_request_agent_console_and_a_whole_chat_over_websocket(cluster, machines,
                                                                       peers):
    on_a, on_b = machines
    preflight = requests.options(f"{on_a.url}/api/chat-requests", timeout=10, headers={
        "Origin": WIDGET_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.ok and preflight.headers["Access-Control-Allow-Origin"] == WIDGET_ORIGIN
    reply = requests.post(f"{on_a.url}/api/chat-requests", timeout=10,
                          headers={"Origin": WIDGET_ORIGIN},
                          json={"name": "Wanda Widget", "email": "wanda@example.org",
                                "queue": "Hardware", "question": "The printer is on fire."})
    assert reply.status_code == 201, reply.text
    assert reply.headers["Access-Control-Allow-Origin"] == WIDGET_ORIGIN

    cookie = login_cookie(on_b.url, "alice")
    console = requests.get(f"{on_b.url}/", headers={"Cookie": cookie}, timeout=10)
    assert console.status_code == 200 and 'id="chat-queue-indicator"' in console.text
    library = requests.get(f"{on_b.url}/vendor/socket.io.esm.min.js", timeout=10)
    assert library.status_code == 200 and "Socket.IO v4" in library.text

    chat_id = _whole_chat(peers, on_a, on_b, ("websocket",))
    # The end user and the agent were on different processes, each seen with its own address
    # (the app trusts nginx's X-Forwarded-For).
    ports = cluster.app_ports()
    visitor = _connects(cluster, namespace="/chat", chat_id=chat_id)
    agent = _connects(cluster, namespace="/queue", remote_addr=on_b.source)
    assert [line["remote_addr"] for line in visitor] == [on_a.source]
    assert agent and {visitor[0]["app_port"], agent[-1]["app_port"]} == set(ports)


def test_a_whole_chat_over_long_polling_only(cluster, machines, peers):
    on_a, on_b = machines
    chat_id = _whole_chat(peers, on_b, on_a, ("polling",))
    visitor = _connects(cluster, namespace="/chat", chat_id=chat_id)
    assert [line["remote_addr"] for line in visitor] == [on_b.source]


def _metrics(cluster) -> dict[tuple, float]:
    reply = requests.get(cluster.url + "/metrics", timeout=10)
    assert reply.status_code == 200, reply.text
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(reply.text)
            for sample in family.samples}


def _total(figures: dict, name: str, **labels) -> float:
    return sum(value for (sample, sample_labels), value in figures.items()
               if sample == name and all((k, v) in sample_labels for k, v in labels.items()))


def test_metrics_of_the_whole_cluster_move_with_a_chat(cluster, machines, peers):
    on_a, on_b = machines
    assert requests.get(on_a.url + "/metrics", timeout=10).status_code == 403  # not a scraper
    before = _metrics(cluster)
    made = request_chat(on_a.url)
    waiting = _metrics(cluster)
    assert _total(waiting, "desk_chats_waiting", queue="Software") == \
        _total(before, "desk_chats_waiting", queue="Software") + 1
    erin = _visitor(peers, on_a, made)
    alice = _agent(peers, on_b, "alice")
    erin.wait("history", "/chat")
    connected = _metrics(cluster)  # the gauges of both processes, added up
    assert _total(connected, "desk_sockets_connected", kind="visitor") >= 1
    assert _total(connected, "desk_sockets_connected", kind="agent", namespace="/queue") >= 1
    assert alice.call("accept", {"chat_id": made["chat_id"]}, "/queue")["ok"] is True
    for peer, who in ((erin, "erin"), (alice, "alice"), (erin, "erin again")):
        assert peer.call("send", {"chat_id": made["chat_id"], "body": who,
                                  "client_id": client_id()})["ok"] is True
    stored = alice.call("history", {"chat_id": made["chat_id"]})["messages"]
    after = _metrics(cluster)
    # Messages stored by both processes, counted once each (the question with the request).
    assert _total(after, "desk_messages_stored_total") - \
        _total(before, "desk_messages_stored_total") == len(stored) - 1
    assert _total(after, "desk_events_total", event="chat_accepted") == \
        _total(before, "desk_events_total", event="chat_accepted") + 1
    assert _total(after, "desk_socket_event_seconds_count", event="send") >= \
        _total(before, "desk_socket_event_seconds_count", event="send") + 3
    assert _total(after, "desk_chat_wait_seconds_count") == \
        _total(before, "desk_chat_wait_seconds_count") + 1
    assert _total(after, "desk_chats_waiting", queue="Software") == \
        _total(before, "desk_chats_waiting", queue="Software")
    assert _total(after, "desk_backend_up", backend="database") == 1
    assert _total(after, "desk_backend_up", backend="redis") == 1


class Talker:
    """One side of a chat typing steadily; every message is kept until acknowledged and
    re-sent with the same client_id (docs/protocol.md, section 5)."""

    def __init__(self, peer: Peer, chat_id: int, prefix: str) -> None:
        self.peer, self.chat_id, self.prefix = peer, chat_id, prefix
        self.typed: list[str] = []
        self.pending: dict[str, str] = {}
        self.acked: dict[str, dict] = {}
        self.refusals: list[dict] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stopping.is_set():
            cid = f"{self.prefix}-{len(self.typed) + 1}"
            self.typed.append(cid)
            self.pending[cid] = f"{self.prefix} says {len(self.typed)}"
            self.flush()
            self.stopping.wait(0.3)

    def flush(self) -> bool:
        for cid, body in list(self.pending.items()):
            try:
                ack = self.peer.sio.call("send", {"chat_id": self.chat_id, "body": body,
                                                  "client_id": cid}, namespace="/chat",
                                         timeout=3)
            except (socketio.exceptions.SocketIOError, OSError):
                return False  # not connected (yet): kept for later
            if not ack.get("ok"):
                if ack.get("error") not in ("rate_limited", "unavailable"):
                    self.refusals.append(ack)
                return False
            self.acked[cid] = ack["message"]
            del self.pending[cid]
        return True

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(10)


def _send_as_a_client_does(peer: Peer, chat_id: int, body: str, timeout: float = 20) -> dict:
    """A send, repeated with the same client id while the answer says to come again
    (rate_limited, unavailable), as the documented client does; the last answer."""
    payload = {"chat_id": chat_id, "body": body, "client_id": client_id()}
    deadline = time.monotonic() + timeout
    while True:
        ack = peer.call("send", payload)
        if ack.get("ok") or ack.get("error") not in ("rate_limited", "unavailable") \
                or time.monotonic() > deadline:
            return ack
        time.sleep(0.5)


def _seen_ids(peer: Peer, chat_id: int) -> set[int]:
    ids = {m["id"] for m in peer.received("message", "/chat", lambda m: m["chat_id"] == chat_id)}
    for history in peer.received("history", "/chat", lambda h: h["chat_id"] == chat_id):
        ids.update(m["id"] for m in history["messages"])
    return ids


def _open_chat(peers, visitor_relay, agent_relay, agent_name, transports):
    """An accepted chat whose two sides reconnect as a real client does: the auth they send
    carries the last message id they have."""
    made = request_chat(visitor_relay.url)
    chat_id = made["chat_id"]
    sides: dict[str, Peer] = {}

    def visitor_auth():
        return {"visitor_token": made["visitor_token"],
                "last_message_id": max(_seen_ids(sides["visitor"], chat_id), default=0)}

    def agent_auth():
        return {"last_message_ids": {str(chat_id): max(_seen_ids(sides["agent"], chat_id),
                                                       default=0)}}

    sides["visitor"] = Peer(visitor_relay.url, ["/chat"], auth=visitor_auth,
                            transports=transports)
    sides["agent"] = Peer(agent_relay.url, ["/queue", "/chat"], auth=agent_auth,
                          headers={"Cookie": login_cookie(agent_relay.url, agent_name)},
                          transports=transports)
    for peer in sides.values():
        peers.append(peer.connect())
    sides["visitor"].wait("history", "/chat")
    assert sides["agent"].call("accept", {"chat_id": chat_id}, "/queue")["ok"] is True
    sides["visitor"].wait("agent_joined", "/chat")
    return chat_id, sides["visitor"], sides["agent"]


@pytest.fixture
def console(cluster, new_context):
    """The agent console in headless Chromium, through nginx."""
    from tests.browser.conftest import login

    page = new_context().new_page()
    page.set_default_timeout(20_000)
    login(page, cluster.url, "alice")
    return page


def _console_chat(peers, console, relay) -> tuple[int, Peer]:
    """A chat that Alice accepts in her console in the browser; its end user is a client."""
    from playwright.sync_api import expect

    made = request_chat(relay.url, queue="Hardware")
    chat_id = made["chat_id"]
    holder: list[Peer] = []
    visitor = Peer(relay.url, ["/chat"], auth=lambda: {
        "visitor_token": made["visitor_token"],
        "last_message_id": max(_seen_ids(holder[0], chat_id), default=0)})
    holder.append(visitor)
    peers.append(visitor.connect())
    console.locator(f".waiting-item[data-chat-id='{chat_id}'] .accept-button").click()
    visitor.wait("agent_joined", "/chat")
    expect(console.locator(f".chat-pane[data-chat-id='{chat_id}']")).to_be_visible()
    console.evaluate("window.sameDocument = true")
    return chat_id, visitor


@pytest.mark.browser
def test_rolling_restart_during_chats_loses_and_doubles_nothing(cluster, machines, peers,
                                                                console):
    from playwright.sync_api import expect

    on_a, on_b = machines
    chats = [_open_chat(peers, on_a, on_b, "alice", ("websocket",)),
             _open_chat(peers, on_b, on_a, "bob", ("polling",))]
    talkers = [Talker(peer, chat_id, f"{side}{chat_id}") for chat_id, visitor, agent in chats
               for side, peer in (("v", visitor), ("a", agent))]
    browser_chat, browser_visitor = _console_chat(peers, console, on_b)
    talkers.append(Talker(browser_visitor, browser_chat, f"b{browser_chat}"))
    pids_before = [app["pid"] for app in cluster.state()["apps"]]
    for talker in talkers:
        talker.thread.start()
    time.sleep(1)
    mark = len(cluster.output_text())
    os.kill(cluster.process.pid, signal.SIGHUP)
    cluster.wait_output("rolling restart done", 90, after=mark)
    time.sleep(1)
    for talker in talkers:
        talker.stop()
    assert not set(pids_before) & {app["pid"] for app in cluster.state()["apps"]}

    deadline = time.monotonic() + 30  # every unacknowledged message goes out after reconnecting
    while not all(talker.flush() for talker in talkers):
        assert time.monotonic() < deadline, [t.pending for t in talkers]
        time.sleep(0.3)

    # The console, never reloaded, shows every message of its end user once.
    pane = console.locator(f".chat-pane[data-chat-id='{browser_chat}']")
    for message in talkers[-1].acked.values():
        expect(pane.locator(f".msg[data-id='{message['id']}']")).to_have_count(1)
    pane.locator("textarea[name=body]").fill("Back after the restart.")
    pane.locator("textarea[name=body]").press("Enter")
    browser_visitor.wait("message", "/chat", lambda m: m["body"] == "Back after the restart.", 20)
    assert console.evaluate("window.sameDocument") is True
    talkers.pop()

    for (chat_id, visitor, agent), pair in zip(chats, (talkers[:2], talkers[2:]), strict=True):
        stored = agent.call("history", {"chat_id": chat_id})["messages"]
        stored_ids = [m["client_id"] for m in stored]
        assert len(stored_ids) == len(set(stored_ids)), "a message was stored twice"
        for talker in pair:
            assert not talker.refusals, talker.refusals
            assert len(talker.typed) >= 10
            # Each side's messages are stored once each, in the order they were typed.
            assert [cid for cid in stored_ids if cid.startswith(talker.prefix + "-")] == \
                talker.typed
        # Each side has received every message of the other (live, or in the history sent on
        # reconnecting), and goes on without a reload.
        for peer, other in ((visitor, pair[1]), (agent, pair[0])):
            peer.wait_connected(20)
            missing = {m["id"] for m in other.acked.values()} - _seen_ids(peer, chat_id)
            assert not missing, f"chat {chat_id}: messages {sorted(missing)} never arrived"
        for sender, receiver in ((visitor, agent), (agent, visitor)):
            body = f"still here {uuid.uuid4().hex[:6]}"
            ack = _send_as_a_client_does(sender, chat_id, body)
            assert ack["ok"] is True, ack
            receiver.wait("message", "/chat", lambda m, body=body: m["body"] == body, 20)
