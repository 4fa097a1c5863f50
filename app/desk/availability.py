"""Agent availability and capacity: who can take a chat now.

An agent chooses `available` or `away` (kept on his account, so it holds across reloads,
reconnects and server processes); he is `offline` while no console of his is open. Closing
the last console starts a short grace (AGENT_OFFLINE_GRACE seconds, so that a reload does
not make him offline); the sweeper ends it (`end_offline_grace`). A dead server process's
agents are offline at once (presence lets go of them).

An agent holds at most `max_chats` live chats (his own number, else CHAT_MAX_PER_AGENT):
`claim_seat` refuses one more with `at_capacity`, for every caller (accept, transfer to an
agent, a manager's take-over). An *available* agent of a queue is one who is online, has
chosen available and has a free seat: the widget's "no agent available" and the queues'
`agents_available` count exactly those.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select, update

from app.desk import events, people
from app.desk.errors import Conflict, ValidationError
from app.desk.settings import setting
from app.desk.unit_of_work import use_case
from app.extensions import db
from app.models import (
    AgentPresence,
    AgentStatus,
    Chat,
    ChatStatus,
    PersonGroup,
    Role,
    User,
    group_members,
    utcnow,
)

MAX_CHATS_LIMIT = 20
CHOSEN = (AgentStatus.AVAILABLE.value, AgentStatus.AWAY.value)


# --- capacity ------------------------------------------------------------------------------

def capacity(user: User) -> int:
    """How many live chats the agent may hold."""
    return user.max_chats or int(setting("CHAT_MAX_PER_AGENT"))


def clean_max_chats(value: object) -> int | None:
    """A manager's number for one agent: empty (the installation's default) or 1 to 20."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("invalid", "max_chats must be a whole number.", "max_chats")
    if not 1 <= value <= MAX_CHATS_LIMIT:
        raise ValidationError("out_of_range", f"max_chats must be between 1 and "
                              f"{MAX_CHATS_LIMIT} (empty: the installation's default).",
                              "max_chats")
    return value


@use_case
def set_max_chats(user_id: int, value: object) -> User:
    """A manager sets how many chats one agent may hold (None: the default)."""
    user = db.session.get(User, user_id)
    user.max_chats = clean_max_chats(value)
    events.record(events.PresenceChanged(tuple(people.agent_queue_ids(user)), (user.id,)))
    return user


def active_chat_count(user_id: int) -> int:
    return int(db.session.scalar(select(func.count(Chat.id)).where(
        Chat.agent_id == user_id, Chat.status == ChatStatus.ACTIVE)) or 0)


def claim_seat(agent: User, *, adding: int = 1) -> None:
    """Refuse (`at_capacity`) unless the agent has room for `adding` more live chats.

    Race-free: the agent's row is locked first (an UPDATE: a row lock on PostgreSQL, the
    write lock on SQLite), so two chats accepted by him at the same moment are counted one
    after the other. Runs inside the caller's transaction, which must then add the chat.
    """
    db.session.execute(update(User).where(User.id == agent.id)
                       .values(last_chat_at=utcnow())
                       .execution_options(synchronize_session=False))
    held = active_chat_count(agent.id)
    limit = capacity(agent)
    if held + adding > limit:
        raise Conflict("at_capacity", f"{agent.display_name} already has {held} of {limit} "
                       "chats; close one first.", "chat_id")


# --- status --------------------------------------------------------------------------------

def clean_status(value: object) -> str:
    if not isinstance(value, str) or value not in CHOSEN:
        raise ValidationError("unknown_status", "status must be \"available\" or \"away\".",
                              "status")
    return value


def online_clause(user_id_column):
    """SQL: the agent has a console open (on any process), or closed his last one within
    the grace."""
    return or_(exists().where(AgentPresence.user_id == user_id_column),
               User.console_closed_at.is_not(None))


