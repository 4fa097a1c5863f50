"""Several senders at once (threads, commands, server processes): each delivery once per
attempt, each chat's events still in order."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from app.extensions import db
from app.integration import webhooks
from app.models import OutboxStatus
from tests.integration.conftest import SECRET
from tests.integration.support import chat_story, deliveries
from tests.integration.test_webhook_failures import _in_order_once
from tests.support.server import ROOT

pytestmark = pytest.mark.live


def test_three_senders_at_once_send_each_delivery_once_and_in_order(app, desk, webhook,
                                                                    receiver):
    from app.integration import sender

    for n in range(4):
        chat_story(desk, email=f"user{n}@example.com", messages=3)
    written = len(deliveries())
    receiver.delay = 0.005
    start = threading.Barrier(3)
    results, errors = {}, []

    def run(name: str) -> None:
        """Pass after pass until nothing waits (as a worker's loop does)."""
        with app.app_context():
            try:
                start.wait(timeout=10)
                results[name] = sender.send_due(name, limit=500)
                while any(row.status != OutboxStatus.SENT for row in deliveries()):
                    results[name].add(sender.send_due(name, limit=500))
                    db.session.remove()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(f"worker-{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    received = receiver.wait_for(written)
    assert len(received) == written
    assert sum(stats.sent for stats in results.values()) == written
    _in_order_once(received)
    rows = deliveries()
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    assert {row.attempts for row in rows} == {1}


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST_"))}
    env.update(APP_ENV="production", SECRET_KEY="cli-test-secret-key", DATABASE_URL=database_url,
               WEBHOOK_ALLOW_PRIVATE="true")
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


def test_add_webhook_and_two_send_webhooks_commands(app, desk, receiver, database_url):
    db.session.remove()
    added = _cli(database_url, "add-webhook", receiver.url, "--secret", SECRET,
                 "--events", "chat.requested,message.created,chat.closed")
    assert added.returncode == 0, added.stderr
    assert "receives chat.requested, message.created, chat.closed" in added.stdout
    refused = _cli(database_url, "add-webhook", "ftp://example.com/", "--secret", SECRET)
    assert refused.returncode != 0 and "http:// and https://" in refused.stderr

    for n in range(3):
        chat_story(desk, email=f"user{n}@example.com", messages=2)
    db.session.remove()
    written = len(deliveries())
    receiver.delay = 0.005
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "send-webhooks", "--limit", "3"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST_"))}
    env.update(APP_ENV="production", SECRET_KEY="cli-test-secret-key",
               DATABASE_URL=database_url, WEBHOOK_ALLOW_PRIVATE="true")
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    received = receiver.wait_for(written)
    assert len(received) == written == 3 * 7  # requested, greeting, 4 messages, closed
    _in_order_once(received)
    assert all(item.signed_by(SECRET) for item in received)
    assert all("Webhook outbox:" in output for output in outputs), outputs


def test_webhooks_registered_by_the_cli_are_refused_like_anywhere(app, database_url):
    db.session.remove()
    done = _cli(database_url, "add-webhook", "http://127.0.0.1:9/x", "--secret", "short")
    assert done.returncode != 0 and "at least 16 characters" in done.stderr


def test_the_registration_helper_and_the_cli_agree_on_all_events(app, receiver):
    webhook = webhooks.add_webhook(receiver.url, secret=SECRET)
    assert webhook.event_names == ["chat.requested", "chat.accepted", "chat.transferred",
                                   "message.created", "chat.closed", "sr.created",
                                   "sr.updated"]
