"""Uploads never sent are deleted by the sweeper after ATTACHMENT_UNSENT_TTL, with their bytes;
sent files and recent uploads stay, and the chat may hold new files again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.desk import attachments, chats, unsent_files
from app.desk.errors import DeskError
from app.extensions import db
from app.models import Attachment, SenderRole, StoredFile
from app.models.types import utcnow
from tests.support import files

VISITOR = attachments.Uploader(SenderRole.VISITOR)


@pytest.fixture
def chat(desk):
    return chats.request_chat(name="Erin", email="erin@example.org", queue="Software",
                              question="Outlook crashes on start").chat


def _age(attachment: Attachment, seconds: int) -> None:
    """As if it had been uploaded `seconds` ago."""
    db.session.execute(update(Attachment).where(Attachment.id == attachment.id)
                       .values(created_at=utcnow() - timedelta(seconds=seconds)))
    db.session.commit()


def _send(chat, *uploaded: Attachment, client_id: str = "c1"):
    return chats.post_messages([chats.Draft(chat.id, chats.Sender.visitor(chat), "", client_id,
                                            [a.public_id for a in uploaded])])[0]


def _stored_keys() -> set[str]:
    return set(db.session.scalars(select(StoredFile.key)))


def test_old_unsent_uploads_go_with_their_bytes_and_the_rest_stays(app, chat):
    app.config["ATTACHMENT_UNSENT_TTL"] = 600
    forgotten = attachments.upload(chat.id, VISITOR, "forgotten.png", files.png())
    sent = attachments.upload(chat.id, VISITOR, "sent.txt", b"sent\n")
    recent = attachments.upload(chat.id, VISITOR, "recent.txt", b"still typing\n")
    _send(chat, sent)
    for old in (forgotten, sent):
        _age(old, 601)
    _age(recent, 599)
    gone_keys = {forgotten.storage_key, forgotten.thumbnail_key}
    forgotten_id = forgotten.public_id
    assert gone_keys <= _stored_keys()

    assert unsent_files.drop_unsent() == 1
    db.session.expire_all()
    assert {a.name for a in db.session.scalars(select(Attachment))} == {"sent.txt",
                                                                        "recent.txt"}
    assert not gone_keys & _stored_keys()
    assert {sent.storage_key, recent.storage_key} <= _stored_keys()
    assert attachments.read(db.session.get(Attachment, sent.id)) == b"sent\n"
    assert unsent_files.drop_unsent() == 0  # nothing more to do
    # The dropped file can no longer be sent; the recent one still can.
    outcome = chats.post_messages([chats.Draft(chat.id, chats.Sender.visitor(chat), "", "c2",
                                               [forgotten_id])])[0]
    assert isinstance(outcome, DeskError) and outcome.code == "unknown_attachment"
    message, created = _send(chat, recent, client_id="c3")
    assert created and [a["name"] for a in message["attachments"]] == ["recent.txt"]


def test_the_chat_may_hold_new_files_once_the_forgotten_ones_are_gone(app, chat):
    app.config["ATTACHMENT_MAX_PER_CHAT"] = 2
    forgotten = [attachments.upload(chat.id, VISITOR, f"draft{n}.txt", b"draft\n")
                 for n in range(2)]
    with pytest.raises(DeskError) as full:
        attachments.upload(chat.id, VISITOR, "another.txt", b"another\n")
    assert full.value.code == "too_many_files"
    for upload in forgotten:
        _age(upload, 3601)  # the default: an hour
    assert unsent_files.drop_unsent() == 2
    assert attachments.upload(chat.id, VISITOR, "another.txt", b"another\n").size == 8


def test_a_sweep_takes_a_batch_at_a_time(app, chat, monkeypatch):
    monkeypatch.setattr(unsent_files, "BATCH", 2)
    for n in range(3):
        _age(attachments.upload(chat.id, VISITOR, f"d{n}.txt", b"d\n"), 7200)
    assert [unsent_files.drop_unsent() for _ in range(3)] == [2, 1, 0]
    assert Attachment.query.count() == 0 and StoredFile.query.count() == 0
