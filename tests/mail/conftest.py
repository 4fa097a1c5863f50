"""A real SMTP server on a loopback port (aiosmtpd), and the app pointed at it."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from tests.mail.support import REPLY_TO, SENDER
from tests.support.server import free_port


@dataclass
class Received:
    """One message as the SMTP server accepted it: envelope and parsed content."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage

    def part(self, subtype: str) -> str:
        return self.message.get_body(preferencelist=(subtype,)).get_content()


class Inbox:
    """The aiosmtpd handler: collects envelopes; may refuse recipients or answer slowly."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse: set[str] = set()
        self.delay = 0.0
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        raw = envelope.original_content or envelope.content
        with self._lock:
            self.received.append(Received(
                mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos), raw=raw,
                message=message_from_bytes(raw, policy=default_policy)))
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1:<port>; can be stopped and started again on the same port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return list(self.inbox.received)

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port,
                                      ready_timeout=10)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


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
