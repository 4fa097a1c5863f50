"""With no SMTP server configured, each message becomes an .eml file in the instance folder."""

from __future__ import annotations

import logging
from email import message_from_bytes
from email.policy import default as default_policy

from app.mail import sender as mail_sender
from app.models import OutboxStatus
from tests.mail.support import chat_from, outbox, resolve


def test_without_smtp_the_message_is_written_as_a_readable_eml_file(desk, app, tmp_path,
                                                                     caplog):
    app.config.update(SMTP_HOST=None, MAIL_FILE_DIR=None)
    app.instance_path = str(tmp_path / "instance")
    chat = chat_from(desk)
    sr = resolve(desk, chat.service_request, "Replaced the power adapter.")

    with caplog.at_level(logging.INFO, logger="app.mail"):
        assert mail_sender.send_due().sent == 1
    [path] = (tmp_path / "instance" / "mail").glob("*.eml")
    assert str(path) in caplog.text  # the log says where to look
    assert list(path.parent.iterdir()) == [path]  # no partial file left behind

    message = message_from_bytes(path.read_bytes(), policy=default_policy)
    assert message["Subject"] == f"[{sr.number}] Resolved: My laptop will not start"
    assert message["To"].addresses[0].addr_spec == "zoe@example.com"
    assert message["X-Service-Request"] == sr.number
    assert "Replaced the power adapter." in message.get_body(("plain",)).get_content()
    assert "Replaced the power adapter." in message.get_body(("html",)).get_content()
    [row] = outbox()
    assert row.status == OutboxStatus.SENT
    assert mail_sender.send_due().claimed == 0


def test_mail_file_dir_chooses_the_folder(desk, app, tmp_path):
    app.config.update(SMTP_HOST=None, MAIL_FILE_DIR=str(tmp_path / "outgoing"))
    chat = chat_from(desk)
    resolve(desk, chat.service_request, "Done.")
    assert mail_sender.send_due().sent == 1
    assert len(list((tmp_path / "outgoing").glob("*-resolution.eml"))) == 1


def test_an_unwritable_folder_keeps_the_message_for_later(desk, app, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    app.config.update(SMTP_HOST=None, MAIL_FILE_DIR=str(blocker))
    chat = chat_from(desk)
    resolve(desk, chat.service_request, "Done.")
    stats = mail_sender.send_due()
    assert (stats.sent, stats.retrying) == (0, 1)
    [row] = outbox()
    assert row.status == OutboxStatus.PENDING and str(blocker) in row.last_error
