"""Names and subjects come from end users: they can never add or change a mail header."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.mail import sender as mail_sender
from app.mail.compose import enqueue
from app.models import OutboxMessage, OutboxStatus
from tests.mail.support import chat_from, outbox, resolve

pytestmark = pytest.mark.one_backend  # mail headers, whatever the database

EXPECTED_HEADERS = {"subject", "from", "to", "reply-to", "date", "message-id",
                    "x-service-request", "references", "auto-submitted", "mime-version",
                    "content-type", "content-transfer-encoding"}


def _header_names(mail) -> set[str]:
    return {name.lower() for name in mail.message.keys()}


def test_line_breaks_in_name_and_question_cannot_inject_headers(desk, smtp):
    chat = chat_from(desk, name="Eve\r\nBcc: evil@example.com", email="eve@example.com",
                     question="Printer\r\nBcc: evil@example.com\r\nX-Evil: 1")
    resolve(desk, chat.service_request, "Fixed.")

    assert mail_sender.send_due().sent == 1
    [mail] = smtp.received
    assert mail.rcpt_tos == ["eve@example.com"]
    assert _header_names(mail) <= EXPECTED_HEADERS
    assert "evil@example.com" not in {a.addr_spec for a in mail.message["To"].addresses}
    [to] = mail.message["To"].addresses
    assert to.display_name == "Eve Bcc evil example.com"  # a plain name, nothing more
    assert "\n" not in str(mail.message["Subject"])
    assert b"\nBcc:" not in mail.raw and b"\nX-Evil:" not in mail.raw


def test_a_row_written_with_raw_line_breaks_is_still_sent_safely(app, smtp):
    # Bypass enqueue(): the sender must not trust what is stored in the outbox either.
    db.session.add(OutboxMessage(
        kind="resolution", to_address="eve@example.com",
        to_name="Eve\r\nBcc: evil@example.com",
        subject="Hello\r\nBcc: evil@example.com\r\n\r\nForged body", body_text="Real body",
        body_html=None))
    db.session.commit()

    assert mail_sender.send_due().sent == 1
    [mail] = smtp.received
    assert mail.rcpt_tos == ["eve@example.com"]
    assert "bcc" not in _header_names(mail)
    assert mail.message["Subject"] == "Hello Bcc: evil@example.com Forged body"
    assert mail.message.get_content().strip() == "Real body"


def test_an_address_carrying_line_breaks_is_refused_and_flagged(app, smtp):
    db.session.add(OutboxMessage(
        kind="resolution", to_address="eve@example.com\r\nBcc: evil@example.com",
        to_name="Eve", subject="Hello", body_text="Real body", body_html=None))
    db.session.commit()

    stats = mail_sender.send_due()
    assert (stats.sent, stats.failed) == (0, 1)
    assert smtp.received == []
    [row] = outbox()
    assert (row.status, row.attempts) == (OutboxStatus.FAILED, 1)
    assert "Invalid recipient address" in row.last_error


def test_display_names_keep_every_alphabet_and_lose_address_syntax():
    from app.mail.compose import display_name

    assert display_name("Zoë O'Neil-Åberg") == "Zoë O'Neil-Åberg"
    assert display_name("李小龙 J. Smith") == "李小龙 J. Smith"
    assert display_name('"IT" <a@b.example>, =?utf-8?q?x?=') == "IT a b.example utf-8 q x"
    assert len(display_name("x" * 500)) == 64


def test_enqueue_stores_names_and_subjects_on_one_line(app):
    row = enqueue(kind="resolution", to_address="eve@example.com",
                  to_name="Eve\u2028Bcc: x@example.com\x00", subject="A\r\nB\tC" + "x" * 400,
                  body_text="b", body_html=None)
    assert row.to_name == "Eve Bcc x example.com"  # name characters only
    assert row.subject.startswith("A B C") and len(row.subject) == 250
