"""GET /metrics: Prometheus text that the official parser reads, figures that follow the
desk, and access only for the scraper. (Several processes adding up: tests/deploy.)"""

from __future__ import annotations

import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from app.desk import chats
from app.extensions import db


def scrape(client, **kwargs) -> dict[tuple, float]:
    reply = client.get("/metrics", **kwargs)
    assert reply.status_code == 200, reply.data
    assert reply.content_type.startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(reply.get_data(as_text=True))
            for sample in family.samples}


def value(figures: dict, name: str, **labels) -> float:
    return sum(v for (sample, sample_labels), v in figures.items()
               if sample == name and all((k, str(w)) in sample_labels for k, w in labels.items()))


def moved(before: dict, after: dict, name: str, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_figures_move_when_a_chat_happens(client, desk):
    before = scrape(client)
    made = client.post("/api/chat-requests", json={
        "name": "Erin End-User", "email": "erin@example.org", "queue": "Software",
        "question": "My mail client keeps asking for a password."}).get_json()
    waiting = scrape(client)
    assert value(waiting, "desk_chats_waiting", queue="Software") == 1
    assert value(waiting, "desk_chats_waiting", queue="Hardware") == 0
    assert value(waiting, "desk_chats_oldest_wait_seconds", queue="Software") >= 0
    assert moved(before, waiting, "desk_events_total", event="chat_waiting") == 1

    chats.accept_chat(made["chat_id"], desk.alice)
    chats.post_message(made["chat_id"], chats.Sender.agent(desk.alice), "Hello!", "m-1")
    after = scrape(client)
    assert value(after, "desk_chats_waiting", queue="Software") == 0
    assert moved(before, after, "desk_events_total", event="chat_accepted") == 1
    assert moved(before, after, "desk_chat_wait_seconds_count") == 1
    assert moved(before, after, "desk_messages_stored_total", sender="AGENT") == 2  # + greeting
    assert value(after, "desk_backend_up", backend="database") == 1
    assert value(after, "desk_outbox_messages", outbox="mail", status="PENDING") == 0


def test_socket_events_database_errors_and_outbox_passes_are_counted(client, app):
    from app import metrics

    before = scrape(client)
    metrics.socket_event("/chat", "send", "ok", 0.004)
    metrics.outbox_pass("mail", sent=2, failed=1)
    with pytest.raises(Exception):  # noqa: B017 - whichever error the database raises
        db.session.execute(text("SELECT * FROM no_such_table"))
    db.session.rollback()
    # How python-socketio's Redis manager reports a lost publish or subscription.
    logging.getLogger("socketio.server").error("Cannot publish to redis... retrying",
                                               extra={"redis_exception": "Connection refused"})
    after = scrape(client)
    assert moved(before, after, "desk_socket_event_seconds_count", event="send") == 1
    assert moved(before, after, "desk_socket_events_total", event="send", outcome="ok") == 1
    assert moved(before, after, "desk_outbox_deliveries_total", outcome="sent") == 2
    assert moved(before, after, "desk_outbox_deliveries_total", outcome="failed") == 1
    assert moved(before, after, "desk_backend_errors_total", backend="database") == 1
    assert moved(before, after, "desk_backend_errors_total", backend="redis") == 1


def test_only_the_scraper_gets_in(app, client):
    assert client.get("/metrics").status_code == 200  # loopback by default
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.5"}).status_code == 403

    app.config["METRICS_ALLOWED_IPS"] = ["10.0.0.0/8"]
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200

    app.config.update(METRICS_ALLOWED_IPS=[], METRICS_TOKEN="s3cret")
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401 and "Bearer" in wrong.headers["WWW-Authenticate"]
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.5"},
                      headers={"Authorization": "Bearer s3cret"}).status_code == 200

    app.config.update(METRICS_ALLOWED_IPS=[], METRICS_TOKEN=None)
    assert client.get("/metrics").status_code == 403  # neither: closed