def is_online(user: User) -> bool:
    return user.console_closed_at is not None or bool(db.session.scalar(
        select(func.count()).select_from(AgentPresence)
        .where(AgentPresence.user_id == user.id)))


def shown_status(user: User, online: bool | None = None) -> str:
    """What others see: his choice while online, else offline."""
    online = is_online(user) if online is None else online
    return user.status if online else AgentStatus.OFFLINE.value


@use_case
def set_status(user: User, status: object, reason: str | None = None) -> User:
    """The agent (or the desk, with a reason) sets him available or away.

    Away, his pending offers move on to the next agent; available, the waiting chats of his
    auto-routed queues may be offered to him at once.
    """
    from app.desk import routing

    value = clean_status(status)
    user = db.session.get(User, user.id, populate_existing=True)
    if user.status != value or user.status_reason != reason:
        user.status = value
        user.status_since = utcnow()
        user.status_reason = reason
    user.offers_missed = 0
    db.session.flush()
    _told(user, online=True)
    if value == AgentStatus.AWAY.value:
        routing.withdraw_offers(user.id)
    else:
        routing.offer_waiting(people.agent_queue_ids(user))
    return user


def _told(user: User, *, online: bool | None = None) -> None:
    """Record that the agent's status changed: his consoles and the queues' figures."""
    events.record(
        events.AgentStatusChanged(user.id, shown_status(user, online), user.status_since,
                                  user.status_reason),
        events.PresenceChanged(tuple(people.agent_queue_ids(user)), (user.id,)))


def console_opened(user: User) -> None:
    """Inside presence's use case: a console of his connected. Coming back from offline
    starts his status's 'since' anew."""
    was_online = is_online(user)
    if user.console_closed_at is not None:
        user.console_closed_at = None
    if not was_online:
        user.status_since = utcnow()
        db.session.flush()
        _told(user, online=True)


def console_closed(user: User) -> None:
    """Inside presence's use case (after his presence row went): with no console left, the
    grace starts (or, without a grace, he is offline now)."""
    if db.session.scalar(select(func.count()).select_from(AgentPresence)
                         .where(AgentPresence.user_id == user.id)):
        return
    if setting("AGENT_OFFLINE_GRACE") > 0:
        user.console_closed_at = utcnow()
        db.session.flush()
        return
    went_offline([user.id], utcnow())


def went_offline(user_ids: list[int], since: datetime) -> None:
    """These agents have no console left: offline from `since`; their offers move on."""
    from app.desk import routing

    for user_id in user_ids:
        user = db.session.get(User, user_id)
        if user is None:
            continue
        user.console_closed_at = None
        user.status_since = since
        db.session.flush()
        _told(user, online=False)
        routing.withdraw_offers(user_id)


@use_case
def end_offline_grace(grace_seconds: float | None = None) -> list[int]:
    """Sweeper: agents whose last console closed longer than the grace ago are offline."""
    grace = setting("AGENT_OFFLINE_GRACE") if grace_seconds is None else grace_seconds
    cutoff = utcnow() - timedelta(seconds=grace)
    rows = db.session.execute(select(User.id, User.console_closed_at).where(
        User.console_closed_at.is_not(None), User.console_closed_at <= cutoff,
        ~exists().where(AgentPresence.user_id == User.id))).all()
    for user_id, closed_at in rows:
        claimed = db.session.execute(
            update(User).where(User.id == user_id, User.console_closed_at == closed_at)
            .values(console_closed_at=None).execution_options(synchronize_session=False)
        ).rowcount == 1
        if claimed:  # another process's sweeper did not get there first
            went_offline([user_id], closed_at)
    return [user_id for user_id, _ in rows]


# --- who can take a chat ------------------------------------------------------------------

def available_by_queue(queue_ids: list[int]) -> dict[int, int]:
    """Available agents with a free seat, per queue, in one grouped query."""
    if not queue_ids:
        return {}
    return {queue_id: int(count) for queue_id, count in db.session.execute(
        select(group_members.c.group_id, func.count(func.distinct(User.id)))
        .select_from(User)
        .join(group_members, group_members.c.person_id == User.person_id)
        .where(group_members.c.group_id.in_(queue_ids), *can_take_a_chat_now())
        .group_by(group_members.c.group_id))}


