"""The S3 file store behind the same interface as the database store, against a real
S3-compatible server on loopback (moto's server mode): uploads land in the bucket, signed
links serve them, and nothing is left behind by a refused upload or a forgotten one."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from botocore.exceptions import EndpointConnectionError
from sqlalchemy import update

from app.desk import attachments, chats, unsent_files
from app.desk.errors import DeskError
from app.desk.tokens import make_visitor_token
from app.extensions import db
from app.files import storage
from app.files.storage import MissingFile, S3Store, file_store
from app.models import Attachment, SenderRole, StoredFile
from app.models.types import utcnow
from tests.support import files

pytestmark = pytest.mark.one_backend  # the S3 server holds the bytes, whatever the database

pytest.importorskip("moto", reason="moto[s3] is a dev extra")
BUCKET = "desk-files"
PREFIX = "desk/"
VISITOR = attachments.Uploader(SenderRole.VISITOR)


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server in a thread of this process, on a free loopback port."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_app(app, s3_endpoint, monkeypatch):
    """The app with ATTACHMENT_STORAGE=s3 on a fresh bucket (credentials as AWS_* say)."""
    for name, value in (("AWS_ACCESS_KEY_ID", "desk-test"),
                        ("AWS_SECRET_ACCESS_KEY", "desk-test-secret"),
                        ("AWS_DEFAULT_REGION", "eu-central-1")):
        monkeypatch.setenv(name, value)
    app.config.update(ATTACHMENT_STORAGE="s3", ATTACHMENT_S3_BUCKET=BUCKET,
                      ATTACHMENT_S3_PREFIX=PREFIX, ATTACHMENT_S3_ENDPOINT_URL=s3_endpoint,
                      ATTACHMENT_S3_REGION="eu-central-1")
    storage.init_app(app)
    client = file_store().client
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={
        "LocationConstraint": "eu-central-1"})
    yield app
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def chat(s3_app, desk):
    return chats.request_chat(name="Erin", email="erin@example.org", queue="Software",
                              question="Outlook crashes on start").chat


def _objects() -> set[str]:
    listed = file_store().client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {item["Key"] for item in listed}


def test_files_live_in_the_bucket_and_open_through_signed_links(s3_app, chat):
    assert isinstance(file_store(), S3Store)
    photo = attachments.upload(chat.id, VISITOR, "photo.jpg", files.jpeg_with_gps())
    log = attachments.upload(chat.id, VISITOR, "vpn.log", b"error 809\n")
    assert _objects() == {PREFIX + photo.storage_key, PREFIX + photo.thumbnail_key,
                          PREFIX + log.storage_key}
    assert StoredFile.query.count() == 0  # no bytes in the database
    [(message, created)] = chats.post_messages([chats.Draft(
        chat.id, chats.Sender.visitor(chat), "see", "c1", [photo.public_id, log.public_id])])
    assert created

    browser = s3_app.test_client()
    bearer = {"Authorization": f"Bearer {make_visitor_token(s3_app.config['SECRET_KEY'], chat)}"}
    original, text = message["attachments"]
    served = browser.get(original["url"], headers=bearer)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.data == attachments.read(photo) and files.gps_of(served.data) == {}
    thumbnail = browser.get(original["thumbnail_url"], headers=bearer)
    assert thumbnail.mimetype == "image/webp" and thumbnail.data[8:12] == b"WEBP"
    download = browser.get(text["url"], headers=bearer)
    assert download.data == b"error 809\n"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert browser.get(text["url"]).status_code == 403  # the link alone opens nothing


def test_a_refused_or_failed_upload_leaves_nothing_in_the_bucket(s3_app, chat, monkeypatch):
    s3_app.config["ATTACHMENT_MAX_PER_CHAT"] = 1
    kept = attachments.upload(chat.id, VISITOR, "first.png", files.png())
    with pytest.raises(DeskError) as full:
        attachments.upload(chat.id, VISITOR, "second.png", files.png())
    assert full.value.code == "too_many_files"
    s3_app.config["ATTACHMENT_MAX_PER_CHAT"] = 30
    # The store fails half-way (the original written, the connection lost before the
    # thumbnail): the use case takes back what it wrote, and no row names it.
    store = file_store()
    real_put = store.put

    def lost_on_thumbnails(key, data, content_type):
        if key.endswith(".thumb"):
            raise EndpointConnectionError(endpoint_url=store.client.meta.endpoint_url)
        real_put(key, data, content_type)

    monkeypatch.setattr(store, "put", lost_on_thumbnails)
    with pytest.raises(EndpointConnectionError):
        attachments.upload(chat.id, VISITOR, "third.png", files.png())
    assert _objects() == {PREFIX + kept.storage_key, PREFIX + kept.thumbnail_key}
    assert Attachment.query.count() == 1


def test_forgotten_uploads_are_deleted_from_the_bucket(s3_app, chat):
    forgotten = attachments.upload(chat.id, VISITOR, "forgotten.png", files.png()).storage_key
    sent = attachments.upload(chat.id, VISITOR, "sent.txt", b"sent\n")
    chats.post_messages([chats.Draft(chat.id, chats.Sender.visitor(chat), "", "c1",
                                     [sent.public_id])])
    db.session.execute(update(Attachment).values(created_at=utcnow() - timedelta(hours=2)))
    db.session.commit()
    assert unsent_files.drop_unsent() == 1
    assert _objects() == {PREFIX + sent.storage_key}
    with pytest.raises(MissingFile):
        file_store().get(forgotten)
