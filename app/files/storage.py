"""Where the bytes of attachments live: the database (default) or an S3-compatible store.

Both work with several server processes on several machines. The database store writes in
the caller's transaction, so a file and the row that names it are committed (or rolled back)
together. The S3 store (boto3, AWS's own SDK: it speaks every S3-compatible service — AWS,
MinIO, Ceph, Garage — with retries, multipart and credentials handled) writes at once;
`delete` lets a failed use case remove what it wrote.
"""

from __future__ import annotations

from typing import Protocol

from flask import Flask, current_app
from sqlalchemy import delete

from app.extensions import db
from app.models import StoredFile

_EXTENSION = "file_store"


class FileStore(Protocol):
    name: str

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


class MissingFile(LookupError):
    """A key the store does not have (deleted, or the store was changed)."""


class DatabaseStore:
    """Bytes in the `stored_file` table, in the same transaction as the attachment row."""

    name = "database"

    def put(self, key: str, data: bytes, content_type: str) -> None:
        db.session.add(StoredFile(key=key, data=data))

    def get(self, key: str) -> bytes:
        row = db.session.get(StoredFile, key)
        if row is None:
            raise MissingFile(key)
        return row.data

    def delete(self, key: str) -> None:
        # A statement, not a load and delete: the bytes are never read to be thrown away.
        db.session.execute(delete(StoredFile).where(StoredFile.key == key))


class S3Store:
    """Objects in a bucket of any S3-compatible service."""

    name = "s3"

    def __init__(self, bucket: str, *, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            config=Config(retries={"max_attempts": 3, "mode": "standard"},
                          connect_timeout=5, read_timeout=30))

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data,
                               ContentType=content_type)

    def get(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except self.client.exceptions.NoSuchKey as exc:
            raise MissingFile(key) from exc
        return answer["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)


def init_app(app: Flask) -> None:
    """The app's store, from ATTACHMENT_STORAGE (`database` or `s3`)."""
    kind = app.config.get("ATTACHMENT_STORAGE", "database")
    if kind == "database":
        store: FileStore = DatabaseStore()
    elif kind == "s3":
        bucket = app.config.get("ATTACHMENT_S3_BUCKET")
        if not bucket:
            raise RuntimeError("ATTACHMENT_STORAGE=s3 needs ATTACHMENT_S3_BUCKET")
        store = S3Store(bucket, prefix=app.config.get("ATTACHMENT_S3_PREFIX", ""),
                        endpoint_url=app.config.get("ATTACHMENT_S3_ENDPOINT_URL"),
                        region=app.config.get("ATTACHMENT_S3_REGION"))
    else:
        raise RuntimeError(f"ATTACHMENT_STORAGE must be database or s3, not {kind!r}")
    app.extensions[_EXTENSION] = store


def file_store() -> FileStore:
    return current_app.extensions[_EXTENSION]
