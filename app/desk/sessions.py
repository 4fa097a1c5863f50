"""Agents' and managers' sessions: which cookie still opens the desk, and ending them all.

A session (and a remember-me cookie) names the user and his *session generation*. Logging
out, a password change or disabling the login raises the generation: every cookie issued
before is refused on its next request or socket event, on every server process, and the
realtime side is told to drop that user's open sockets (``SessionsEnded``).
"""

from __future__ import annotations

from sqlalchemy import select, update

from app.desk import events
from app.desk.unit_of_work import use_case
from app.extensions import db
from app.models import User

LOGGED_OUT = "logged_out"
PASSWORD_CHANGED = "password_changed"
DISABLED = "disabled"


def parse_session_id(value: object) -> tuple[int, int] | None:
    """(user id, generation) from a session's user id ("17:3"), or None if malformed."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    user_id, sep, generation = value.partition(":")
    if not sep or not user_id.isdigit() or not generation.isdigit():
        return None
    return int(user_id), int(generation)


def user_for_session(value: object) -> User | None:
    """The enabled user a session's user id opens, if its generation is still current."""
    parsed = parse_session_id(value)
    if parsed is None:
        return None
    user = db.session.get(User, parsed[0])
    if user is None or not user.is_enabled or (user.session_generation or 0) != parsed[1]:
        return None
    return user


@use_case
def end_sessions(user_id: int, reason: str) -> None:
    """Every session of this user ends now (logout)."""
    db.session.execute(
        update(User).where(User.id == user_id)
        .values(session_generation=User.session_generation + 1)
        .execution_options(synchronize_session=False))
    events.record(events.SessionsEnded(user_id, reason))


def invalidate(user: User, reason: str) -> events.SessionsEnded:
    """Within the caller's change (password, disabling): the generation goes up with it.
    Returns the event for the caller to record in his use case."""
    user.session_generation = (user.session_generation or 0) + 1
    return events.SessionsEnded(user.id, reason)


def current_generations(user_ids: set[int]) -> dict[int, int]:
    """{user id: session generation} of the enabled users among these."""
    if not user_ids:
        return {}
    return {user_id: generation or 0 for user_id, generation in db.session.execute(
        select(User.id, User.session_generation)
        .where(User.id.in_(sorted(user_ids)), User.is_enabled.is_(True)))}
