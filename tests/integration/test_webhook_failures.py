"""Receivers that are down, fail, hang or redirect: nothing is lost, nothing doubled, and
each chat's events still arrive in order."""

from __future__ import annotations

import time

import pytest

from app.desk import chats
from app.desk.errors import ValidationError
from app.integration import addresses, delivery, webhooks
from app.integration import sender as webhook_sender
from app.models import OutboxStatus
from app.outbox.sender import DeliveryError
from tests.integration.conftest import SECRET
from tests.integration.support import chat_story, deliveries, make_due, send


def _in_order_once(received) -> None:
    ids = [item.json["id"] for item in received]
    assert len(ids) == len(set(ids))
    rows = {row.event_id: row for row in deliveries()}
    by_key: dict[str, list[int]] = {}
    for item in received:
        row = rows[item.json["id"]]
        by_key.setdefault(row.order_key, []).append(row.id)
    for key, order in by_key.items():
        assert order == sorted(order), f"{key} out of order: {order}"


def test_a_receiver_down_for_a_while_then_back_gets_everything_in_order(app, desk, webhook,
                                                                        receiver):
    receiver.stop()
    chat_story(desk, messages=2)
    written = len(deliveries())
    for _ in range(3):  # three rounds while it is down
        stats = send()
        assert stats.sent == 0 and stats.retrying == 1  # the receiver is skipped at once
        make_due()
    first = deliveries()[0]
    assert first.status == OutboxStatus.PENDING and first.attempts == 3
    assert "connection refused" in first.last_error
    assert {row.attempts for row in deliveries()[1:]} == {0}  # the rest kept their turn

    receiver.start()
    make_due()
    stats = send()
    received = receiver.wait_for(written)
    assert stats.sent == written and len(received) == written
    _in_order_once(received)
    assert {row.status for row in deliveries()} == {OutboxStatus.SENT}


def test_a_failing_receiver_is_retried_with_back_off_and_order_is_kept(app, desk, webhook,
                                                                       receiver):
    receiver.status = 500
    chat_story(desk, messages=2)
    written = len(deliveries())
    stats = send()
    assert stats.sent == 0 and stats.retrying == 2  # the first of the chat and of the SR
    heads = [row for row in deliveries() if row.attempts]
    assert {row.response_code for row in heads} == {500}
    assert all("answered 500" in row.last_error for row in heads)
    assert all(row.next_attempt_at > row.created_at for row in heads)  # backed off
    assert send().claimed == 0  # nothing due before the back-off, nothing jumps the line

    receiver.status = 200
    make_due()
    send()
    received = receiver.received[2:]  # after the two refused tries
    assert len(received) == written
    _in_order_once(received)


def test_a_delivery_failing_past_the_limit_is_failed_kept_and_can_be_retried(app, desk,
                                                                             webhook, receiver):
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 2
    receiver.status = 503
    chats.request_chat(name="Zoë", email="zoe@example.com", queue="Hardware", question="Hi")
    send()
    make_due()
    stats = send()
    assert stats.failed == 2
    failed = [row for row in deliveries() if row.status == OutboxStatus.FAILED]
    assert len(failed) == 2 and {row.attempts for row in failed} == {2}

    receiver.status = 200
    assert webhook_sender.retry_now([row.id for row in failed]) == 2
    send()
    assert {row.status for row in deliveries()} == {OutboxStatus.SENT}


def test_a_failed_delivery_does_not_hold_up_the_chats_later_events(app, desk, webhook,
                                                                   receiver):
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 1
    receiver.status = 500
    chat_id = chats.request_chat(name="Zoë", email="zoe@example.com", queue="Hardware",
                                 question="Hi").chat.id
    send()
    receiver.status = 200
    chats.accept_chat(chat_id, desk.alice)
    send()
    assert "chat.accepted" in receiver.events()


