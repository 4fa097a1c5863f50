"""A client that stops reading: the server's memory stays bounded, the client is dropped, and
the other chats go on.

A raw socket (tests/support/stuck_client.py) joins its chat as the end user and never reads
again, while it asks for the chat's history over and over: far more bytes than the server may
keep waiting for one connection. The server process's resident memory is sampled all along.
Another stuck end user asks for nothing: Engine.IO's ping time-out alone drops him.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import BACKENDS, seeded_database
from tests.realtime.peers import TIMEOUT, client_id, request_chat
from tests.support.chat_fill import fill_chat
from tests.support.server import LiveServer, wait_until
from tests.support.stuck_client import StuckClient

pytestmark = [pytest.mark.live, pytest.mark.slow,
              pytest.mark.alone]  # the server's memory, measured: no other test beside it

MB = 1024 * 1024
PAGE_BYTES = 256 * 1024  # HISTORY_PAGE_BYTES, the default
ASKED_PAGES = 400  # 100 MB of history pages asked for by the stuck client
ASKED_PER_SECOND = 100
RSS_GROWTH_BOUND = 40 * MB
DROPPED_WITHIN = 10  # seconds from the end of its requests
PING_DROPPED_WITHIN = 35  # ping interval (10 s) + ping time-out (10 s) + the sweep's margin


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    """A live server whose event budgets let a client ask for a page every 10 ms: only the
    bound on what waits for a connection holds what it is sent."""
    tmp = tmp_path_factory.mktemp("slow-consumer")
    url = seeded_database(request.param, tmp)
    live = LiveServer(url, log_path=tmp / "server.log", env={
        "SOCKET_EVENTS_PER_SECOND": str(ASKED_PER_SECOND), "SOCKET_EVENT_BURST": "20",
        "SOCKET_HISTORY_PER_SECOND": str(ASKED_PER_SECOND), "SOCKET_HISTORY_BURST": "20"})
    live.start()
    request.addfinalizer(live.stop)
    return live


def rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024


def visitor_sockets(server) -> int:
    text = requests.get(f"{server.url}/metrics", timeout=TIMEOUT).text
    found = re.search(r'desk_sockets_connected\{kind="visitor",namespace="/chat"\} (\S+)', text)
    return int(float(found.group(1))) if found else 0


def accepted(server, alice, email: str) -> dict:
    made = request_chat(server.url, email=email)
    assert alice.call("accept", {"chat_id": made["chat_id"]}, "/queue")["ok"] is True
    return made


class PeakMemory(threading.Thread):
    """The highest resident memory of a process, sampled every few milliseconds."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = rss(pid)
        self.running = True

    def run(self) -> None:
        while self.running:
            try:
                self.peak = max(self.peak, rss(self.pid))
            except (OSError, AttributeError):  # the process is gone
                return
            time.sleep(0.005)

    def stop(self) -> int:
        self.running = False
        self.join()
        return self.peak


def test_a_client_that_stops_reading_is_dropped_and_the_server_memory_stays_bounded(
        server, peers):
    alice = peers.agent(server, "alice")
    stuck_chat = accepted(server, alice, "stuck@example.org")
    idle_chat = accepted(server, alice, "stuck-idle@example.org")
    other_chat = accepted(server, alice, "other@example.org")
    other = peers.visitor(server, other_chat["visitor_token"])
    fill_chat(server.database_url, stuck_chat["chat_id"], 100, size=3000)  # ~256 KB a page

    stuck = StuckClient(server.url, "/chat", {"visitor_token": stuck_chat["visitor_token"]})
    idle = StuckClient(server.url, "/chat", {"visitor_token": idle_chat["visitor_token"]})
    idle_since = time.monotonic()
    assert wait_until(lambda: visitor_sockets(server) == 3)
    baseline = rss(server.process.pid)
    memory = PeakMemory(server.process.pid)
    memory.start()

    # The other chat talks all along, one message at a time.
    sent, stop = [], threading.Event()

    def talk():
        while not stop.is_set() and len(sent) < 200:
            body = f"still here {len(sent)}"
            assert other.call("send", {"chat_id": other_chat["chat_id"], "body": body,
                                       "client_id": client_id()})["ok"] is True
            sent.append(body)
            time.sleep(0.02)

    talker = threading.Thread(target=talk, daemon=True)
    talker.start()
    try:
        for _ in range(ASKED_PAGES):
            stuck.emit("history", {"chat_id": stuck_chat["chat_id"], "after_seq": 0})
            time.sleep(1 / ASKED_PER_SECOND)
    except OSError:
        pass  # the server closed it: what it asked for no longer matters
    dropped = wait_until(lambda: visitor_sockets(server) == 2, DROPPED_WITHIN)
    time.sleep(1)
    peak = memory.stop()
    stop.set()
    talker.join(TIMEOUT)

    assert peak - baseline < RSS_GROWTH_BOUND, (
        f"server RSS grew by {(peak - baseline) / MB:.0f} MB while "
        f"{ASKED_PAGES * PAGE_BYTES / MB:.0f} MB were asked for by a client that reads nothing")
    assert dropped, f"the stuck client is still connected {DROPPED_WITHIN} s after its flood"
    # The other chat's every message reached its agent meanwhile.
    assert len(sent) >= 10
    for body in sent:
        alice.wait("message", "/chat", lambda m, body=body: m["body"] == body)
    # The stuck client finds its connection closed when it reads again.
    assert stuck.closed_by_server(PING_DROPPED_WITHIN)
    stuck.close()

    # The one who asked for nothing is dropped by the ping time-out.
    assert wait_until(lambda: visitor_sockets(server) == 1,
                      PING_DROPPED_WITHIN - (time.monotonic() - idle_since)), \
        "a client that answers no ping is still connected"
    assert idle.closed_by_server(TIMEOUT)
    idle.close()
