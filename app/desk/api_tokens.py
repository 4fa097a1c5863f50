"""Personal API tokens: other systems act through the REST API with a user's rights.

A token is shown once, when it is created; the desk keeps only its SHA-256 (a random token of
256 bits needs no slow hash: nobody can guess one from its hash). Its owner lists and revokes
his tokens; a disabled account's tokens open nothing. The last use is kept to the minute.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from app.desk.errors import NotFound, ValidationError
from app.desk.unit_of_work import transaction, use_case
from app.desk.validation import clean_id, clean_text
from app.extensions import db
from app.models import ApiToken, User, utcnow

TOKEN_PREFIX = "sdc_"
# How stale the kept last-use time may be: one write a minute per token at most.
LAST_USED_PRECISION = timedelta(seconds=60)
MAX_TOKENS_PER_USER = 50


@dataclass(frozen=True)
class NewToken:
    """A token just created: `secret` is shown once and never stored."""

    token: ApiToken
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@use_case
def create_api_token(user: User, name: object = None) -> NewToken:
    text = clean_text(name, "name", max_length=80, required=False, multiline=False)
    count = len(list_api_tokens(user))
    if count >= MAX_TOKENS_PER_USER:
        raise ValidationError("too_many", f"{user.username} has {count} active tokens; revoke "
                              "one first.", "name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=text or "API token", token_hash=_hash(secret),
                     prefix=secret[:len(TOKEN_PREFIX) + 6])
    db.session.add(token)
    db.session.flush()
    return NewToken(token=token, secret=secret)


def list_api_tokens(user: User) -> list[ApiToken]:
    """The user's tokens that still open the API, newest first."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id.desc())))


@use_case
def revoke_api_token(user: User, token_id: object) -> ApiToken:
    """Revoke one of the user's own tokens (someone else's is unknown to him)."""
    token = db.session.get(ApiToken, clean_id(token_id, "token"))
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise NotFound("not_found", "No such API token.", "token")
    token.revoked_at = utcnow()
    return token


def user_for_token(secret: object) -> User | None:
    """The enabled user whose active token this is, or None; notes the time of use."""
    if not isinstance(secret, str) or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    row = db.session.execute(
        select(ApiToken.id, ApiToken.last_used_at, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _hash(secret), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None or not row.User.is_enabled:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_PRECISION:
        with transaction():
            db.session.execute(update(ApiToken).where(ApiToken.id == row.id)
                               .values(last_used_at=now)
                               .execution_options(synchronize_session=False))
    return row.User
