"""Files in chats: who may send and see them, which types and sizes, and how messages carry
them.

A file is uploaded first (`upload`) and then sent with a message (`send` with
`attachment_ids`); until a message carries it only its uploader sees it. The type is judged
by the content against an allow-list, never by the name or the client's claim, and a name
that says otherwise is refused. Once sent, a file belongs to the chat's SR: its end user,
the agents who may see the chat or the SR, and managers may fetch it, through signed links
that expire (`app.desk.file_links`).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from app import wire
from app.desk import file_links, people, worklist
from app.desk.errors import Conflict, DeskError, Forbidden, NotFound, ValidationError
from app.desk.settings import setting
from app.desk.unit_of_work import use_case
from app.desk.validation import clean_id
from app.extensions import db
from app.files import inspection, threads
from app.files.storage import file_store
from app.models import Attachment, Chat, ChatMessage, ChatStatus, SenderRole, User

# What may be sent, by the type the content shows, with the names such a file may have.
ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg", "jpe", "jfif"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "application/pdf": ("pdf",),
    "text/plain": ("txt", "log", "csv", "json", "ini", "conf", "cfg", "yaml", "yml", "md"),
}
_KNOWN_EXTENSIONS = {ext: mime for mime, exts in ALLOWED_TYPES.items() for ext in exts}
_DESCRIBED = {"image/png": "a PNG image", "image/jpeg": "a JPEG image",
              "image/gif": "a GIF image", "image/webp": "a WebP image",
              "application/pdf": "a PDF document", "text/plain": "plain text"}
NAME_MAX = 200
PUBLIC_ID_BYTES = 16


class TooLarge(DeskError):
    status = 413


class UnsupportedType(DeskError):
    status = 415


class AlreadySent(Exception):
    """A file was claimed by another message between the check and the link (a race of
    two sends): the message writer sorts the drafts out one by one."""


@dataclass(frozen=True)
class Uploader:
    """Who uploads: the chat's end user, or its agent (by user id)."""

    role: SenderRole
    user_id: int | None = None


def accepted_types() -> str:
    """The allow-list as people read it (for error messages and the docs)."""
    return "images (PNG, JPEG, GIF, WebP), PDF and plain text"


# --- upload ------------------------------------------------------------------------------

