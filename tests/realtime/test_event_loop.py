"""One manager's heavy admin pages never hold the server's only thread: chats go on.

The server runs its green threads on one OS thread; a page that spends a second of CPU in
Python (a form listing 20,000 persons as <option>s did) stops every socket for that second.
Here the heaviest admin pages are requested one after another on a desk with tens of
thousands of persons and assets, while an end user and an agent chat on the same server:
every message arrives meanwhile, and no page carries a whole table (the forms that did were
megabytes). How long a message takes meanwhile is measured by the volume run
(`bench/volume.py`, its event-loop line), not here: a timed test only measures how busy the
test machine is.
"""

from __future__ import annotations

import os
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
# A page of the large desk stays as small as the demo desk's (tens of kB); the forms that
# listed every person and asset as <option>s were megabytes.
PAGE_LIMIT_BYTES = 400_000
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
    pages: dict[str, int] = {}
    stop = threading.Event()
    rendered: list[str] = []

    def render_pages() -> None:
        while not stop.is_set():
            for page in HEAVY_PAGES:
                answer = manager.get(base + page, timeout=60)
                assert answer.status_code == 200, (page, answer.status_code)
                pages[page] = max(pages.get(page, 0), len(answer.content))
                rendered.append(page)

    renderer = threading.Thread(target=render_pages, daemon=True)
    renderer.start()
    arrived: list[str] = []
    try:
        time.sleep(0.05)
        deadline = time.monotonic() + 3
        while (time.monotonic() < deadline or len(rendered) < 2 * len(HEAVY_PAGES)
               or len(arrived) < 10):
            key = client_id()
            end_user.sio.emit("send", {"chat_id": chat["chat_id"], "body": "still there?",
                                       "client_id": key}, namespace="/chat")
            alice.wait("message", "/chat", lambda m, key=key: m["client_id"] == key,
                       timeout=30)
            arrived.append(key)
            time.sleep(0.02)
    finally:
        stop.set()
        renderer.join(60)
    # Every heavy page rendered (twice) while the chat went on, every message arrived.
    assert set(pages) == set(HEAVY_PAGES) and len(rendered) >= 2 * len(HEAVY_PAGES)
    assert len(arrived) >= 10
    assert max(pages.values()) < PAGE_LIMIT_BYTES, pages
