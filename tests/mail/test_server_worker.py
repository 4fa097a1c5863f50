"""The real server (python wsgi.py, eventlet) sends the outbox from its background task."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxStatus, User
from tests.conftest import BACKENDS, seeded_database
from tests.mail.support import SENDER, SmtpServer, chat_from, outbox, resolve
from tests.support.server import LiveServer, free_port

pytestmark = pytest.mark.live


@pytest.fixture(params=BACKENDS)
def desk_url(request, tmp_path):
    return seeded_database(request.param, tmp_path)


def _wait_for(condition, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_the_server_process_sends_mail_written_by_another_process(desk_url, tmp_path):
    from app import create_app

    smtp = SmtpServer(free_port())
    smtp.start()
    server = LiveServer(desk_url, log_path=tmp_path / "server.log", env={
        "MAIL_WORKER_INTERVAL": "0.3", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port),
        "MAIL_SENDER": f"Service Desk <{SENDER}>"})
    application = create_app("testing", SQLALCHEMY_DATABASE_URI=desk_url)
    try:
        server.start()
        with application.app_context():
            alice = db.session.scalars(select(User).where(User.username == "alice")).one()
            chat = chat_from(SimpleNamespace(alice=alice))
            sr = resolve(SimpleNamespace(alice=alice), chat.service_request, "New toner.")

            assert _wait_for(lambda: smtp.received), (tmp_path / "server.log").read_text()
            time.sleep(1)  # several more passes of the server's sender: still one message
            [mail] = smtp.received
            assert mail.message["Subject"].startswith(f"[{sr.number}] Resolved")
            assert "New toner." in mail.part("plain")
            [row] = outbox()
            assert row.status == OutboxStatus.SENT
            assert row.claimed_by.startswith("server@")
            db.session.remove()
    finally:
        server.stop()
        smtp.stop()
        with application.app_context():
            db.engine.dispose()
