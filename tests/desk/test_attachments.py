"""Files in chats, in the service layer: limits, who may send which file, the SR's files."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.desk import attachments, chats
from app.desk.errors import DeskError
from app.files.storage import DatabaseStore, MissingFile, file_store
from app.models import Attachment, SenderRole, StoredFile
from tests.support import files

VISITOR = attachments.Uploader(SenderRole.VISITOR)


@pytest.fixture
def chat(desk):
    return chats.request_chat(name="Erin", email="erin@example.org", queue="Software",
                              question="Outlook crashes on start").chat


def test_a_chat_holds_a_limited_number_of_files(app, chat):
    app.config["ATTACHMENT_MAX_PER_CHAT"] = 2
    for number in range(2):
        attachments.upload(chat.id, VISITOR, f"log{number}.txt", b"line\n")
    with pytest.raises(DeskError) as refused:
        attachments.upload(chat.id, VISITOR, "log2.txt", b"line\n")
    assert refused.value.code == "too_many_files" and refused.value.status == 409
    assert Attachment.query.count() == 2 and StoredFile.query.count() == 2


def test_a_message_carries_a_limited_number_of_files(app, chat):
    app.config["ATTACHMENT_MAX_PER_MESSAGE"] = 2
    ids = [attachments.upload(chat.id, VISITOR, f"f{n}.txt", b"x\n").public_id
           for n in range(3)]
    [outcome] = chats.post_messages([chats.Draft(chat.id, chats.Sender.visitor(chat), "",
                                                 "c1", ids)])
    assert outcome.code == "too_many_files"
    [(message, created)] = chats.post_messages([chats.Draft(
        chat.id, chats.Sender.visitor(chat), "two of them", "c2", ids[:2])])
    assert created and [a["name"] for a in message["attachments"]] == ["f0.txt", "f1.txt"]


def test_an_agent_uploads_only_in_his_live_chat(desk, chat):
    bob = attachments.Uploader(SenderRole.AGENT, desk.bob.id)
    with pytest.raises(DeskError) as waiting:
        attachments.upload(chat.id, bob, "guide.pdf", files.pdf())
    assert waiting.value.code == "not_yours"
    chats.accept_chat(chat.id, desk.alice)
    with pytest.raises(DeskError) as someone_elses:
        attachments.upload(chat.id, bob, "guide.pdf", files.pdf())
    assert someone_elses.value.code == "not_yours"
    mine = attachments.upload(chat.id, attachments.Uploader(SenderRole.AGENT, desk.alice.id),
                              "guide.pdf", files.pdf())
    assert mine.content_type == "application/pdf" and mine.thumbnail_key is None
    chats.close_chat(chat.id, by=SenderRole.AGENT, agent=desk.alice)
    with pytest.raises(DeskError) as closed:
        attachments.upload(chat.id, VISITOR, "late.txt", b"late\n")
    assert closed.value.code == "closed"


def test_the_files_of_an_sr_are_those_its_chats_sent(desk, chat):
    sent = attachments.upload(chat.id, VISITOR, "shot.png", files.png())
    attachments.upload(chat.id, VISITOR, "never-sent.txt", b"draft\n")
    chats.post_messages([chats.Draft(chat.id, chats.Sender.visitor(chat), "", "c1",
                                     [sent.public_id])])
    [kept] = attachments.of_service_request(chat.sr_id)
    assert kept.attachment.name == "shot.png" and kept.sender_name == "Erin"
    assert kept.sender_role == SenderRole.VISITOR and kept.sent_at is not None


def test_the_database_store_keeps_bytes_with_the_transaction(app, chat):
    store = file_store()
    assert isinstance(store, DatabaseStore)
    kept = attachments.upload(chat.id, VISITOR, "shot.png", files.png())
    assert attachments.read(kept) == files.png()
    assert attachments.read(kept, thumbnail=True)[8:12] == b"WEBP"
    with pytest.raises(MissingFile):
        store.get("attachments/none")


def test_a_sideways_photo_gets_an_upright_thumbnail_and_keeps_how_to_turn_it(chat):
    photo = attachments.upload(chat.id, VISITOR, "sideways.jpg", files.sideways_photo())
    assert (photo.width, photo.height) == (1200, 900)  # as stored
    thumbnail = Image.open(io.BytesIO(attachments.read(photo, thumbnail=True)))
    assert thumbnail.size == (360, 480)  # upright: portrait, within 480 px
    top, bottom = thumbnail.getpixel((180, 60)), thumbnail.getpixel((180, 420))
    assert top[0] > 200 > top[2] and bottom[2] > 200 > bottom[0]  # red above, blue below
    assert files.exif_of(attachments.read(photo)) == {files.ORIENTATION: 6}


def test_an_image_over_the_pixel_limit_is_refused_and_nothing_is_stored(app, chat):
    app.config["ATTACHMENT_MAX_PIXELS"] = 100_000
    with pytest.raises(DeskError) as refused:
        attachments.upload(chat.id, VISITOR, "big.png", files.png(400, 300))
    assert refused.value.code == "unsupported_type" and refused.value.status == 415
    assert "400×300 pixels; at most 100,000" in refused.value.message
    assert Attachment.query.count() == 0 and StoredFile.query.count() == 0
