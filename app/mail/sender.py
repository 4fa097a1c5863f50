"""Send the mail outbox through the shared outbox machinery (app/outbox/sender.py).

Any number of senders may run at once (``flask send-mail --loop``, a background task in every
server process); each message is claimed before it is sent, so it goes out once. The one
window for a duplicate is a crash after the SMTP server accepted a message and before SENT was
committed: that message keeps its Message-ID, so the recipient's client can tell it is the
same.

With no SMTP_HOST the embedded default writes each message as an ``.eml`` file into
``instance/mail/`` (or MAIL_FILE_DIR) and logs the path, so the demo needs no mail server.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

from flask import Flask, current_app

from app.extensions import db
from app.mail.compose import display_name, header_text
from app.mail.transport import DeliveryError, FileTransport, SmtpTransport, compact_time
from app.models import OutboxMessage, utcnow
from app.outbox import sender as outbox
from app.outbox.sender import SendStats, default_worker_id

__all__ = ["MailChannel", "MailWorker", "SendStats", "build_message", "default_worker_id",
           "retry_delay", "retry_now", "run_worker", "send_all_due", "send_due"]


@dataclass(frozen=True)
class MailJob:
    """A claimed message, built and ready to leave (no database needed any more)."""

    id: int
    kind: str
    created_at: datetime
    message: EmailMessage
    sender: Address
    recipient: Address


class MailChannel(outbox.Channel):
    """The mail outbox: MAIL_* settings, SMTP or .eml files."""

    name = "mail"
    model = OutboxMessage
    settings = "MAIL"
    label = "Mail"

    def open(self) -> SmtpTransport | FileTransport:
        return _transport()

    def prepare(self, row: OutboxMessage) -> MailJob:
        message, sender, recipient = build_message(row)
        return MailJob(row.id, row.kind, row.created_at, message, sender, recipient)

    def deliver(self, transport: SmtpTransport | FileTransport, job: MailJob) -> None:
        transport.deliver(job, job.message, job.sender, job.recipient)

    def describe(self, row: OutboxMessage) -> str:
        return f"Mail {row.id} ({row.kind} to {row.to_address})"


# --- passes ------------------------------------------------------------------------------

def send_due(app_or_none: Flask | None = None, worker_id: str | None = None,
             limit: int = 50) -> SendStats:
    """One pass: reclaim stuck rows, then claim and send up to ``limit`` due messages."""
    worker_id = worker_id or default_worker_id()
    if app_or_none is None:
        return outbox.send_due(MailChannel(), worker_id, limit)
    with app_or_none.app_context():
        try:
            return outbox.send_due(MailChannel(), worker_id, limit)
        finally:
            db.session.remove()


def send_all_due(worker_id: str | None = None, limit: int = 50) -> SendStats:
    """Passes until nothing due is left (or the transport fails): ``flask send-mail``."""
    return outbox.send_all_due(MailChannel(), worker_id or default_worker_id("cli"), limit)


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off after the n-th failed try (MAIL_RETRY_DELAY doubling)."""
    return outbox.retry_delay(MailChannel(), attempts)


def retry_now(ids: Iterable[object]) -> int:
    """Put FAILED or waiting messages back in line for an immediate try; returns how many."""
    return outbox.retry_now(MailChannel(), ids)


def _config(name: str, default):
    value = current_app.config.get(name)
    return default if value is None else value


# --- the message -------------------------------------------------------------------------

def _address(value: str, setting_name: str) -> Address:
    name, addr = parseaddr(value or "")
    try:
        if not addr or "@" not in addr:
            raise ValueError("no address")
        return Address(display_name=header_text(name, 120), addr_spec=addr)
    except ValueError as exc:
        raise DeliveryError(f"{setting_name} is not a valid e-mail address: {value!r}",
                            stop_pass=True) from exc


def build_message(row: OutboxMessage) -> tuple[EmailMessage, Address, Address]:
    """The row as a MIME message (text + HTML alternative), its envelope sender and recipient.

    Every header value from user input goes through ``header_text`` (no CR/LF or other control
    characters) and the default policy, which refuses CR/LF in any header a second time.
    """
    sender = _address(_config("MAIL_SENDER", "Service Desk <servicedesk@localhost>"),
                      "MAIL_SENDER")
    try:
        recipient = Address(display_name=display_name(row.to_name), addr_spec=row.to_address)
    except (ValueError, TypeError) as exc:
        raise DeliveryError(f"Invalid recipient address {row.to_address!r}: {exc}",
                            permanent=True) from exc
    domain = sender.domain or "localhost"
    message = EmailMessage()
    try:
        message["Subject"] = header_text(row.subject, 250)
        message["From"] = sender
        message["To"] = recipient
        reply_to = _config("MAIL_REPLY_TO", None)
        if reply_to:
            message["Reply-To"] = _address(reply_to, "MAIL_REPLY_TO")
        message["Date"] = format_datetime(utcnow())
        # Stable per row: a message sent again after a crash is recognisably the same one.
        message["Message-ID"] = f"<outbox.{row.id}.{compact_time(row.created_at)}@{domain}>"
        if row.service_request is not None:
            number = header_text(row.service_request.number, 32)
            message["X-Service-Request"] = number
            # Every mail about one SR threads together in the end user's mail program.
            message["References"] = f"<{number.lower()}.service-request@{domain}>"
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(row.body_text)
        if row.body_html:
            message.add_alternative(row.body_html, subtype="html")
    except (ValueError, TypeError) as exc:
        raise DeliveryError(f"The message cannot be built: {exc}", permanent=True) from exc
    return message, sender, recipient


# --- the way out -------------------------------------------------------------------------

def _transport() -> SmtpTransport | FileTransport:
    config = current_app.config
    if config.get("SMTP_HOST"):
        return SmtpTransport(config)
    folder = config.get("MAIL_FILE_DIR") or os.path.join(current_app.instance_path, "mail")
    return FileTransport(Path(folder))


# --- the background sender ---------------------------------------------------------------

def MailWorker(app: Flask, interval: float, *, kind: str = "server",  # noqa: N802
               limit: int = 50, sleep: Callable[[float], object] | None = None,
               report: Callable[[SendStats], object] | None = None) -> outbox.OutboxWorker:
    """The mail sender loop: a background task in a server process, or ``send-mail --loop``."""
    return outbox.OutboxWorker(app, MailChannel(), interval, kind=kind, limit=limit,
                               sleep=sleep, report=report)


def run_worker(app: Flask) -> outbox.OutboxWorker | None:
    """Start the background sender when MAIL_WORKER_INTERVAL > 0; returns it (or None).

    Called once per server process (realtime.start_background_jobs).
    """
    return outbox.start_worker(app, MailChannel(),
                               float(app.config.get("MAIL_WORKER_INTERVAL") or 0))
