"""HTTP for files in chats: upload (end user or agent) and the signed download links.

The same upload URL serves both sides: the widget (another site) authenticates with its
visitor token in `Authorization: Bearer …` and never with cookies; the agent console with
its session cookie, which then needs the page's CSRF token in `X-CSRFToken` (the blueprint
is CSRF-exempt for the widget's sake). An upload over the size limit is refused from its
`Content-Length`, before the body is read; a body sent without one stops at the same limit.

Downloads are served as the checked type with `nosniff`, as a download unless an image,
and with a sandboxing Content-Security-Policy: even a file that a browser might take for a
page runs no script in the desk's origin.
"""

from __future__ import annotations

import io

from flask import current_app, jsonify, request, send_file
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError as CSRFTokenError

from app.api import bp
from app.desk import attachments, file_links
from app.desk.attachments import TooLarge, Uploader
from app.desk.errors import DeskError, Forbidden
from app.desk.tokens import chat_for_visitor_token
from app.models import SenderRole

# Room for the multipart framing around the file (boundaries, part headers, its name).
MULTIPART_SLACK = 64 * 1024
UPLOAD_FIELDS = {"file"}
DOWNLOAD_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def _too_large() -> TooLarge:
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    return TooLarge("too_large", f"The file is too large: at most {limit / 1_000_000:g} MB "
                    "per file.", "file")


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _visitor_chat_id() -> int | None:
    """The chat of the visitor token presented, if any (refused when forged or expired)."""
    token = _bearer()
    if token is None:
        return None
    return chat_for_visitor_token(current_app.config["SECRET_KEY"], token).id


def _signed_in_user():
    if not current_user.is_authenticated:
        raise Forbidden("login_required", "Open the file from the chat: sign in, or use the "
                        "chat window.")
    return current_user._get_current_object()


def _check_csrf() -> None:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    try:
        validate_csrf(request.headers.get("X-CSRFToken"))
    except (CSRFTokenError, CSRFError) as exc:
        raise Forbidden("csrf", "The page's security token is missing or old; reload the "
                        "page.") from exc


def _uploader(chat_id: int) -> Uploader:
    visitor_chat = _visitor_chat_id()
    if visitor_chat is not None:
        if visitor_chat != chat_id:
            raise Forbidden("not_yours", "This is not your chat.", "chat_id")
        return Uploader(SenderRole.VISITOR)
    user = _signed_in_user()
    _check_csrf()
    return Uploader(SenderRole.AGENT, user.id)


@bp.post("/chats/<int:chat_id>/attachments")
def upload_attachment(chat_id: int):
    """Store a file in the chat (not sent yet): 201 with its id and signed link."""
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    if (request.content_length or 0) > limit + MULTIPART_SLACK:
        raise _too_large()  # refused from the header: the body is never read
    request.max_content_length = limit + MULTIPART_SLACK
    uploader = _uploader(chat_id)
    unknown = sorted((set(request.files) | set(request.form)) - UPLOAD_FIELDS)
    if unknown:
        raise DeskError("unknown_field", f"Unexpected field {unknown[0][:64]!r}.",
                        unknown[0][:64])
    sent = request.files.getlist("file")
    if len(sent) != 1:
        raise DeskError("required", "Send one file in the multipart field 'file'.", "file")
    data = sent[0].stream.read(limit + 1)
    if len(data) > limit:
        raise _too_large()
    attachment = attachments.upload(chat_id, uploader, _sent_name(sent[0]), data)
    return jsonify(attachments.described(attachment)), 201


def _sent_name(part) -> str:
    """The file name as sent. Multipart quoting reads `\\U` as `U`, so a Windows path
    could arrive without its backslashes: a backslash in the raw header still counts."""
    raw = part.headers.get("Content-Disposition", "")
    return (part.filename or "") + ("\\" if "\\" in raw else "")


@bp.errorhandler(413)
def body_too_large(exc):
    return jsonify(_too_large().to_dict()), 413


@bp.get("/attachments/<token>/<path:name>")
def download(token: str, name: str):
    """A chat link: for the end user of the chat (visitor token), or a signed-in agent who
    may see the chat or its SR, or a manager."""
    attachment, thumbnail = file_links.resolve(token)
    visitor_chat = _visitor_chat_id()
    if visitor_chat is not None:
        allowed = attachments.readable_by_visitor(attachment, visitor_chat)
    else:
        allowed = attachments.readable_by_user(attachment, _signed_in_user())
    if not allowed:
        raise Forbidden("forbidden", "This file belongs to a chat you may not see.", "url")
    return _file_response(attachment, thumbnail)


@bp.get("/attachments/mail/<token>/<path:name>")
def download_from_mail(token: str, name: str):
    """A link of an e-mailed transcript: it carries its own right, for a while."""
    return _file_response(file_links.resolve_mail(token), thumbnail=False)


def _file_response(attachment, thumbnail: bool):
    data = attachments.read(attachment, thumbnail=thumbnail)
    if thumbnail:
        mimetype, inline, name = "image/webp", True, attachment.name + ".webp"
    else:
        mimetype, inline, name = attachment.content_type, attachment.is_image, attachment.name
    if mimetype == "text/plain":
        mimetype = "text/plain; charset=utf-8"
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=not inline,
                         download_name=name, conditional=False, etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_POLICY
    # The link is the credential's companion: private caches only, for as long as it lives.
    response.cache_control.private = True
    response.cache_control.public = False
    response.cache_control.max_age = 3600
    response.cache_control.no_cache = None
    response.expires = None
    response.vary.add("Authorization")
    response.vary.add("Cookie")
    return response
