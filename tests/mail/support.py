"""What the mail tests share: a real SMTP server (aiosmtpd), and desk stories that make mail."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from app.desk import chats, requests
from app.extensions import db
from app.models import OutboxMessage, ServiceRequest, utcnow

SENDER = "desk@example.test"
REPLY_TO = "help@example.test"


# --- the SMTP server ---------------------------------------------------------------------

@dataclass
class Received:
    """One message as the SMTP server accepted it: envelope and parsed content."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    helo: str  # the name the client gave in EHLO

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
                message=message_from_bytes(raw, policy=default_policy),
                helo=session.host_name))
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1:<port>; can be stopped and started again on the same port."""

    def __init__(self, port: int, **options) -> None:
        self.port = port
        self.inbox = Inbox()
        self.options = options  # aiosmtpd SMTP options: TLS, authentication
        self._controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return list(self.inbox.received)

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port,
                                      ready_timeout=10, **self.options)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


# --- desk stories ------------------------------------------------------------------------

def chat_from(desk, *, name="Zoë O'Neil", email="zoe@example.com",
              question="My laptop will not start"):
    """An end user asks for a chat in the Hardware queue, and alice accepts it."""
    requested = chats.request_chat(name=name, email=email, queue="Hardware", question=question)
    chats.accept_chat(requested.chat.id, desk.alice)
    return requested.chat


def resolve(desk, sr: ServiceRequest, solution: str) -> ServiceRequest:
    """The agent writes the solution, then moves the SR to RESOLVED."""
    sr = requests.update_service_request(sr.id, actor=desk.alice, expected_version=sr.version,
                                         changes={"solution": solution}).sr
    return requests.change_status(sr.id, "RESOLVED", actor=desk.alice)


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def make_due(*rows: OutboxMessage) -> None:
    """As if the back-off had passed: the rows' next try is now due."""
    db.session.execute(update(OutboxMessage)
                       .where(OutboxMessage.id.in_([row.id for row in rows]))
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
