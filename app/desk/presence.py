"""Presence: which server processes are alive, and whose sockets each of them holds.

Every server process is a node with a row in `server_node`, refreshed by its heartbeat
(`PRESENCE_HEARTBEAT` seconds). Agents' console connections have one row each
(`agent_presence`, by socket), and an end user's chat remembers the node holding his socket
(`chat.visitor_node`). A node whose heartbeat stops (killed, frozen, its machine gone) is
declared dead by whichever process notices first (`purge_dead_nodes`): its agents count
offline and its waiting end users count as gone since its last heartbeat, exactly as if
their sockets had closed then, so the usual abandon grace applies. A node that stops
cleanly does the same for itself at once (`node_stopped`).

The API is small on purpose: connect/disconnect of sockets, the heartbeat, the two ways a
node leaves, and a few reads. Changes are told with `events.PresenceChanged` (agents
online) and `events.ServerNodesGone`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update

from app.desk import availability, events, people
from app.desk.unit_of_work import use_case
from app.extensions import db
from app.models import AgentPresence, Chat, ChatStatus, ServerNode, User, group_members, utcnow

NODE_MAX = 64


# --- agents ------------------------------------------------------------------------------

@use_case
def agent_connected(sid: str, user: User, node: str) -> list[int]:
    """Record a console connection; returns the ids of the agent's chat queues."""
    now = utcnow()
    availability.console_opened(user)
    db.session.merge(AgentPresence(sid=sid[:64], user_id=user.id, node=node[:NODE_MAX],
                                   connected_at=now, last_seen_at=now))
    queue_ids = people.agent_queue_ids(user)
    events.record(events.PresenceChanged(tuple(queue_ids), (user.id,)))
    return queue_ids


@use_case
def agent_disconnected(sid: str) -> list[int]:
    """Forget a console connection; returns the chat queues of its agent (whose counts
    changed)."""
    row = db.session.get(AgentPresence, sid[:64])
    if row is None:
        return []
    user = db.session.get(User, row.user_id)
    db.session.delete(row)
    db.session.flush()
    if user is not None:
        availability.console_closed(user)
    queue_ids = people.agent_queue_ids(user) if user is not None else []
    events.record(events.PresenceChanged(tuple(queue_ids), (row.user_id,)))
    return queue_ids


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


# --- end users ---------------------------------------------------------------------------

@use_case
def visitor_connected(chat_id: int, node: str) -> None:
    """An end user's socket is on this node: he is here (whatever was noted before)."""
    db.session.execute(
        update(Chat).where(Chat.id == chat_id)
        .values(visitor_left_at=None, visitor_node=node[:NODE_MAX])
        .execution_options(synchronize_session=False))


@use_case
def visitor_left(chat_id: int, node: str | None = None) -> None:
    """The end user's last socket on `node` closed: the abandon grace starts, unless he is
    already connected to another node (a reconnect that came first)."""
    query = update(Chat).where(Chat.id == chat_id, Chat.visitor_left_at.is_(None))
    if node is not None:
        query = query.where((Chat.visitor_node == node[:NODE_MAX])
                            | Chat.visitor_node.is_(None))
    db.session.execute(query.values(visitor_left_at=utcnow())
                       .execution_options(synchronize_session=False))


@use_case
def visitors_still_here(chat_ids: list[int], node: str | None = None) -> int:
    """End users with a live socket on this node are here and held by it, whatever another
    process noted when one of their other tabs closed. Returns how many chats changed."""
    if not chat_ids:
        return 0
    query = update(Chat).where(Chat.id.in_(chat_ids))
    if node is None:
        query = query.where(Chat.visitor_left_at.is_not(None)).values(visitor_left_at=None)
    else:
        node = node[:NODE_MAX]
        query = query.where(Chat.visitor_left_at.is_not(None) | Chat.visitor_node.is_(None)
                            | (Chat.visitor_node != node)
                            ).values(visitor_left_at=None, visitor_node=node)
    return db.session.execute(query.execution_options(synchronize_session=False)).rowcount


