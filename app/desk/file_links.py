"""Signed, expiring links to attachments.

A chat link (`url_for`) names the file and expires after ATTACHMENT_LINK_MAX_AGE; it opens
the file only for someone allowed to see it (the end user's visitor token, an agent's or a
manager's session), so a leaked link gives a stranger nothing, and an old one nothing to
anyone. A mail link (`mail_url_for`) is for the end user reading an e-mailed transcript,
where no token is at hand: it carries its own right, bound to the chat's visitor key
(rotating the key revokes every link) and expires after ATTACHMENT_MAIL_LINK_MAX_AGE.
Changing one character of either makes it unknown.
"""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import quote

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from app.desk.errors import Forbidden, NotFound
from app.desk.settings import setting
from app.extensions import db
from app.models import Attachment

_CHAT_SALT = "attachment-link-v1"
_MAIL_SALT = "attachment-mail-link-v1"
PREFIX = "/api/attachments"
THUMBNAIL = "thumb"
FILE = "file"


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def url_for(attachment: Attachment, *, thumbnail: bool = False) -> str:
    """The chat link (a path on the desk's origin)."""
    token = _serializer(_CHAT_SALT).dumps(
        {"a": attachment.public_id, "v": THUMBNAIL if thumbnail else FILE})
    return f"{PREFIX}/{token}/{quote(_shown_name(attachment, thumbnail))}"


def mail_url_for(attachment: Attachment) -> str:
    """The self-authorising link of an e-mailed transcript (absolute when PUBLIC_BASE_URL
    is set)."""
    token = _serializer(_MAIL_SALT).dumps(
        {"a": attachment.public_id, "k": _key_print(attachment.chat.visitor_key)})
    base = (setting("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}{PREFIX}/mail/{token}/{quote(attachment.name)}"


def _shown_name(attachment: Attachment, thumbnail: bool) -> str:
    return attachment.name + (".webp" if thumbnail else "")


def _key_print(visitor_key: str) -> str:
    return hashlib.sha256(visitor_key.encode()).hexdigest()[:24]


def resolve(token: str) -> tuple[Attachment, bool]:
    """The file and whether the thumbnail is asked for; NotFound for a link that was never
    made here, Forbidden (`link_expired`) for an old one."""
    data = _load(token, _CHAT_SALT, setting("ATTACHMENT_LINK_MAX_AGE"))
    variant = data.get("v")
    if variant not in (FILE, THUMBNAIL):
        raise _unknown()
    attachment = _attachment(data.get("a"))
    if variant == THUMBNAIL and not attachment.is_image:
        raise _unknown()
    return attachment, variant == THUMBNAIL


def resolve_mail(token: str) -> Attachment:
    """The file a mail link opens, if the chat's visitor key is still the one it was made
    for."""
    data = _load(token, _MAIL_SALT, setting("ATTACHMENT_MAIL_LINK_MAX_AGE"))
    attachment = _attachment(data.get("a"))
    if attachment.message_id is None or not secrets.compare_digest(
            _key_print(attachment.chat.visitor_key), str(data.get("k", ""))):
        raise _unknown()
    return attachment


def _load(token: str, salt: str, max_age: int) -> dict:
    if not isinstance(token, str) or len(token) > 512:
        raise _unknown()
    try:
        data = _serializer(salt).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise Forbidden("link_expired", "This link has expired; open the file again from "
                        "the chat.", "url") from exc
    except BadSignature as exc:
        raise _unknown() from exc
    if not isinstance(data, dict):
        raise _unknown()
    return data


def _attachment(public_id: object) -> Attachment:
    if not isinstance(public_id, str):
        raise _unknown()
    attachment = db.session.scalars(
        select(Attachment).where(Attachment.public_id == public_id)).first()
    if attachment is None:
        raise _unknown()
    return attachment


def _unknown() -> NotFound:
    return NotFound("unknown_file", "No such file.", "url")
