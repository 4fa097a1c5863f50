"""A chat's whole story reaches a real receiver: signed, in order, each event once."""

from __future__ import annotations

import time

import pytest

from app.desk import chats, requests
from app.desk.errors import ValidationError
from app.extensions import db
from app.integration import webhooks
from app.models import OutboxStatus
from tests.integration.conftest import SECRET
from tests.integration.support import chat_story, deliveries, make_due, send


def _chat_events(received, chat_id):
    def about_chat(item):
        data = item.json["data"]
        return data.get("chat_id") == chat_id or data.get("chat", {}).get("id") == chat_id
    return [item for item in received if about_chat(item)]


def test_a_chats_story_arrives_signed_in_order_each_event_once(app, desk, webhook, receiver):
    chat_id = chat_story(desk, messages=3)
    stats = send()
    received = receiver.wait_for(len(deliveries()))
    assert stats.sent == len(received) and stats.retrying == stats.failed == 0

    story = [item.event for item in _chat_events(received, chat_id)]
    greeting = ["message.created"] if desk.hardware.greeting else []
    assert story == ["chat.requested", "chat.accepted", *greeting, *["message.created"] * 6,
                     "chat.closed"]
    bodies = [m.json["data"]["message"]["body"] for m in _chat_events(received, chat_id)
              if m.event == "message.created"]
    assert bodies[-6:] == ["visitor 0", "agent 0", "visitor 1", "agent 1", "visitor 2",
                           "agent 2"]
    assert all(item.signed_by(SECRET) for item in received)
    assert not any(item.signed_by("another secret of someone else") for item in received)
    ids = [item.json["id"] for item in received]
    assert len(set(ids)) == len(ids)  # each event once
    deliveries_ids = [item.headers["X-Desk-Delivery"] for item in received]
    assert len(set(deliveries_ids)) == len(received)
    assert {row.status for row in deliveries()} == {OutboxStatus.SENT}
    assert {row.response_code for row in deliveries()} == {200}


def test_payloads_say_what_happened(app, desk, webhook, receiver):
    chat_id = chat_story(desk, messages=1)
    send()
    by_event = {}
    for item in receiver.wait_for(len(deliveries())):
        by_event.setdefault(item.event, []).append(item)
        assert item.path == "/hooks/desk"
        assert item.headers["Content-Type"] == "application/json"
        assert item.headers["X-Desk-Event"] == item.event
        assert abs(int(item.headers["X-Desk-Timestamp"]) - time.time()) < 60
        assert set(item.json) == {"id", "event", "occurred_at", "data"}
        assert item.json["occurred_at"].endswith("Z")
    requested = by_event["chat.requested"][0].json["data"]["chat"]
    assert requested["id"] == chat_id and requested["status"] == "WAITING"
    assert requested["queue"]["name"] == "Hardware"
    assert requested["end_user"]["email"] == "zoe@example.com"
    accepted = by_event["chat.accepted"][0].json["data"]["chat"]
    assert accepted["status"] == "ACTIVE" and accepted["agent"]["name"] == "Alice Agent"
    closed = by_event["chat.closed"][0].json["data"]["chat"]
    assert closed["status"] == "CLOSED" and closed["closed_by"] == "AGENT"
    message = by_event["message.created"][-1].json["data"]
    assert message["chat_id"] == chat_id and message["message"]["body"] == "agent 0"
    assert message["message"]["sender"] == {"role": "AGENT", "name": "Alice Agent"}
    created = by_event["sr.created"][0].json["data"]["sr"]
    assert created["number"] == requested["sr"]["number"] and created["status"] == "QUEUED"
    updated = by_event["sr.updated"][-1].json["data"]["sr"]
    assert updated["owner"]["name"] == "Alice Agent" and updated["version"] >= 2


def test_an_sr_edit_is_one_sr_updated_with_the_new_state(app, desk, webhook, receiver):
    requested = chats.request_chat(name="Zoë", email="zoe@example.com", queue="Hardware",
                                   question="Printer jam")
    sr = requested.sr
    send()
    before = len(receiver.wait_for(len(deliveries())))
    requests.update_service_request(sr.id, actor=desk.alice, expected_version=sr.version,
                                    changes={"impact": 2, "urgency": 3}, status="INPROGRESS")
    send()
    [update] = receiver.wait_for(before + 1)[before:]
    assert update.event == "sr.updated"
    assert update.json["data"]["sr"]["status"] == "INPROGRESS"
    assert update.json["data"]["sr"]["impact"] == 2


def test_a_rolled_back_change_writes_no_delivery(app, desk, webhook, receiver):
    with pytest.raises(ValidationError):
        chats.request_chat(name="Zoë", email="not an address", queue="Hardware",
                           question="Printer jam")
    sr = chats.request_chat(name="Zoë", email="zoe@example.com", queue="Hardware",
                            question="Printer jam").sr
    count = len(deliveries())
    with pytest.raises(ValidationError):  # no solution: refused, nothing written
        requests.update_service_request(sr.id, actor=desk.alice, expected_version=sr.version,
                                        status="RESOLVED")
    assert len(deliveries()) == count


def test_a_webhook_gets_only_the_events_it_subscribed_to(app, desk, receiver):
    webhooks.add_webhook(receiver.url, secret=SECRET, events="chat.closed,chat.accepted")
    chat_story(desk, messages=2)
    send()
    assert receiver.events() == ["chat.accepted", "chat.closed"]


def test_a_disabled_webhook_gets_nothing_and_holds_what_was_written(app, desk, webhook,
                                                                    receiver):
    chats.request_chat(name="Zoë", email="zoe@example.com", queue="Hardware", question="Hi")
    webhook.is_enabled = False
    db.session.commit()
    written = len(deliveries())
    chats.request_chat(name="Ann", email="ann@example.com", queue="Hardware", question="Hi")
    assert len(deliveries()) == written  # nothing new while it is off
    assert send().claimed == 0 and receiver.received == []
    webhook.is_enabled = True
    db.session.commit()
    send()
    assert len(receiver.wait_for(written)) == written


def test_every_webhook_gets_its_own_delivery_of_the_same_event(app, desk, receiver):
    from tests.integration.receiver import Receiver

    other = Receiver().start()
    try:
        webhooks.add_webhook(receiver.url, secret=SECRET, events="chat.requested")
        webhooks.add_webhook(other.url, secret="another-secret-of-16+", events="chat.requested")
        chats.request_chat(name="Zoë", email="zoe@example.com", queue="Hardware", question="Hi")
        send()
        [first], [second] = receiver.wait_for(1), other.wait_for(1)
    finally:
        other.stop()
    assert first.json["id"] == second.json["id"]  # one event …
    assert first.headers["X-Desk-Delivery"] != second.headers["X-Desk-Delivery"]  # … two
    assert first.signed_by(SECRET) and second.signed_by("another-secret-of-16+")


def test_nothing_is_sent_twice_by_later_passes(app, desk, webhook, receiver):
    chat_story(desk, messages=1)
    send()
    count = len(receiver.wait_for(len(deliveries())))
    make_due()
    assert send().claimed == 0
    time.sleep(0.2)
    assert len(receiver.received) == count
