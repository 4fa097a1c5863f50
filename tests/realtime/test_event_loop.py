"""One manager's heavy admin pages never hold the server's only thread: chats go on.

The server runs its green threads on one OS thread; a page that spends a second of CPU in
Python (a form listing 20,000 persons as <option>s did) stops every socket for that second.
Here the heaviest admin pages are requested one after another on a desk with tens of
thousands of persons and assets, while an end user and an agent chat on the same server:
messages must still arrive within 100 ms (they take a few ms; with the old forms, seconds).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import BACKENDS
from tests.realtime.peers import client_id, login_cookie, request_chat
from tests.support import databases
from tests.support.server import LiveServer

ROOT = Path(__file__).resolve().parents[2]
# A message takes a few ms: it must take under 100 ms, and none may stall for a second (a
# shared, busy test machine adds hiccups of its own to the worst one). With the forms that
# listed every person the median was 160 ms and the worst 2.7 s.
MEDIAN_LIMIT_S, WORST_LIMIT_S = 0.100, 1.0
# Enough rows that a page listing them took seconds (the new-SR form: ~1 s per 10,000).
FILL = ["--srs", "2000", "--persons", "20000", "--cis", "2000", "--assets", "20000",
        "--waiting", "5", "--active", "3"]
# The forms that listed whole tables, and the SR list.
HEAVY_PAGES = ["/admin/servicerequest/new/", "/admin/persongroup/edit/?id=1",
               "/admin/servicerequest/edit/?id=1000", "/admin/servicerequest/"]

pytestmark = [pytest.mark.live, pytest.mark.slow]


@pytest.fixture(scope="module", params=BACKENDS)
def busy_desk(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("busy")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'desk.sqlite3'}"
    else:
        url = databases.create_postgres_database()
    done = subprocess.run([sys.executable, "-m", "bench.large_desk", url, *FILL], cwd=ROOT,
                          env={**os.environ, "ASYNC_MODE": "threading"}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    # This end user writes faster than a person: the per-socket flood limit is lifted.
    server = LiveServer(url, log_path=tmp / "server.log", env={
        "CHAT_ABANDON_GRACE": "86400", "CHAT_IDLE_TIMEOUT": "86400",
        "SOCKET_EVENTS_PER_SECOND": "1000", "SOCKET_EVENT_BURST": "1000"})
    server.start()
    yield server
    server.stop()


def test_chat_messages_flow_while_the_heaviest_admin_pages_render(busy_desk, peers):
    base = busy_desk.url
    chat = request_chat(base, queue="Hardware")
    alice = peers.agent(busy_desk, "alice")
    assert alice.call("accept", {"chat_id": chat["chat_id"]}, "/queue")["ok"]
    end_user = peers.visitor(busy_desk, chat["visitor_token"])

    manager = requests.Session()
    manager.headers["Cookie"] = login_cookie(base, "maria")
    pages: list[float] = []
    stop = threading.Event()

    def render_pages() -> None:
        while not stop.is_set():
            for page in HEAVY_PAGES:
                started = time.perf_counter()
                answer = manager.get(base + page, timeout=60)
                assert answer.status_code == 200, (page, answer.status_code)
                pages.append(time.perf_counter() - started)

    renderer = threading.Thread(target=render_pages, daemon=True)
    renderer.start()
    trips = []
    try:
        time.sleep(0.05)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline or len(pages) < len(HEAVY_PAGES):
            key = client_id()
            started = time.perf_counter()
            end_user.sio.emit("send", {"chat_id": chat["chat_id"], "body": "still there?",
                                       "client_id": key}, namespace="/chat")
            alice.wait("message", "/chat", lambda m, key=key: m["client_id"] == key,
                       timeout=30)
            trips.append(time.perf_counter() - started)
            time.sleep(0.02)
    finally:
        stop.set()
        renderer.join(60)
    assert len(pages) >= len(HEAVY_PAGES)  # every heavy page rendered meanwhile
    median, worst = statistics.median(trips), max(trips)
    assert median < MEDIAN_LIMIT_S and worst < WORST_LIMIT_S, (
        f"{len(trips)} messages, median {median * 1000:.1f} ms, worst {worst * 1000:.1f} ms "
        f"while {len(pages)} pages rendered")
