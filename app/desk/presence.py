"""Agent presence: one row per live console connection, shared by every server process.

Each server process has a node id; it refreshes the rows of its own sockets on a heartbeat,
and any process removes the rows of a node that stopped beating (crashed or killed), so that
"agents online" stays right across processes.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update

from app.desk import people
from app.desk.unit_of_work import use_case
from app.extensions import db
from app.models import AgentPresence, Chat, ChatStatus, User, group_members, utcnow


@use_case
def agent_connected(sid: str, user: User, node: str) -> list[int]:
    """Record a console connection; returns the ids of the agent's chat queues."""
    now = utcnow()
    db.session.merge(AgentPresence(sid=sid[:64], user_id=user.id, node=node[:64],
                                   connected_at=now, last_seen_at=now))
    return people.agent_queue_ids(user)


@use_case
def agent_disconnected(sid: str) -> list[int]:
    """Forget a console connection; returns the chat queues of its agent (to refresh counts)."""
    row = db.session.get(AgentPresence, sid[:64])
    if row is None:
        return []
    user = db.session.get(User, row.user_id)
    db.session.delete(row)
    return people.agent_queue_ids(user) if user is not None else []


@use_case
def heartbeat(node: str) -> int:
    """This process is alive: refresh its rows. Returns how many it holds."""
    count = db.session.execute(
        update(AgentPresence).where(AgentPresence.node == node[:64])
        .values(last_seen_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    return count


@use_case
def purge_stale(max_age_seconds: float) -> list[int]:
    """Drop rows of nodes that stopped beating; returns the chat queues whose counts changed."""
    cutoff = utcnow() - timedelta(seconds=max_age_seconds)
    user_ids = list(db.session.scalars(
        select(AgentPresence.user_id).distinct().where(AgentPresence.last_seen_at < cutoff)))
    if not user_ids:
        return []
    db.session.execute(delete(AgentPresence).where(AgentPresence.last_seen_at < cutoff)
                       .execution_options(synchronize_session=False))
    return sorted({queue_id for user_id in user_ids
                   for queue_id in _queue_ids_of_user(user_id)})


@use_case
def forget_node(node: str) -> None:
    """A process shutting down cleanly removes its own rows."""
    db.session.execute(delete(AgentPresence).where(AgentPresence.node == node[:64])
                       .execution_options(synchronize_session=False))


def online_agents(queue_id: int) -> list[User]:
    """Agents of the queue with at least one live console connection (on any process)."""
    return list(db.session.scalars(
        select(User).where(User.id.in_(
            select(AgentPresence.user_id)
            .join(User, User.id == AgentPresence.user_id)
            .join(group_members, group_members.c.person_id == User.person_id)
            .where(group_members.c.group_id == queue_id)
        )).order_by(User.id)
    ))


def agent_sids(user_id: int) -> list[str]:
    """The /queue sockets of one agent, on every process (to drop or move them)."""
    return list(db.session.scalars(
        select(AgentPresence.sid).where(AgentPresence.user_id == user_id)
        .order_by(AgentPresence.sid)))


def _queue_ids_of_user(user_id: int) -> list[int]:
    user = db.session.get(User, user_id)
    return people.agent_queue_ids(user) if user is not None else []


# --- end users ---------------------------------------------------------------------------

@use_case
def visitors_still_here(chat_ids: list[int]) -> int:
    """End users with a live socket on this process are not gone, whatever another process
    noted when one of their other tabs closed. Returns how many chats were corrected."""
    if not chat_ids:
        return 0
    count = db.session.execute(
        update(Chat).where(Chat.id.in_(chat_ids), Chat.visitor_left_at.is_not(None))
        .values(visitor_left_at=None).execution_options(synchronize_session=False)
    ).rowcount
    return count


@use_case
def visitors_gone_at_start() -> int:
    """A lone server process just started: nobody is connected, so every waiting end user
    counts as gone from now on (and is abandoned after the grace period unless he comes
    back). Only for a single process: with siblings, they may hold the sockets."""
    count = db.session.execute(
        update(Chat).where(Chat.status == ChatStatus.WAITING, Chat.visitor_left_at.is_(None))
        .values(visitor_left_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    return count
