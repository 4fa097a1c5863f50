"""Uploaded files never sent: the sweeper removes them once they are old.

A file is uploaded before the message that carries it is sent. One that is never sent (the
upload removed from the tray, the tab closed, the chat ended first) would count against the
chat's limit of files for good and keep its bytes. After `ATTACHMENT_UNSENT_TTL` seconds (an
hour by default) it is deleted with its bytes and thumbnail, a batch per sweep.

A file sent while the sweeper runs is kept: the row goes only while no message carries it
(the same condition the send checks when it claims the file), so one of the two wins. The
database store deletes the bytes in the same transaction; an S3 store deletes objects at
once, so a failure there rolls the rows back for the next sweep, and a commit that fails
after the objects went leaves rows the next sweep removes (S3 deletes are idempotent).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from app.desk.settings import setting
from app.desk.unit_of_work import use_case
from app.extensions import db
from app.files.storage import file_store
from app.models import Attachment
from app.models.types import utcnow

log = logging.getLogger(__name__)
BATCH = 200


@use_case
def drop_unsent(now: datetime | None = None) -> int:
    """Delete up to a batch of files uploaded longer ago than the setting and never sent;
    how many went."""
    cutoff = (now or utcnow()) - timedelta(seconds=setting("ATTACHMENT_UNSENT_TTL"))
    table = Attachment.__table__
    oldest = (select(table.c.id).where(table.c.message_id.is_(None),
                                       table.c.created_at < cutoff)
              .order_by(table.c.id).limit(BATCH))
    gone = db.session.execute(
        delete(table).where(table.c.id.in_(oldest.scalar_subquery()),
                            table.c.message_id.is_(None))
        .returning(table.c.storage_key, table.c.thumbnail_key)).all()
    store = file_store()
    for key, thumbnail_key in gone:
        store.delete(key)
        if thumbnail_key:
            store.delete(thumbnail_key)
    if gone:
        log.info("deleted %d uploaded file(s) never sent", len(gone))
    return len(gone)
