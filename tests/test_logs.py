"""Logs: one line per request and per desk event, carrying the request and chat ids; JSON
lines when LOG_FORMAT=json. (The JSON lines of real server processes: tests/deploy.)"""

from __future__ import annotations

import io
import json
import logging

import pytest

from app import logs
from app.desk import chats

pytestmark = pytest.mark.one_backend  # log lines, whatever the database

CHAT = {"name": "Erin End-User", "email": "erin@example.org", "queue": "Software",
        "question": "Help, please."}


@pytest.fixture
def log_at():
    """What the app logs meanwhile at a level, as LOG_FORMAT=json writes it."""
    stream = io.StringIO()
    handler = logs.make_handler(json_format=True, stream=stream)
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level

    def start(new_level: int):
        root.setLevel(new_level)
        return lambda: [json.loads(line) for line in stream.getvalue().splitlines()]

    yield start
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def json_lines(log_at):
    return log_at(logging.INFO)


def test_each_request_has_an_id_on_its_log_line_and_in_the_response(client, desk, json_lines):
    reply = client.post("/api/chat-requests", json=CHAT, headers={"X-Request-Id": "abc-123"})
    assert reply.status_code == 201 and reply.headers["X-Request-Id"] == "abc-123"
    chat_id = reply.get_json()["chat_id"]
    fresh = client.get("/login", headers={"X-Request-Id": "not a sane id; drop table"})
    assert fresh.headers["X-Request-Id"] != "not a sane id; drop table"
    assert len(fresh.headers["X-Request-Id"]) == 32

    lines = json_lines()
    [request] = [line for line in lines if line.get("kind") == "http"
                 and line["path"] == "/api/chat-requests"]
    assert request["request_id"] == "abc-123" and request["status"] == 201
    assert request["method"] == "POST" and request["remote_addr"] == "127.0.0.1"
    # The desk event the request caused is on its own line, with the same request id.
    [waiting] = [line for line in lines if line.get("event") == "ChatWaiting"]
    assert waiting["chat_id"] == chat_id and waiting["request_id"] == "abc-123"
    assert all(line["level"] and line["time"].endswith("Z") for line in lines)


def test_desk_events_are_logged_without_what_people_wrote(client, desk, log_at):
    json_lines = log_at(logging.DEBUG)
    made = client.post("/api/chat-requests", json=CHAT).get_json()
    chats.accept_chat(made["chat_id"], desk.alice)
    chats.post_message(made["chat_id"], chats.Sender.agent(desk.alice), "secret-body-42", "m-1")
    lines = json_lines()
    accepted = [line for line in lines if line.get("event") == "ChatAccepted"]
    assert accepted and accepted[0]["chat_id"] == made["chat_id"]
    assert accepted[0]["agent_id"] == desk.alice.id
    posted = [line for line in lines if line.get("event") == "MessagePosted"]
    assert {line["sender"] for line in posted} == {"AGENT"}
    assert all(line["chat_id"] == made["chat_id"] and line["message_id"] for line in posted)
    text = json.dumps(lines)
    assert "secret-body-42" not in text and "erin@example.org" not in text


def test_a_line_per_stored_message_only_at_debug(client, desk, json_lines):
    """At the default level the desk's life cycle is logged, not every message."""
    made = client.post("/api/chat-requests", json=CHAT).get_json()
    chats.accept_chat(made["chat_id"], desk.alice)
    chats.post_message(made["chat_id"], chats.Sender.agent(desk.alice), "hello", "m-1")
    events = [line.get("event") for line in json_lines()]
    assert "ChatAccepted" in events and "MessagePosted" not in events


def test_text_lines_carry_the_ids_too():
    record = logging.makeLogRecord({"name": "app.x", "levelname": "INFO", "msg": "hello",
                                    "request_id": "r-1", "chat_id": 17, "sid": None})
    line = logs.TextFormatter().format(record)
    assert line.endswith("app.x: hello [request_id=r-1 chat_id=17]")
