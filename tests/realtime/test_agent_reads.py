"""What an agent reads over the sockets costs a fixed number of statements, however many
chats: the waiting list, and the history of every live chat when the console connects.

In-process (Flask-SocketIO's test clients): statements are counted at the engine.
"""

from __future__ import annotations

import pytest
from flask import current_app

from app.desk import chats
from app.extensions import db, socketio
from app.models import SenderRole
from tests.support.sql import recorded


def _request(n: int, queue: str = "Hardware"):
    return chats.request_chat(name=f"User {n}", email=f"user{n}@example.org", queue=queue,
                              question=f"Printer {n} is offline")


@pytest.fixture
def alice_client(app, desk, client):
    assert client.post("/login", data={"username": "alice", "password": "demo"}
                       ).status_code == 302
    return client


def _statements(action) -> tuple[int, object]:
    # A context of its own, as a served event has: nothing loaded before is at hand.
    with current_app.app_context(), recorded(db.engine) as seen:
        result = action()
    return len(seen), result


def test_waiting_list_costs_the_same_statements_for_2_or_12_waiting_chats(alice_client, app):
    agent = socketio.test_client(app, namespace="/queue", flask_test_client=alice_client)

    def waiting_list():
        return agent.emit("waiting_list", {}, namespace="/queue", callback=True)

    for n in range(2):
        _request(n, "Software" if n % 2 else "Hardware")
    few, answer = _statements(waiting_list)
    assert [c["end_user"]["name"] for c in answer["chats"]] == ["User 0", "User 1"]
    for n in range(2, 12):
        _request(n, "Software" if n % 2 else "Hardware")
    many, answer = _statements(waiting_list)
    assert len(answer["chats"]) == 12 and many == few
    first = answer["chats"][0]
    assert first["queue"]["name"] == "Hardware" and first["sr"]["number"].startswith("SR")
    agent.disconnect(namespace="/queue")


def _live_chats(desk, start: int, count: int) -> list[int]:
    made = []
    for n in range(start, start + count):
        chat_id = _request(n).chat.id
        chats.accept_chat(chat_id, desk.alice)
        chats.post_message(chat_id, chats.Sender.agent(desk.alice), f"Hello {n}", f"a{n}")
        made.append(chat_id)
    return made


def test_connecting_sends_every_live_chat_in_a_fixed_number_of_statements(alice_client, app,
                                                                          desk):
    def connect(auth=None):
        console = socketio.test_client(app, namespace="/chat", flask_test_client=alice_client,
                                       auth=auth)
        histories = {e["args"][0]["chat_id"]: e["args"][0]
                     for e in console.get_received("/chat") if e["name"] == "history"}
        console.disconnect(namespace="/chat")
        return histories

    mine = _live_chats(desk, 0, 2)
    few, histories = _statements(connect)
    assert sorted(histories) == mine
    mine += _live_chats(desk, 2, 7)
    many, histories = _statements(connect)
    assert sorted(histories) == mine and many == few
    third = histories[mine[2]]
    assert [m["body"] for m in third["messages"]] == [
        "Printer 2 is offline", third["messages"][1]["body"], "Hello 2"]
    assert third["messages"][1]["sender"]["role"] == SenderRole.AGENT.value  # the greeting
    assert third["chat"]["end_user"]["name"] == "User 2"
    # With the last message it holds, a reconnecting console gets only what is newer.
    last = {str(chat_id): h["messages"][-1]["id"] for chat_id, h in histories.items()}
    chats.post_message(mine[0], chats.Sender.agent(desk.alice), "Still there?", "late")
    again = connect({"last_message_ids": last})
    assert [m["body"] for m in again[mine[0]]["messages"]] == ["Still there?"]
    assert all(again[chat_id]["messages"] == [] for chat_id in mine[1:])
