"""Send the outbox: claim due rows so each message goes out once, retry with back-off.

Several senders may run at once (``flask send-mail --loop``, a background task in every
server process). Each row is claimed before it is sent: ``SELECT … FOR UPDATE SKIP LOCKED``
on PostgreSQL, then on every database one conditional UPDATE (``PENDING → SENDING WHERE
status = 'PENDING'``) that only one sender can win. A row left in SENDING longer than
MAIL_SENDING_TIMEOUT belongs to a sender that died and is tried again. The one window for a
duplicate is a crash after the SMTP server accepted a message and before SENT was committed:
that message keeps its Message-ID, so the recipient's client can tell it is the same.

With no SMTP_HOST the embedded default writes each message as an ``.eml`` file into
``instance/mail/`` (or MAIL_FILE_DIR) and logs the path, so the demo needs no mail server.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select, update

from app import metrics
from app.desk.errors import ValidationError
from app.desk.validation import clean_id
from app.extensions import db, socketio
from app.mail.compose import header_text
from app.mail.transport import DeliveryError, FileTransport, SmtpTransport, compact_time
from app.models import OutboxMessage, OutboxStatus, utcnow

log = logging.getLogger(__name__)

ERROR_MAX_LENGTH = 1000


@dataclass
class SendStats:
    """What one pass did."""

    sent: int = 0
    retrying: int = 0  # failed this time, will be tried again after the back-off
    failed: int = 0  # gave up: FAILED, kept and flagged for a person to look at
    reclaimed: int = 0  # found stuck in SENDING by a sender that died
    last_error: str | None = None
    stopped: bool = False  # the transport failed: the rest waits for the next pass

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.failed

    def __str__(self) -> str:
        text = f"sent {self.sent}, retrying {self.retrying}, failed {self.failed}"
        if self.reclaimed:
            text += f", reclaimed {self.reclaimed}"
        if self.last_error:
            text += f" (last error: {self.last_error})"
        return text


# --- the pass ----------------------------------------------------------------------------

def default_worker_id(kind: str = "worker") -> str:
    """Who claimed a row, as shown in the outbox: host, process and a per-sender tag."""
    return f"{kind}@{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(3)}"


def send_due(app_or_none: Flask | None = None, worker_id: str | None = None,
             limit: int = 50) -> SendStats:
    """One pass: reclaim stuck rows, then claim and send up to ``limit`` due messages."""
    worker_id = worker_id or default_worker_id()
    if app_or_none is None:
        return _send_due(worker_id, limit)
    with app_or_none.app_context():
        try:
            return _send_due(worker_id, limit)
        finally:
            db.session.remove()


def send_all_due(worker_id: str | None = None, limit: int = 50) -> SendStats:
    """Passes until nothing due is left (or the transport fails): ``flask send-mail``."""
    worker_id = worker_id or default_worker_id("cli")
    total = SendStats()
    while True:
        stats = _send_due(worker_id, limit)
        total.sent += stats.sent
        total.retrying += stats.retrying
        total.failed += stats.failed
        total.reclaimed += stats.reclaimed
        total.last_error = stats.last_error or total.last_error
        total.stopped = stats.stopped
        if stats.stopped or stats.claimed < limit:
            return total


def _send_due(worker_id: str, limit: int) -> SendStats:
    stats = SendStats(reclaimed=_reclaim_stuck())
    transport = _transport()
    try:
        while stats.claimed < limit:
            row = _claim_next(worker_id)
            if row is None:
                break
            try:
                _hand_over(row, transport)
            except DeliveryError as exc:
                stats.last_error = str(exc)
                if _record_failure(row, worker_id, exc) == OutboxStatus.FAILED:
                    stats.failed += 1
                else:
                    stats.retrying += 1
                if exc.stop_pass:
                    stats.stopped = True
                    break
            else:
                _record_sent(row.id, worker_id)
                stats.sent += 1
    finally:
        transport.close()
    if stats.claimed or stats.reclaimed:
        log.info("Mail pass by %s: %s", worker_id, stats)
    return stats


def _hand_over(row: OutboxMessage, transport: SmtpTransport | FileTransport) -> None:
    try:
        message, sender, recipient = build_message(row)
        transport.deliver(row, message, sender, recipient)
    except DeliveryError:
        raise
    except Exception as exc:  # a defect must not leave the row in SENDING: record it
        log.exception("Mail %s: unexpected error while sending", row.id)
        db.session.rollback()
        raise DeliveryError(f"Unexpected error: {type(exc).__name__}: {exc}",
                            stop_pass=True) from exc


# --- claiming and recording --------------------------------------------------------------

def _config(name: str, default):
    value = current_app.config.get(name)
    return default if value is None else value


def _claim_next(worker_id: str) -> OutboxMessage | None:
    """Claim the next due row for this worker, or None when nothing is due."""
    due = (select(OutboxMessage.id)
           .where(OutboxMessage.status == OutboxStatus.PENDING,
                  OutboxMessage.next_attempt_at <= utcnow())
           .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id))
    locking = db.session.get_bind().dialect.name == "postgresql"
    for _round in range(3):
        if locking:  # rows another sender holds are skipped, not waited for
            candidates = list(db.session.scalars(due.limit(1).with_for_update(skip_locked=True)))
        else:
            candidates = list(db.session.scalars(due.limit(5)))
        if not candidates:
            db.session.rollback()
            return None
        for row_id in candidates:
            won = db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.SENDING, claimed_by=worker_id, claimed_at=utcnow(),
                        attempts=OutboxMessage.attempts + 1)
                .execution_options(synchronize_session=False)
            ).rowcount == 1
            if won:
                db.session.commit()
                return db.session.get(OutboxMessage, row_id, populate_existing=True)
        db.session.rollback()  # every candidate went to another sender: look again
    return None


def _reclaim_stuck() -> int:
    """Rows SENDING for longer than MAIL_SENDING_TIMEOUT: their sender died; try again."""
    now = utcnow()
    cutoff = now - timedelta(seconds=float(_config("MAIL_SENDING_TIMEOUT", 300)))
    max_attempts = int(_config("MAIL_MAX_ATTEMPTS", 8))
    stuck = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.claimed_by, OutboxMessage.claimed_at,
               OutboxMessage.attempts)
        .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < cutoff)
    ).all()
    count = 0
    for row_id, claimed_by, claimed_at, attempts in stuck:
        status = OutboxStatus.FAILED if attempts >= max_attempts else OutboxStatus.PENDING
        count += db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.SENDING,
                   OutboxMessage.claimed_at == claimed_at)
            .values(status=status, next_attempt_at=now,
                    last_error=f"The sender {claimed_by} stopped while sending it (claimed "
                               f"{claimed_at:%Y-%m-%d %H:%M:%S} UTC).")
            .execution_options(synchronize_session=False)
        ).rowcount
    db.session.commit()
    if count:
        log.warning("Mail: %d message(s) were stuck in SENDING and are tried again", count)
    return count


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off after the n-th failed try: base, 2×base, 4×base … up to the cap."""
    base = float(_config("MAIL_RETRY_DELAY", 60))
    cap = float(_config("MAIL_RETRY_MAX_DELAY", 21600))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def _record_failure(row: OutboxMessage, worker_id: str, exc: DeliveryError) -> OutboxStatus:
    max_attempts = int(_config("MAIL_MAX_ATTEMPTS", 8))
    give_up = exc.permanent or row.attempts >= max_attempts
    status = OutboxStatus.FAILED if give_up else OutboxStatus.PENDING
    values: dict = {"status": status, "last_error": str(exc)[:ERROR_MAX_LENGTH]}
    if not give_up:
        values["next_attempt_at"] = utcnow() + retry_delay(row.attempts)
    _finish(row.id, worker_id, values)
    level = logging.ERROR if give_up else logging.WARNING
    log.log(level, "Mail %s (%s to %s) %s after %d attempt(s): %s", row.id, row.kind,
            row.to_address, "FAILED" if give_up else "will be retried", row.attempts, exc)
    return status


