"""Signed, expiring visitor tokens: each grants access to one chat, nothing else."""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.desk.errors import Forbidden
from app.desk.settings import setting
from app.extensions import db
from app.models import Chat

_SALT = "visitor-token-v1"


def new_visitor_key() -> str:
    return secrets.token_urlsafe(24)


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def make_visitor_token(secret_key: str, chat: Chat) -> str:
    return _serializer(secret_key).dumps({"c": chat.id, "k": chat.visitor_key})


def chat_for_visitor_token(secret_key: str, token: object, max_age: int | None = None) -> Chat:
    """The one chat this token opens; Forbidden for a forged, expired or revoked token."""
    if not isinstance(token, str) or not token or len(token) > 512:
        raise Forbidden("bad_token", "Missing or malformed visitor token.", "visitor_token")
    try:
        data = _serializer(secret_key).loads(
            token, max_age=max_age or setting("VISITOR_TOKEN_MAX_AGE"))
    except SignatureExpired as exc:
        raise Forbidden("token_expired", "This chat link has expired; start a new chat.",
                        "visitor_token") from exc
    except BadSignature as exc:
        raise Forbidden("bad_token", "Invalid visitor token.", "visitor_token") from exc
    if not isinstance(data, dict) or not isinstance(data.get("c"), int):
        raise Forbidden("bad_token", "Invalid visitor token.", "visitor_token")
    chat = db.session.get(Chat, data["c"])
    if chat is None or not secrets.compare_digest(chat.visitor_key, str(data.get("k", ""))):
        raise Forbidden("bad_token", "Invalid visitor token.", "visitor_token")
    return chat