def clean_name(value: object) -> str:
    """A file name as the end user sees it: no folders, no control characters."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("invalid_name", "The file needs a name.", "file")
    name = value.strip()
    if "/" in name or "\\" in name or name in (".", ".."):
        raise ValidationError("invalid_name", "A file name may not contain / or \\.", "file")
    if any(ord(ch) < 32 or ord(ch) == 127 or 0x80 <= ord(ch) < 0xA0 for ch in name):
        raise ValidationError("invalid_name", "A file name may not contain control "
                              "characters.", "file")
    if len(name) > NAME_MAX:
        raise ValidationError("invalid_name", f"A file name may have at most {NAME_MAX} "
                              "characters.", "file")
    return name


def judge_type(name: str, data: bytes) -> str:
    """The file's MIME type by its content; refused when not allowed or when its name says
    it is something else."""
    content_type = inspection.sniff(data)
    if content_type not in ALLOWED_TYPES:
        raise UnsupportedType("unsupported_type", f"This kind of file cannot be sent; "
                              f"{accepted_types()} can.", "file")
    stem, dot, extension = name.rpartition(".")
    extension = extension.lower() if dot and stem else ""
    if extension and extension not in ALLOWED_TYPES[content_type]:
        if extension in _KNOWN_EXTENSIONS:
            raise UnsupportedType("type_mismatch", f"{name} is named as a .{extension} file "
                                  f"but its content is {_DESCRIBED[content_type]}.", "file")
        raise UnsupportedType("unsupported_type", f".{extension} files cannot be sent; "
                              f"{accepted_types()} can.", "file")
    return content_type


def check_size(size: int) -> None:
    limit = setting("ATTACHMENT_MAX_BYTES")
    if size > limit:
        raise TooLarge("too_large", f"The file is too large: at most {_megabytes(limit)} per "
                       "file.", "file")
    if size == 0:
        raise ValidationError("empty_file", "The file is empty.", "file")


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:g} MB"


def _uploading_chat(chat_id: object, uploader: Uploader) -> Chat:
    chat = db.session.get(Chat, clean_id(chat_id, "chat_id"))
    if chat is None:
        raise NotFound("unknown_chat", "No such chat.", "chat_id")
    if chat.status not in (ChatStatus.WAITING, ChatStatus.ACTIVE):
        raise Conflict("closed", "This chat is closed.", "chat_id")
    if uploader.role == SenderRole.AGENT and (
            chat.agent_id != uploader.user_id or chat.status != ChatStatus.ACTIVE):
        raise Forbidden("not_yours", "Only the agent of a live chat can send files in it.",
                        "chat_id")
    return chat


@use_case
def upload(chat_id: object, uploader: Uploader, name: object, data: bytes) -> Attachment:
    """Store a file in a chat, not yet sent: judged, measured and, for an image, thumbnailed
    and stripped of its metadata. The adapter has checked who the uploader is.

    The image work comes first and runs in a thread of its own when the server has a pool
    (`app.files.threads`): no database connection is held meanwhile, and the server's event
    loop goes on. The chat is checked after it, at the moment the file is written."""
    clean = clean_name(name)
    check_size(len(data))
    content_type = judge_type(clean, data)
    try:
        kept = threads.run(inspection.prepare, data, content_type,
                           setting("ATTACHMENT_MAX_PIXELS"))
    except inspection.NotAnImage as exc:
        raise UnsupportedType("unsupported_type", str(exc), "file") from exc
    data, thumbnail = kept.data, kept.thumbnail
    chat = _uploading_chat(chat_id, uploader)
    limit = setting("ATTACHMENT_MAX_PER_CHAT")
    count = db.session.scalar(select(func.count(Attachment.id))
                              .where(Attachment.chat_id == chat.id))
    if count >= limit:
        raise Conflict("too_many_files", f"A chat may hold at most {limit} files.", "file")
    public_id = secrets.token_urlsafe(PUBLIC_ID_BYTES)
    store = file_store()
    key = f"attachments/{chat.id}/{public_id}"
    written = []
    try:
        store.put(key, data, content_type)
        written.append(key)
        if thumbnail is not None:
            store.put(key + ".thumb", thumbnail, inspection.THUMBNAIL_TYPE)
            written.append(key + ".thumb")
        attachment = Attachment(
            public_id=public_id, chat_id=chat.id, uploader_role=uploader.role,
            uploader_user_id=uploader.user_id, name=clean, content_type=content_type,
            size=len(data), sha256=kept.sha256, storage_key=key,
            thumbnail_key=key + ".thumb" if thumbnail is not None else None,
            width=kept.width, height=kept.height)
        db.session.add(attachment)
        db.session.flush()
    except BaseException:
        if store.name != "database":  # the database store rolls back with the use case
            for done in written:
                store.delete(done)
        raise
    return attachment


# --- sending -----------------------------------------------------------------------------

def clean_ids(value: object) -> tuple[str, ...]:
    """`attachment_ids` of a send: a list of distinct attachment ids (may be empty)."""
    if value is None:
        return ()
    limit = setting("ATTACHMENT_MAX_PER_MESSAGE")
    if not isinstance(value, list) or not all(isinstance(item, str) and 0 < len(item) <= 64
                                              for item in value):
        raise ValidationError("invalid", "attachment_ids must be a list of attachment ids.",
                              "attachment_ids")
    if len(set(value)) != len(value):
        raise ValidationError("invalid", "attachment_ids lists a file twice.",
                              "attachment_ids")
    if len(value) > limit:
        raise ValidationError("too_many_files", f"A message may carry at most {limit} files.",
                              "attachment_ids")
    return tuple(value)


def unusable(connection, wanted: dict[int, tuple]) -> dict[int, DeskError]:
    """Which drafts name files they cannot send: {draft index: why}.

    `wanted` maps a draft index to (chat id, sender role, sender user id, attachment ids).
    A file must be in the same chat, uploaded by the same side (and, for agents, by the same
    agent), and not sent yet.
    """
    ids = sorted({public_id for *_, names in wanted.values() for public_id in names})
    table = Attachment.__table__
    rows = {row.public_id: row for row in connection.execute(
        select(table.c.public_id, table.c.chat_id, table.c.message_id, table.c.uploader_role,
               table.c.uploader_user_id).where(table.c.public_id.in_(ids)))}
    refused = {}
    for index, (chat_id, role, user_id, names) in wanted.items():
        for public_id in names:
            row = rows.get(public_id)
            if row is None or row.chat_id != chat_id or row.uploader_role != role or (
                    role == SenderRole.AGENT and row.uploader_user_id != user_id):
                refused[index] = Forbidden("unknown_attachment", "A file of this message "
                                           "was not uploaded to this chat by you.",
                                           "attachment_ids")
                break
            if row.message_id is not None:
                refused[index] = Conflict("attachment_sent", "A file of this message was "
                                          "sent already.", "attachment_ids")
                break
    return refused


def link_to_messages(connection, links: dict[int, tuple[str, ...]]) -> None:
    """Mark the files as carried by their messages ({message id: attachment ids}); a file
    claimed meanwhile by another message raises AlreadySent (the transaction rolls back)."""
    table = Attachment.__table__
    for message_id, names in links.items():
        done = connection.execute(
            update(table).where(table.c.public_id.in_(names), table.c.message_id.is_(None))
            .values(message_id=message_id)).rowcount
        if done != len(names):
            raise AlreadySent(message_id)


def of_messages(message_ids: Sequence[int]) -> dict[int, list[dict]]:
    """The files each message carries, as the wire shows them: {message id: [attachment]}."""
    if not message_ids:
        return {}
    rows = db.session.scalars(select(Attachment).where(Attachment.message_id.in_(message_ids))
                              .order_by(Attachment.id))
    return _grouped(rows)


def of_chats(chat_ids: Sequence[int]) -> dict[int, list[dict]]:
    """Every sent file of these chats by message id (one indexed query, for histories)."""
    rows = db.session.scalars(select(Attachment).where(
        Attachment.chat_id.in_(chat_ids), Attachment.message_id.is_not(None))
        .order_by(Attachment.id))
    return _grouped(rows)


def _grouped(rows) -> dict[int, list[dict]]:
    grouped: dict[int, list[dict]] = {}
    for row in rows:
        grouped.setdefault(row.message_id, []).append(described(row))
    return grouped


def by_public_ids(names: Sequence[str]) -> list[dict]:
    rows = db.session.scalars(select(Attachment).where(Attachment.public_id.in_(names)))
    order = {name: index for index, name in enumerate(names)}
    return [described(row) for row in sorted(rows, key=lambda row: order[row.public_id])]


def described(attachment: Attachment) -> dict:
    """The wire shape of a file, with fresh signed links."""
    return wire.attachment(attachment, file_links.url_for(attachment),
                           file_links.url_for(attachment, thumbnail=True)
                           if attachment.is_image else None)


def names_by_message(chat_id: int) -> dict[int, list[str]]:
    """How a transcript names the files of each message: "[file: name, 1.2 MB]"."""
    named: dict[int, list[str]] = {}
    for message_id, name, size in db.session.execute(
            select(Attachment.message_id, Attachment.name, Attachment.size)
            .where(Attachment.chat_id == chat_id, Attachment.message_id.is_not(None))
            .order_by(Attachment.id)):
        named.setdefault(message_id, []).append(f"[file: {name}, {human_size(size)}]")
    return named


def mail_links(chat_id: int) -> dict[int, list[dict]]:
    """For the e-mailed transcript: each message's files with a link the end user can open
    from his mailbox ({message id: [{"name", "size", "url"}]})."""
    linked: dict[int, list[dict]] = {}
    for row in db.session.scalars(select(Attachment).where(
            Attachment.chat_id == chat_id, Attachment.message_id.is_not(None))
            .order_by(Attachment.id)):
        linked.setdefault(row.message_id, []).append(
            {"name": row.name, "size": human_size(row.size),
             "url": file_links.mail_url_for(row)})
    return linked


def human_size(size: int) -> str:
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.0f} kB"
    return f"{size / 1_000_000:.1f} MB"


@dataclass(frozen=True)
class SentFile:
    """A file of an SR with the message that carried it: who sent it, and when."""

    attachment: Attachment
    sender_role: SenderRole
    sender_name: str
    sent_at: datetime


def of_service_request(sr_id: int) -> list[SentFile]:
    """Every sent file of an SR's chats, oldest first, with its sender (one query)."""
    rows = db.session.execute(
        select(Attachment, ChatMessage.sender_role, ChatMessage.sender_name,
               ChatMessage.sent_at)
        .join(ChatMessage, ChatMessage.id == Attachment.message_id)
        .join(Chat, Chat.id == Attachment.chat_id)
        .where(Chat.sr_id == sr_id).order_by(Attachment.id))
    return [SentFile(*row) for row in rows]


def of_service_request_described(sr_id: int) -> list[dict]:
    """The SR's files as the SR form lists them, with fresh signed links."""
    return [wire.sent_file(described(f.attachment), f.sender_role, f.sender_name, f.sent_at)
            for f in of_service_request(sr_id)]


# --- reading -----------------------------------------------------------------------------

def readable_by_visitor(attachment: Attachment, chat_id: int) -> bool:
    """The end user of the chat sees what was sent and what he uploaded himself."""
    return attachment.chat_id == chat_id and (
        attachment.message_id is not None or attachment.uploader_role == SenderRole.VISITOR)


def readable_by_user(attachment: Attachment, user: User) -> bool:
    """Managers and the agents who may see the chat or its SR; an unsent file only its
    uploader."""
    if attachment.message_id is None:
        return attachment.uploader_user_id == user.id
    if user.is_manager:
        return True
    chat = attachment.chat
    return (chat.agent_id == user.id or people.is_queue_member(user, chat.queue_id)
            or worklist.may_view(user, chat.service_request))


def read(attachment: Attachment, *, thumbnail: bool = False) -> bytes:
    store = file_store()
    return store.get(attachment.thumbnail_key if thumbnail else attachment.storage_key)

