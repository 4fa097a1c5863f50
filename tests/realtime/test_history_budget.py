"""History pages have a budget of their own: a long chat resumes page after page without
waiting for the event budget (and leaves it whole for messages), while a client asking for
history in a tight loop is still held to SOCKET_HISTORY_BURST and SOCKET_HISTORY_PER_SECOND.

The server keeps every default limit but the page size: 20 messages a page, so that 1,000
messages are the fifty pages of a 10,000-message chat.
"""

from __future__ import annotations

import threading
import time

import pytest

from tests.conftest import BACKENDS, seeded_database
from tests.realtime.peers import TIMEOUT, client_id, request_chat
from tests.support.chat_fill import fill_chat
from tests.support.server import LiveServer

pytestmark = pytest.mark.live

HISTORY_BURST, HISTORY_PER_SECOND = 60, 10  # the defaults


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("history-budget")
    live = LiveServer(seeded_database(request.param, tmp), log_path=tmp / "server.log",
                      env={"HISTORY_PAGE_MESSAGES": "20"})
    live.start()
    request.addfinalizer(live.stop)
    return live


def live_chat(server, peers, email: str):
    alice = peers.agent(server, "alice")
    made = request_chat(server.url, email=email)
    end_user = peers.visitor(server, made["visitor_token"])
    assert alice.call("accept", {"chat_id": made["chat_id"]}, "/queue")["ok"] is True
    end_user.wait("agent_joined", "/chat")
    return made["chat_id"], alice, end_user


def test_a_long_chat_resumes_page_after_page_and_its_messages_still_go(server, peers):
    chat_id, alice, end_user = live_chat(server, peers, "resume@example.org")
    fill_chat(server.database_url, chat_id, 1_000)
    for peer in (end_user, alice):  # the widget and the console
        pages, after = [], 0
        while not pages or pages[-1]["more"]:
            pages.append(peer.call("history", {"chat_id": chat_id, "after_seq": after}))
            assert pages[-1]["ok"] is True, f"page {len(pages)}: {pages[-1]}"
            after = pages[-1]["messages"][-1]["seq"]
        assert len(pages) > 50
        assert [m["seq"] for page in pages for m in page["messages"]] == list(
            range(1, pages[-1]["last_seq"] + 1))
        assert pages[-1]["last_seq"] >= 1_002  # the question, the greeting, the 1,000
        # Its event budget is whole: a message goes at once.
        sent = peer.call("send", {"chat_id": chat_id, "body": "caught up",
                                  "client_id": client_id()})
        assert sent["ok"] is True, sent


def test_history_asked_in_a_tight_loop_is_held_to_its_budget(server, peers):
    chat_id, _, end_user = live_chat(server, peers, "tight-loop@example.org")
    answers, done, lock = [], threading.Event(), threading.Lock()
    asked = 200

    def answered(reply):
        with lock:
            answers.append(reply)
            if len(answers) == asked:
                done.set()

    started = time.monotonic()
    for _ in range(asked):
        end_user.sio.emit("history", {"chat_id": chat_id}, namespace="/chat",
                          callback=answered)
    assert done.wait(3 * TIMEOUT), f"{len(answers)} of {asked} answered"
    elapsed = time.monotonic() - started
    served = [a for a in answers if a.get("ok")]
    refused = [a for a in answers if a.get("error") == "rate_limited"]
    assert len(served) + len(refused) == asked
    assert HISTORY_BURST <= len(served) <= HISTORY_BURST + HISTORY_PER_SECOND * elapsed + 1
    # Its messages are another budget: they still go.
    sent = end_user.call("send", {"chat_id": chat_id, "body": "still here",
                                  "client_id": client_id()})
    assert sent["ok"] is True, sent
