"""The app pointed at a real SMTP server on a loopback port (aiosmtpd)."""

from __future__ import annotations

import pytest

from tests.mail.support import REPLY_TO, SENDER, SmtpServer
from tests.support.server import free_port


@pytest.fixture
def smtp(app):
    """A running SMTP server, with the app's SMTP settings pointing at it."""
    server = SmtpServer(free_port())
    server.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_TIMEOUT=5,
                      SMTP_STARTTLS=False, SMTP_SSL=False, SMTP_USER=None, SMTP_PASSWORD=None,
                      MAIL_SENDER=f"Service Desk <{SENDER}>", MAIL_REPLY_TO=REPLY_TO,
                      MAIL_MAX_ATTEMPTS=8, MAIL_RETRY_DELAY=60, MAIL_RETRY_MAX_DELAY=21600)
    yield server
    server.stop()
