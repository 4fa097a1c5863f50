"""The resolution notice reaches the end user once, through the outbox and a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.desk.errors import ValidationError
from app.extensions import db
from app.mail import sender as mail_sender
from app.mail.compose import enqueue
from app.models import OutboxStatus, utcnow
from tests.mail.support import REPLY_TO, SENDER, chat_from, make_due, outbox, resolve


def test_resolving_an_sr_delivers_one_notice_to_the_end_user(desk, smtp):
    chat = chat_from(desk)
    sr = resolve(desk, chat.service_request,
                 "Replaced the <b>power</b> adapter.\nThe laptop starts again.")

    [row] = outbox()
    assert (row.status, row.kind, row.sr_id) == (OutboxStatus.PENDING, "resolution", sr.id)
    assert smtp.received == []  # written with the SR change, sent by the worker

    assert mail_sender.send_due().sent == 1
    assert mail_sender.send_due().claimed == 0
    [mail] = smtp.received
    assert mail.mail_from == SENDER
    assert mail.rcpt_tos == ["zoe@example.com"]
    message = mail.message
    [to] = message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Zoë O'Neil", "zoe@example.com")
    assert message["Subject"] == f"[{sr.number}] Resolved: My laptop will not start"
    assert message["Reply-To"].addresses[0].addr_spec == REPLY_TO
    assert message["X-Service-Request"] == sr.number
    assert message["Message-ID"].endswith("@example.test>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"

    text, html = mail.part("plain"), mail.part("html")
    for body in (text, html):
        assert "Hello Zoë O" in body
        assert sr.number in body
        assert "My laptop will not start" in body
        assert "The laptop starts again." in body
    assert "Replaced the <b>power</b> adapter." in text  # plain text, as the agent wrote it
    assert "Replaced the &lt;b&gt;power&lt;/b&gt; adapter." in html  # shown, never rendered
    assert "<b>power</b>" not in html
    assert "reply to this message" in text

    [row] = outbox()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)
    assert row.sent_at is not None and row.claimed_by


def test_smtp_down_keeps_the_row_with_its_error_and_delivers_once_when_back(desk, smtp):
    chat = chat_from(desk)
    resolve(desk, chat.service_request, "Reset the BIOS.")
    smtp.stop()

    before = utcnow()
    stats = mail_sender.send_due()
    after = utcnow()
    assert (stats.sent, stats.retrying, stats.stopped) == (0, 1, True)
    [row] = outbox()
    assert row.status == OutboxStatus.PENDING
    assert row.attempts == 1
    assert f"127.0.0.1:{smtp.port}" in row.last_error
    assert "refused" in row.last_error.lower()
    assert before + timedelta(seconds=60) <= row.next_attempt_at
    assert row.next_attempt_at <= after + timedelta(seconds=60)

    smtp.start()
    assert mail_sender.send_due().claimed == 0  # not before its next try
    assert smtp.received == []

    make_due(row)
    assert mail_sender.send_due().sent == 1
    assert mail_sender.send_due().claimed == 0
    assert len(smtp.received) == 1
    assert "Reset the BIOS." in smtp.received[0].part("plain")
    [row] = outbox()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)
    assert "refused" in row.last_error.lower()  # the history stays readable


def test_a_message_that_keeps_failing_is_flagged_failed_and_kept(desk, smtp, app):
    app.config["MAIL_MAX_ATTEMPTS"] = 3
    chat = chat_from(desk)
    resolve(desk, chat.service_request, "Reset the BIOS.")
    smtp.stop()

    for attempt, delay in ((1, 60), (2, 120)):  # the back-off doubles between the tries
        started = utcnow()
        mail_sender.send_due()
        finished = utcnow()
        [row] = outbox()
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, attempt)
        assert started + timedelta(seconds=delay) <= row.next_attempt_at
        assert row.next_attempt_at <= finished + timedelta(seconds=delay)
        make_due(row)
    mail_sender.send_due()
    [row] = outbox()
    assert row.status == OutboxStatus.FAILED
    assert row.attempts == 3
    assert "refused" in row.last_error.lower()

    smtp.start()
    assert mail_sender.send_due().claimed == 0  # flagged: no more tries on its own
    assert smtp.received == []

    assert mail_sender.retry_now([row.id]) == 1  # the admin's "retry now"
    assert mail_sender.send_due().sent == 1
    assert len(smtp.received) == 1
    assert outbox()[0].status == OutboxStatus.SENT


def test_a_refused_recipient_fails_at_once_and_the_others_still_go(app, smtp):
    smtp.inbox.refuse.add("gone@example.com")
    enqueue(kind="resolution", to_address="gone@example.com", to_name="Gone", subject="One",
            body_text="one", body_html=None)
    enqueue(kind="resolution", to_address="here@example.com", to_name="Here", subject="Two",
            body_text="two", body_html=None)
    db.session.commit()

    stats = mail_sender.send_due()
    assert (stats.sent, stats.failed) == (1, 1)
    gone, here = outbox()
    assert (gone.status, gone.attempts) == (OutboxStatus.FAILED, 1)
    assert "550" in gone.last_error and "gone@example.com" in gone.last_error
    assert here.status == OutboxStatus.SENT
    assert [mail.rcpt_tos for mail in smtp.received] == [["here@example.com"]]
    assert smtp.received[0].message.get_content_type() == "text/plain"


def test_a_message_left_sending_by_a_dead_worker_is_sent_again(app, smtp):
    stuck = enqueue(kind="resolution", to_address="a@example.com", to_name="A", subject="Stuck",
                    body_text="stuck", body_html=None)
    busy = enqueue(kind="resolution", to_address="b@example.com", to_name="B", subject="Busy",
                   body_text="busy", body_html=None)
    db.session.flush()
    stuck.status = busy.status = OutboxStatus.SENDING
    stuck.attempts = busy.attempts = 1
    stuck.claimed_by, stuck.claimed_at = "dead-worker", utcnow() - timedelta(hours=1)
    busy.claimed_by, busy.claimed_at = "live-worker", utcnow()
    db.session.commit()

    stats = mail_sender.send_due(worker_id="rescuer")
    assert (stats.reclaimed, stats.sent) == (1, 1)
    stuck, busy = outbox()
    assert (stuck.status, stuck.claimed_by, stuck.attempts) == (OutboxStatus.SENT, "rescuer", 2)
    assert "dead-worker" in stuck.last_error
    assert (busy.status, busy.claimed_by) == (OutboxStatus.SENDING, "live-worker")
    assert [mail.message["Subject"] for mail in smtp.received] == ["Stuck"]


def test_retry_now_touches_only_failed_or_waiting_rows(app, smtp):
    sent = enqueue(kind="resolution", to_address="a@example.com", to_name=None, subject="Sent",
                   body_text="x", body_html=None)
    db.session.commit()
    mail_sender.send_due()
    with pytest.raises(ValidationError):
        mail_sender.retry_now("12")
    with pytest.raises(ValidationError):
        mail_sender.retry_now(["twelve"])
    assert mail_sender.retry_now([sent.id]) == 0
    assert mail_sender.retry_now([]) == 0
    assert mail_sender.send_due().claimed == 0
    assert len(smtp.received) == 1


def test_an_unexpected_error_is_recorded_on_the_row_not_left_sending(app, smtp, monkeypatch):
    enqueue(kind="resolution", to_address="a@example.com", to_name="A", subject="Hi",
            body_text="x", body_html=None)
    db.session.commit()

    def broken(row):
        raise RuntimeError("template engine exploded")

    monkeypatch.setattr(mail_sender, "build_message", broken)  # fault injection: a defect
    stats = mail_sender.send_due()
    assert (stats.sent, stats.retrying) == (0, 1)
    [row] = outbox()
    assert row.status == OutboxStatus.PENDING
    assert "RuntimeError: template engine exploded" in row.last_error

    monkeypatch.undo()
    make_due(row)
    assert mail_sender.send_due().sent == 1
    assert len(smtp.received) == 1


def test_the_ehlo_name_can_be_set(app, smtp):
    app.config["SMTP_LOCAL_HOSTNAME"] = "desk.example.test"
    enqueue(kind="resolution", to_address="a@example.com", to_name="A", subject="Hi",
            body_text="x", body_html=None)
    db.session.commit()
    assert mail_sender.send_due().sent == 1
    assert smtp.received[0].helo == "desk.example.test"
