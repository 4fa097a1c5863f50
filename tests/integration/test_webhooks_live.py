"""Webhooks from a real server process (python wsgi.py): its own sender delivers a chat made
over real sockets, and a receiver that hangs does not slow the chat (measured)."""

from __future__ import annotations

import statistics
import time

import pytest

from tests.conftest import BACKENDS, seeded_database
from tests.integration.conftest import SECRET
from tests.integration.receiver import Receiver
from tests.realtime.peers import agent, client_id, request_chat, visitor
from tests.support.server import LiveServer

pytestmark = pytest.mark.live

WEBHOOK_TIMEOUT = 3.0


@pytest.fixture(params=BACKENDS)
def hooked_server(request, tmp_path):
    """A live server whose in-process sender delivers to a receiver on loopback."""
    from app import create_app
    from app.extensions import db
    from app.integration import webhooks

    url = seeded_database(request.param, tmp_path)
    receiver = Receiver().start()
    application = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with application.app_context():
        webhooks.add_webhook(receiver.url, secret=SECRET)
        db.session.remove()
        db.engine.dispose()
    server = LiveServer(url, log_path=tmp_path / "server.log", env={
        "WEBHOOK_WORKER_INTERVAL": "1", "WEBHOOK_ALLOW_PRIVATE": "true",
        "WEBHOOK_TIMEOUT": str(WEBHOOK_TIMEOUT), "WEBHOOK_RETRY_DELAY": "1"}).start()
    yield server, receiver
    server.stop()
    receiver.stop()


def _chat(server, messages: int) -> tuple[int, list[float]]:
    """A chat over real sockets; the end user's send-to-acknowledgement times."""
    made = request_chat(server.url, queue="Software")
    alice = agent(server.url, "alice")
    try:
        assert alice.call("accept", {"chat_id": made["chat_id"]}, "/queue")["ok"] is True
        erin = visitor(server.url, made["visitor_token"])
        try:
            times = []
            for n in range(messages):
                started = time.perf_counter()
                ack = erin.call("send", {"chat_id": made["chat_id"], "body": f"message {n}",
                                         "client_id": client_id()})
                times.append(time.perf_counter() - started)
                assert ack["ok"] is True, ack
            assert alice.call("close", {"chat_id": made["chat_id"]})["ok"] is True
        finally:
            erin.disconnect()
    finally:
        alice.disconnect()
    return made["chat_id"], times


def test_the_server_process_delivers_a_chats_story_in_order(hooked_server):
    server, receiver = hooked_server
    chat_id, _ = _chat(server, messages=5)
    deadline = time.monotonic() + 30
    while "chat.closed" not in receiver.events() and time.monotonic() < deadline:
        time.sleep(0.1)
    story = [item for item in receiver.received
             if item.json["data"].get("chat_id") == chat_id
             or item.json["data"].get("chat", {}).get("id") == chat_id]
    events = [item.event for item in story]
    assert events[0] == "chat.requested" and events[-1] == "chat.closed", events
    assert events[1] == "chat.accepted"
    bodies = [item.json["data"]["message"]["body"] for item in story
              if item.event == "message.created"
              and item.json["data"]["message"]["sender"]["role"] == "VISITOR"]
    assert bodies == [f"message {n}" for n in range(5)]
    assert all(item.signed_by(SECRET) for item in receiver.received)
    ids = [item.json["id"] for item in receiver.received]
    assert len(ids) == len(set(ids))


def test_a_hanging_receiver_does_not_delay_the_chat(hooked_server):
    server, receiver = hooked_server
    _, normal = _chat(server, messages=20)
    receiver.hang.set()  # from now on it accepts, reads, and never answers
    started = time.monotonic()
    _, hanging = _chat(server, messages=20)
    elapsed = time.monotonic() - started
    receiver.release.set()
    normal_p50, hanging_p50 = statistics.median(normal), statistics.median(hanging)
    print(f"\nsend acknowledged: median {normal_p50 * 1000:.1f} ms with a receiver that "
          f"answers, {hanging_p50 * 1000:.1f} ms with one that hangs "
          f"(max {max(hanging) * 1000:.1f} ms; the sender waits {WEBHOOK_TIMEOUT} s per try)")
    assert max(hanging) < WEBHOOK_TIMEOUT / 3  # no message waited for the receiver
    assert hanging_p50 < max(3 * normal_p50, normal_p50 + 0.05)
    assert elapsed < 20