def _record_sent(row_id: int, worker_id: str) -> None:
    _finish(row_id, worker_id, {"status": OutboxStatus.SENT, "sent_at": utcnow()})


def _finish(row_id: int, worker_id: str, values: dict) -> None:
    done = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, OutboxMessage.status == OutboxStatus.SENDING,
               OutboxMessage.claimed_by == worker_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not done:  # only when this sender was so slow that its claim was taken over
        log.warning("Mail %s: the claim of %s was taken over before it finished", row_id,
                    worker_id)


def retry_now(ids: Iterable[object]) -> int:
    """Put FAILED or waiting rows back in line for an immediate try; returns how many.

    A FAILED row keeps its attempts and last error: it gets one more try, and is FAILED again
    if that try fails too. Rows being sent or already sent are left alone.
    """
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
        raise ValidationError("invalid", "Give a list of outbox ids.", "ids")
    keys = sorted({clean_id(value, "ids") for value in ids})
    if not keys:
        return 0
    count = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(keys),
               OutboxMessage.status.in_((OutboxStatus.FAILED, OutboxStatus.PENDING)))
        .values(status=OutboxStatus.PENDING, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return count


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
        recipient = Address(display_name=header_text(row.to_name or "", 120),
                            addr_spec=row.to_address)
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

class MailWorker:
    """The sender loop: a background task in a server process, or ``send-mail --loop``."""

    def __init__(self, app: Flask, interval: float, *, kind: str = "server", limit: int = 50,
                 sleep: Callable[[float], object] | None = None,
                 report: Callable[[SendStats], object] | None = None) -> None:
        self.app = app
        self.interval = interval
        self.limit = limit
        self.worker_id = default_worker_id(kind)
        self.task = None
        self._sleep = sleep or socketio.sleep
        self._report = report
        self._stopping = False

    def run(self) -> None:
        log.info("Mail sender %s started (every %ss)", self.worker_id, self.interval)
        while not self._stopping:
            self.run_once()
            self._sleep(self.interval)

    def run_once(self) -> SendStats | None:
        """One round (all that is due); a lost database is logged and tried again later."""
        with self.app.app_context():
            try:
                stats = send_all_due(self.worker_id, self.limit)
            except Exception:
                log.exception("Mail pass failed; trying again in %ss", self.interval)
                return None
            finally:
                db.session.remove()
        metrics.outbox_pass("mail", sent=stats.sent, retrying=stats.retrying, failed=stats.failed)
        if self._report is not None and (stats.claimed or stats.reclaimed):
            self._report(stats)
        return stats

    def stop(self) -> None:
        """Ends the loop after the current round (within one interval)."""
        self._stopping = True


def run_worker(app: Flask) -> MailWorker | None:
    """Start the background sender when MAIL_WORKER_INTERVAL > 0; returns it (or None).

    Called once per server process (realtime.start_background_jobs); no eventlet API here:
    ``socketio.start_background_task``/``socketio.sleep`` follow the configured async mode.
    """
    interval = float(app.config.get("MAIL_WORKER_INTERVAL") or 0)
    if interval <= 0:
        return None
    worker = MailWorker(app, interval)
    worker.task = socketio.start_background_task(worker.run)
    return worker
