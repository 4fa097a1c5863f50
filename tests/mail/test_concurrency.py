"""Several senders at once (threads, CLI processes) still send every message exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from app.extensions import db
from app.mail import sender as mail_sender
from app.mail.compose import enqueue
from app.models import OutboxStatus
from tests.mail.support import SENDER, outbox
from tests.support.server import ROOT

pytestmark = pytest.mark.live


def _enqueue_many(count: int) -> list[int]:
    rows = [enqueue(kind="transcript", to_address=f"user{n}@example.com", to_name=f"User {n}",
                    subject=f"Message {n}", body_text=f"body {n}", body_html=f"<p>body {n}</p>")
            for n in range(count)]
    db.session.commit()
    return [row.id for row in rows]


def _delivered_ids(smtp) -> list[int]:
    """Outbox ids by Message-ID (<outbox.ID.STAMP@domain>) of what the server accepted."""
    return [int(mail.message["Message-ID"].split(".")[1]) for mail in smtp.received]


def _cli_env(database_url: str, smtp) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST_"))}
    env.update(APP_ENV="production", SECRET_KEY="cli-test-secret-key", DATABASE_URL=database_url,
               SMTP_HOST="127.0.0.1",
               SMTP_PORT=str(smtp.port), MAIL_SENDER=f"Service Desk <{SENDER}>")
    return env


def test_three_workers_at_once_send_each_message_once(app, smtp):
    ids = _enqueue_many(30)
    smtp.inbox.delay = 0.01  # each hand-over takes a moment: the workers overlap
    start = threading.Barrier(3)
    results: dict[str, mail_sender.SendStats] = {}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            start.wait(timeout=10)
            results[name] = mail_sender.send_due(app, worker_id=name, limit=100)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"worker-{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []

    assert sorted(_delivered_ids(smtp)) == ids  # every message, none twice
    assert sum(stats.sent for stats in results.values()) == 30
    rows = outbox()
    assert {row.status for row in rows} == {OutboxStatus.SENT}
    assert {row.attempts for row in rows} == {1}
    assert {row.claimed_by for row in rows} <= set(results)
    assert mail_sender.send_due(app).claimed == 0


def test_two_send_mail_processes_at_once_send_each_message_once(app, smtp, database_url):
    ids = _enqueue_many(20)
    db.session.remove()
    smtp.inbox.delay = 0.01
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "send-mail", "--limit", "5"]
    processes = [subprocess.Popen(command, cwd=ROOT, env=_cli_env(database_url, smtp),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for _ in range(2)]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs

    assert sorted(_delivered_ids(smtp)) == ids
    assert {row.status for row in outbox()} == {OutboxStatus.SENT}
    assert all("Mail outbox:" in output for output in outputs), outputs


def test_send_mail_loop_keeps_sending_until_told_to_stop(app, smtp, database_url):
    db.session.remove()
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "send-mail", "--loop",
               "--interval", "0.2"]
    process = subprocess.Popen(command, cwd=ROOT, env=_cli_env(database_url, smtp),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = _enqueue_many(1)
        deadline = time.monotonic() + 60
        while not smtp.received and time.monotonic() < deadline:
            time.sleep(0.05)
        second = _enqueue_many(1)  # written while the loop runs
        while len(smtp.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)  # as systemd or docker stop it
        output = process.communicate(timeout=30)[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == 0, output
    assert "Stopped." in output
    assert _delivered_ids(smtp) == first + second
    assert {row.status for row in outbox()} == {OutboxStatus.SENT}


def test_the_background_sender_of_a_server_process_delivers(app, smtp):
    assert mail_sender.run_worker(app) is None  # MAIL_WORKER_INTERVAL=0 in tests: off
    app.config["MAIL_WORKER_INTERVAL"] = 0.1
    worker = mail_sender.run_worker(app)
    try:
        [row_id] = _enqueue_many(1)
        deadline = time.monotonic() + 30
        while not smtp.received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
        worker.task.join(timeout=10)
    assert not worker.task.is_alive()
    assert _delivered_ids(smtp) == [row_id]
    [row] = outbox()
    assert row.status == OutboxStatus.SENT
    assert row.claimed_by == worker.worker_id and row.claimed_by.startswith("server@")