def test_a_hanging_receiver_costs_one_time_out_per_pass(app, desk, webhook, receiver):
    app.config["WEBHOOK_TIMEOUT"] = 0.5
    receiver.hang.set()
    chat_story(desk, messages=1)
    started = time.monotonic()
    stats = send()
    elapsed = time.monotonic() - started
    assert stats.retrying == 1 and stats.sent == 0
    assert elapsed < 3, elapsed  # skipped after one time-out, not one per delivery
    assert "no answer within the time-out" in deliveries()[0].last_error


def test_redirects_are_not_followed(app, desk, webhook, receiver):
    receiver.status = 307
    receiver.location = "http://127.0.0.1:9/internal"
    chats.request_chat(name="Zoë", email="zoe@example.com", queue="Hardware", question="Hi")
    send()
    row = deliveries()[0]
    assert row.status == OutboxStatus.PENDING and row.response_code == 307
    assert "redirects are not followed" in row.last_error
    assert "http://127.0.0.1:9/internal" in row.last_error


# --- where webhooks may go ----------------------------------------------------------------

@pytest.mark.parametrize("url", ["ftp://example.com/x", "javascript:alert(1)", "example.com",
                                 "http://user:pw@example.com/", "http:///nohost", "",
                                 "http://exa mple.com/"])
def test_only_http_urls_can_be_registered(app, url):
    with pytest.raises(ValidationError) as refused:
        webhooks.add_webhook(url, secret=SECRET)
    assert refused.value.code == "refused_url"


def test_private_and_loopback_receivers_are_refused_unless_allowed(app, receiver):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    for url in (receiver.url, "http://10.1.2.3/x", "http://[::1]:8080/", "http://169.254.169.254/",
                "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/"):
        with pytest.raises(ValidationError) as refused:
            webhooks.add_webhook(url, secret=SECRET)
        assert "public addresses only" in refused.value.message
    app.config["WEBHOOK_ALLOW_PRIVATE"] = True
    assert webhooks.add_webhook(receiver.url, secret=SECRET).id


def test_the_address_is_checked_again_at_delivery(app, desk, webhook, receiver):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False  # e.g. the setting was turned off since
    chats.request_chat(name="Zoë", email="zoe@example.com", queue="Hardware", question="Hi")
    stats = send()
    assert stats.sent == 0 and receiver.received == []
    row = deliveries()[0]
    assert row.status == OutboxStatus.PENDING and "Not sent" in row.last_error


def _request(url: str) -> delivery.Request:
    return delivery.Request(webhook_id=1, url=url, secret=SECRET, delivery_id="d-1",
                            event="chat.requested", body=b'{"id": "e-1"}')


def test_a_name_that_resolves_elsewhere_later_is_refused(receiver):
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])

    def resolver(host, port):
        return next(answers)

    url = f"http://hooks.example.test:{receiver.port}/in"
    assert addresses.check(url, allow_private=False, resolve=resolver).address == "93.184.215.14"
    with pytest.raises(DeliveryError) as refused:  # at delivery, it now points inside
        delivery.post(_request(url), timeout=2, allow_private=False, resolve=resolver)
    assert "127.0.0.1 is a loopback address" in str(refused.value)
    assert receiver.received == []


def test_the_request_goes_to_the_address_that_was_checked(receiver):
    url = f"http://hooks.example.test:{receiver.port}/in"
    status = delivery.post(_request(url), timeout=2, allow_private=True,
                           resolve=lambda host, port: ["127.0.0.1"])
    [item] = receiver.received
    assert status == 200 and item.path == "/in"
    assert item.headers["Host"] == f"hooks.example.test:{receiver.port}"  # never looked up again


def test_unknown_events_and_short_secrets_are_refused(app, receiver):
    with pytest.raises(ValidationError) as unknown:
        webhooks.add_webhook(receiver.url, secret=SECRET, events="chat.requested,chat.exploded")
    assert unknown.value.code == "unknown_event" and "chat.exploded" in unknown.value.message
    with pytest.raises(ValidationError) as short:
        webhooks.add_webhook(receiver.url, secret="short")
    assert short.value.field == "secret"