def available_in_queue(queue_id: int) -> list[dict]:
    """The agents of a queue who could take one more chat now (a hand-over's choices): id,
    name, live chats and capacity, the least busy first."""
    rows = db.session.execute(
        select(User, _active_chats())
        .join(group_members, group_members.c.person_id == User.person_id)
        .where(group_members.c.group_id == queue_id, *can_take_a_chat_now())).all()
    found = [{"id": user.id, "name": user.display_name, "active_chats": int(active),
              "max_chats": capacity(user)} for user, active in rows]
    found.sort(key=lambda row: (row["active_chats"], row["name"].lower()))
    return found


def _active_chats():
    # An agent's live chats counted by the (agent, status) index: never a scan of every live
    # chat of the desk.
    return (select(func.count(Chat.id)).where(Chat.agent_id == User.id,
                                              Chat.status == ChatStatus.ACTIVE)
            .correlate(User).scalar_subquery())


def can_take_a_chat_now(load=None) -> tuple:  # noqa: ANN001 - a SQL expression
    """Enabled, online, chosen available, and a free seat: the one definition of an
    available agent (conditions on User). `load` is what fills his seats: his live chats,
    or routing's live and offered ones."""
    if load is None:
        load = _active_chats()
    return (User.is_enabled.is_(True), User.status == AgentStatus.AVAILABLE.value,
            online_clause(User.id),
            load < func.coalesce(User.max_chats, int(setting("CHAT_MAX_PER_AGENT"))))


def agents_available(queue_id: int) -> int:
    return available_by_queue([queue_id]).get(queue_id, 0)


def seats(users: list[User]) -> dict[int, dict]:
    """Each agent's own line in queue_state: his status, since when and why, and his live
    chats out of his capacity."""
    ids = [user.id for user in users]
    if not ids:
        return {}
    held = dict(db.session.execute(
        select(Chat.agent_id, func.count(Chat.id))
        .where(Chat.agent_id.in_(ids), Chat.status == ChatStatus.ACTIVE)
        .group_by(Chat.agent_id)).all())
    present = set(db.session.scalars(
        select(AgentPresence.user_id).distinct().where(AgentPresence.user_id.in_(ids))))
    return {user.id: {
        "status": shown_status(user, user.id in present or user.console_closed_at is not None),
        "since": user.status_since,
        "reason": user.status_reason,
        "active_chats": int(held.get(user.id, 0)),
        "max_chats": capacity(user),
    } for user in users}


def agent_board() -> list[dict]:
    """Managers' live board: every agent of a chat queue (and every AGENT login), with his
    status, since when, live chats out of his capacity and his queues."""
    queue_names: dict[int, list[str]] = {}
    for person_id, name in db.session.execute(
            select(group_members.c.person_id, PersonGroup.name)
            .join(PersonGroup, PersonGroup.id == group_members.c.group_id)
            .where(PersonGroup.is_chat_queue.is_(True)).order_by(PersonGroup.name)):
        queue_names.setdefault(person_id, []).append(name)
    users = list(db.session.scalars(
        select(User).where(User.is_enabled.is_(True),
                           or_(User.role == Role.AGENT,
                               User.person_id.in_(list(queue_names) or [0])))))
    lines = seats(users)
    order = {AgentStatus.AVAILABLE.value: 0, AgentStatus.AWAY.value: 1,
             AgentStatus.OFFLINE.value: 2}
    board = [{"id": user.id, "username": user.username, "name": user.display_name,
              **lines[user.id], "queues": queue_names.get(user.person_id, [])}
             for user in users]
    board.sort(key=lambda row: (order[row["status"]], row["name"].lower()))
    return board