@use_case
def visitors_gone_at_start() -> int:
    """A lone server process just started: nobody is connected, so every waiting end user
    counts as gone from now on (and is abandoned after the grace period unless he comes
    back). Only for a single process: with siblings, they may hold the sockets."""
    return _visitors_gone(Chat.visitor_left_at.is_(None), utcnow())


def _visitors_gone(condition, since: datetime) -> int:
    return db.session.execute(
        update(Chat).where(Chat.status == ChatStatus.WAITING, Chat.visitor_left_at.is_(None),
                           condition)
        .values(visitor_left_at=since).execution_options(synchronize_session=False)
    ).rowcount


# --- nodes -------------------------------------------------------------------------------

@use_case
def heartbeat(node: str) -> bool:
    """This process is alive: refresh its node row and its agents' rows.

    Returns False when its node row was missing: a new node, or one that others declared
    dead while it was frozen. The caller then registers its sockets again.
    """
    node = node[:NODE_MAX]
    now = utcnow()
    known = db.session.execute(
        update(ServerNode).where(ServerNode.node == node).values(last_seen_at=now)
        .execution_options(synchronize_session=False)).rowcount == 1
    if not known:
        db.session.add(ServerNode(node=node, started_at=now, last_seen_at=now))
    db.session.execute(
        update(AgentPresence).where(AgentPresence.node == node).values(last_seen_at=now)
        .execution_options(synchronize_session=False))
    return known


@use_case
def purge_dead_nodes(max_age_seconds: float) -> list[str]:
    """Let go of the nodes that stopped beating for `max_age_seconds`; returns them.

    Each dead node is claimed by one process (the one whose DELETE removes its row), so
    concurrent sweepers tell it once. Agent rows without a live node (older rows, or a node
    row already gone) go as well.
    """
    cutoff = utcnow() - timedelta(seconds=max_age_seconds)
    dead = db.session.execute(
        select(ServerNode.node, ServerNode.last_seen_at).where(ServerNode.last_seen_at < cutoff)
    ).all()
    gone: list[str] = []
    for node, last_seen in dead:
        claimed = db.session.execute(
            delete(ServerNode).where(ServerNode.node == node, ServerNode.last_seen_at < cutoff)
            .execution_options(synchronize_session=False)).rowcount == 1
        if claimed:
            gone.append(node)
            _visitors_gone(Chat.visitor_node == node, last_seen)
    stale_agents = AgentPresence.last_seen_at < cutoff
    _forget_agents(or_(AgentPresence.node.in_(gone), stale_agents) if gone else stale_agents)
    if gone:
        events.record(events.ServerNodesGone(tuple(gone), crashed=True))
    return gone


@use_case
def node_stopped(node: str) -> None:
    """A process stopping cleanly lets go of itself at once: its agents count offline, its
    waiting end users as gone from now (they reconnect to another process within seconds)."""
    node = node[:NODE_MAX]
    db.session.execute(delete(ServerNode).where(ServerNode.node == node)
                       .execution_options(synchronize_session=False))
    _visitors_gone(Chat.visitor_node == node, utcnow())
    _forget_agents(AgentPresence.node == node)
    events.record(events.ServerNodesGone((node,), crashed=False))


def _forget_agents(condition) -> None:
    user_ids = list(db.session.scalars(select(AgentPresence.user_id).distinct()
                                       .where(condition)))
    if not user_ids:
        return
    db.session.execute(delete(AgentPresence).where(condition)
                       .execution_options(synchronize_session=False))
    still = set(db.session.scalars(select(AgentPresence.user_id).distinct()
                                   .where(AgentPresence.user_id.in_(user_ids))))
    availability.went_offline([user_id for user_id in user_ids if user_id not in still],
                              utcnow())
    queue_ids = sorted({queue_id for user_id in user_ids
                        for queue_id in _queue_ids_of_user(user_id)})
    events.record(events.PresenceChanged(tuple(queue_ids), tuple(sorted(user_ids))))


def _queue_ids_of_user(user_id: int) -> list[int]:
    user = db.session.get(User, user_id)
    return people.agent_queue_ids(user) if user is not None else []
