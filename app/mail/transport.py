"""How a built message leaves: an SMTP server, or an .eml file when none is configured.

A transport raises DeliveryError, saying whether the failure belongs to this message
(``permanent``) or to the transport (``stop_pass``); the outbox sender decides what that
means for the row (app/outbox/sender.py).
"""

from __future__ import annotations

import functools
import logging
import os
import smtplib
import socket
import ssl
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

from app.mail.compose import header_text
from app.models import OutboxMessage, utcnow
from app.outbox.sender import DeliveryError

__all__ = ["DeliveryError", "FileTransport", "SmtpTransport", "compact_time"]

log = logging.getLogger(__name__)


def compact_time(moment: datetime | None) -> str:
    return (moment or utcnow()).strftime("%Y%m%d%H%M%S")


@functools.cache
def _fqdn() -> str:
    """This host's name for EHLO, looked up once: the lookup blocks every green thread."""
    return socket.getfqdn()


class SmtpTransport:
    """One SMTP connection per pass, opened on the first message."""

    def __init__(self, config) -> None:
        self.host = config["SMTP_HOST"]
        self.port = int(config.get("SMTP_PORT") or 25)
        self.use_ssl = bool(config.get("SMTP_SSL"))
        self.starttls = bool(config.get("SMTP_STARTTLS"))
        self.user = config.get("SMTP_USER")
        self.password = config.get("SMTP_PASSWORD")
        self.timeout = float(config.get("SMTP_TIMEOUT") or 10)
        self.local_hostname = config.get("SMTP_LOCAL_HOSTNAME") or _fqdn()
        self._smtp: smtplib.SMTP | None = None

    @property
    def where(self) -> str:
        return f"SMTP {self.host}:{self.port}"

    def _connect(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        try:
            if self.use_ssl:
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                        local_hostname=self.local_hostname,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout,
                                    local_hostname=self.local_hostname)
            try:
                if self.starttls and not self.use_ssl:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
            except BaseException:
                smtp.close()
                raise
        except (smtplib.SMTPException, OSError) as exc:
            hint = ""
            if isinstance(exc, smtplib.SMTPNotSupportedError) and not (
                    self.starttls or self.use_ssl):
                hint = " (servers often offer it only after STARTTLS: set SMTP_STARTTLS=true)"
            raise DeliveryError(f"{self.where}: {_describe(exc)}{hint}",
                                stop_pass=True) from exc
        self._smtp = smtp
        return smtp

    def deliver(self, row: OutboxMessage, message: EmailMessage, sender: Address,
                recipient: Address) -> None:
        smtp = self._connect()
        try:
            smtp.send_message(message, from_addr=sender.addr_spec,
                              to_addrs=[recipient.addr_spec])
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _text in exc.recipients.values()]
            raise DeliveryError(f"{self.where} refused the recipient: {_describe(exc)}",
                                permanent=min(codes, default=0) >= 500) from exc
        except smtplib.SMTPDataError as exc:
            raise DeliveryError(f"{self.where} refused the message: {_describe(exc)}",
                                permanent=exc.smtp_code >= 500) from exc
        except smtplib.SMTPNotSupportedError as exc:  # e.g. non-ASCII address, no SMTPUTF8
            raise DeliveryError(f"{self.where}: {_describe(exc)}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:  # sender refused, dropped connection
            self._drop()
            raise DeliveryError(f"{self.where}: {_describe(exc)}", stop_pass=True) from exc

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()


class FileTransport:
    """The embedded default: each message becomes a file a mail program can open."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def deliver(self, row: OutboxMessage, message: EmailMessage, sender: Address,
                recipient: Address) -> None:
        name = f"{compact_time(row.created_at)}-{row.id}-{header_text(row.kind, 32) or 'mail'}.eml"
        path = self.folder / name.replace("/", "_").replace(" ", "_")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".part")
            partial.write_bytes(message.as_bytes())
            os.replace(partial, path)
        except OSError as exc:
            raise DeliveryError(f"Cannot write {path}: {exc}", stop_pass=True) from exc
        log.info("No SMTP_HOST set: mail %s to %s written to %s", row.id, recipient.addr_spec,
                 path)

    def close(self) -> None:
        return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        return f"{exc.smtp_code} {text}".strip()
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{rcpt}: {code} {text.decode('utf-8', 'replace')}"
                         for rcpt, (code, text) in exc.recipients.items())
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
