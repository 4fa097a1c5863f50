"""Who is this socket: an agent (Flask-Login session cookie) or an end user (visitor token)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import current_app, request, session
from flask_login import current_user
from socketio.exceptions import ConnectionRefusedError
from sqlalchemy.exc import SQLAlchemyError

from app.desk.errors import DeskError
from app.desk.sessions import parse_session_id
from app.desk.tokens import chat_for_visitor_token
from app.extensions import db
from app.models import Chat, User
from app.realtime.ratelimit import Budget

AGENT = "agent"
VISITOR = "visitor"


@dataclass
class SocketClient:
    """What this process remembers about one of its sockets."""

    sid: str
    role: str
    user_id: int | None = None
    generation: int | None = None  # an agent's session generation, as of connecting
    chat_id: int | None = None
    name: str | None = None  # an end user's display name, as of connecting
    # An end user's e-mail address: his chats share one event budget, whatever person
    # records they have (an unverified request gets its own).
    end_user: str | None = None
    queue_ids: list[int] = field(default_factory=list)
    # The last queue_state sent to this socket carried an error: retry on the next sweep.
    state_error: bool = False
    # A manager's socket: the chats it watches, and those it joined (it writes in them).
    watching: set[int] = field(default_factory=set)
    joined: set[int] = field(default_factory=set)
    # Paid for each event; shared with the other sockets of the same chat, end user or agent.
    budget: Budget = field(default_factory=lambda: Budget([]))
    # Paid for each page of history instead (resuming a long chat spends no event budget).
    history_budget: Budget = field(default_factory=lambda: Budget([]))

    def budget_keys(self) -> tuple:
        if self.is_agent:
            return (("agent", self.user_id),)
        return (("chat", self.chat_id), ("end_user", self.end_user))

    @property
    def is_agent(self) -> bool:
        return self.role == AGENT


def refuse(error: DeskError) -> ConnectionRefusedError:
    """A refusal the client receives as `connect_error` (message + data = the error dict)."""
    return ConnectionRefusedError(error.message, error.to_dict())


def event_budget_settings() -> tuple[float, int]:
    """(events per second, burst) of a socket, and of each chat, end user and agent."""
    config = current_app.config
    return (float(config.get("SOCKET_EVENTS_PER_SECOND", 5)),
            int(config.get("SOCKET_EVENT_BURST", 20)))


def history_budget_settings() -> tuple[float, int]:
    """(pages per second, burst) of history pages, likewise."""
    config = current_app.config
    return (float(config.get("SOCKET_HISTORY_PER_SECOND", 10)),
            int(config.get("SOCKET_HISTORY_BURST", 60)))


def agent_identity(*, allow_unverified: bool = False) -> tuple[int, int]:
    """The logged-in agent's (user id, session generation), or a refusal.

    With `allow_unverified`, a database outage falls back to what the signed session cookie
    says, so that the queue indicator can still be told that the server has a problem (the
    socket is checked again, and dropped if need be, once the database is back).
    """
    _require_own_origin()
    try:
        user = current_user._get_current_object()
        if user.is_authenticated:
            return int(user.id), int(user.session_generation or 0)
    except SQLAlchemyError:
        db.session.rollback()
        parsed = parse_session_id(session.get("_user_id"))
        if allow_unverified and parsed is not None:
            return parsed
        raise refuse(DeskError("unavailable", "The service is unavailable; try again soon.")
                     ) from None
    raise refuse(DeskError("unauthorized", "Log in as an agent to use this channel."))


def _require_own_origin() -> None:
    """Cookie-authenticated sockets only from the app's own pages.

    The widget's origins may open sockets too (they authenticate with a visitor token), but a
    page on one of them must not ride an agent's session cookie (cross-site WebSocket
    hijacking). Clients that send no Origin (not browsers) are not concerned.
    """
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc.lower() != request.host.lower():
        raise refuse(DeskError("forbidden_origin",
                               "Agent connections are accepted from this site's own pages only."))


def visitor_chat(token: object) -> Chat:
    """The one chat a visitor token opens (forged, expired or revoked: refused)."""
    try:
        return chat_for_visitor_token(current_app.config["SECRET_KEY"], token)
    except DeskError as exc:
        raise refuse(exc) from None


SESSION_ENDED = DeskError("unauthorized", "Your session has ended; log in again.")


def load_agent(client: SocketClient) -> User:
    """The agent behind a socket, read afresh for each event: once his sessions ended
    (logout, password change, disabled), nothing more is done for this socket."""
    user = db.session.get(User, client.user_id)
    if user is None or not user.is_enabled or \
            (user.session_generation or 0) != client.generation:
        raise SESSION_ENDED
    return user
