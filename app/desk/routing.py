"""Auto routing: a queue set to `auto` offers each waiting chat to one agent at a time.

The agent is an available one with a free seat who was not asked about this chat yet: the
fewest chats (live ones and offers he holds), then the longest since his last chat. He has
CHAT_OFFER_TIMEOUT seconds to accept or decline; then (or when he declines, goes away or
offline) the offer moves on. When nobody is left, the chat stays in the queue where every
agent of it can pick it. An agent who lets CHAT_OFFER_MISSES_AWAY offers expire in a row is
set away, and told why.

Race-free across processes: the chat's row says who holds its offer (`offered_to_id`), and
every change of it is a conditional UPDATE (offered to nobody → to him; to him and expired →
to nobody), so an offer goes to one agent at a time and ends once. Moving an offer on is one
transaction (end it, make the next), and the sweeper (every ROUTING_SWEEP_INTERVAL, in every
process) offers any waiting chat that holds no offer, so no chat is lost between two offers
even when a process dies in the middle.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, func, select, update

from app.desk import availability, events
from app.desk.errors import Conflict, NotFound
from app.desk.settings import setting
from app.desk.unit_of_work import use_case
from app.desk.validation import clean_id
from app.extensions import db
from app.models import (
    AgentStatus,
    Chat,
    ChatOffer,
    ChatStatus,
    OfferOutcome,
    PersonGroup,
    Routing,
    User,
    group_members,
    utcnow,
)

ROUTING_KINDS = tuple(kind.value for kind in Routing)
# Waiting chats looked at per queue and sweep (the oldest first).
SWEEP_BATCH = 50


def offer_timeout() -> int:
    return int(setting("CHAT_OFFER_TIMEOUT"))


# --- making an offer -----------------------------------------------------------------------

def next_agent(chat: Chat) -> User | None:
    """Whom the chat goes to next: available, online, a free seat, not asked yet; fewest
    chats (live and offered), then longest since his last chat."""
    active = (select(Chat.agent_id.label("user_id"), func.count(Chat.id).label("n"))
              .where(Chat.status == ChatStatus.ACTIVE).group_by(Chat.agent_id).subquery())
    offered = (select(Chat.offered_to_id.label("user_id"), func.count(Chat.id).label("n"))
               .where(Chat.status == ChatStatus.WAITING, Chat.offered_to_id.is_not(None))
               .group_by(Chat.offered_to_id).subquery())
    asked = select(ChatOffer.user_id).where(ChatOffer.chat_id == chat.id)
    load = func.coalesce(active.c.n, 0) + func.coalesce(offered.c.n, 0)
    return db.session.scalars(
        select(User)
        .join(group_members, group_members.c.person_id == User.person_id)
        .outerjoin(active, active.c.user_id == User.id)
        .outerjoin(offered, offered.c.user_id == User.id)
        .where(group_members.c.group_id == chat.queue_id, User.id.not_in(asked),
               *availability.can_take_a_chat_now(load))
        .order_by(load, User.last_chat_at.is_not(None), User.last_chat_at, User.id)
        .limit(1)).first()


def offer_next(chat: Chat) -> int | None:
    """Offer a waiting chat of an auto-routed queue that holds no offer to the next agent;
    returns his id (None: not auto, not waiting, already offered, or nobody left)."""
    if chat.queue.routing != Routing.AUTO.value:
        return None
    agent = next_agent(chat)
    if agent is None:
        return None
    now = utcnow()
    timeout = offer_timeout()
    won = db.session.execute(
        update(Chat).where(Chat.id == chat.id, Chat.status == ChatStatus.WAITING,
                           Chat.offered_to_id.is_(None))
        .values(offered_to_id=agent.id, offer_expires_at=now + timedelta(seconds=timeout))
        .execution_options(synchronize_session=False)).rowcount == 1
    if not won:  # another process offered it a moment ago
        return None
    db.session.add(ChatOffer(chat_id=chat.id, user_id=agent.id, offered_at=now))
    db.session.flush()
    events.record(events.ChatOffered(chat.id, chat.queue_id, agent.id, timeout))
    return agent.id


@use_case
def offer_waiting(queue_ids: list[int] | None = None) -> list[int]:
    """Offer the waiting chats that hold no offer (oldest first) in these auto-routed
    queues (None: all of them); returns the chats offered."""
    query = (select(Chat).join(PersonGroup, PersonGroup.id == Chat.queue_id)
             .where(Chat.status == ChatStatus.WAITING, Chat.offered_to_id.is_(None),
                    PersonGroup.routing == Routing.AUTO.value)
             .order_by(Chat.requested_at, Chat.id).limit(SWEEP_BATCH))
    if queue_ids is not None:
        if not queue_ids:
            return []
        query = query.where(Chat.queue_id.in_(queue_ids))
    return [chat.id for chat in db.session.scalars(query).all() if offer_next(chat)]


# --- ending an offer -----------------------------------------------------------------------

def _end_offer(chat_id: int, user_id: int, outcome: OfferOutcome, *conditions) -> bool:
    """Take the chat's offer back from this agent (if he still holds it); True if this call
    ended it. The caller moves it on."""
    ended = db.session.execute(
        update(Chat).where(Chat.id == chat_id, Chat.offered_to_id == user_id, *conditions)
        .values(offered_to_id=None, offer_expires_at=None)
        .execution_options(synchronize_session=False)).rowcount == 1
    if ended:
        _close_offer_rows(chat_id, outcome, user_id)
        events.record(events.OfferEnded(chat_id, user_id, outcome.value))
    return ended


def _close_offer_rows(chat_id: int, outcome: OfferOutcome, user_id: int | None = None) -> None:
    query = update(ChatOffer).where(ChatOffer.chat_id == chat_id,
                                    ChatOffer.outcome == OfferOutcome.OFFERED.value)
    if user_id is not None:
        query = query.where(ChatOffer.user_id == user_id)
    db.session.execute(query.values(outcome=outcome.value, ended_at=utcnow())
                       .execution_options(synchronize_session=False))


def offer_accepted(chat_id: int, agent: User) -> None:
    """Inside accept: the agent's offer of this chat (if any) ends as accepted."""
    _close_offer_rows(chat_id, OfferOutcome.ACCEPTED, agent.id)
    if agent.offers_missed:
        agent.offers_missed = 0


def chat_left_queue(chat_id: int) -> None:
    """Inside close/abandon/transfer: an offer of the chat ends with it (the columns are
    cleared by the caller's UPDATE; the agent's console drops the offer on chat_left)."""
    _close_offer_rows(chat_id, OfferOutcome.WITHDRAWN)


def acceptance_refusal(chat_id: int, agent: User) -> Conflict | None:
    """Why this agent may not accept a waiting chat now (None: he may): it is offered to
    someone else, or his own offer expired."""
    chat = db.session.get(Chat, chat_id, populate_existing=True)
    if chat is None or chat.status != ChatStatus.WAITING or chat.offered_to_id is None:
        return None
    was_asked = db.session.scalar(select(func.count()).select_from(ChatOffer).where(
        ChatOffer.chat_id == chat_id, ChatOffer.user_id == agent.id))
    if chat.offered_to_id == agent.id or was_asked:
        return Conflict("offer_expired", "Your offer of this chat has expired; it moved on "
                        "to another agent.", "chat_id")
    return Conflict("offered_to_other", "This chat is being offered to another agent right "
                    "now.", "chat_id")


def can_accept_condition(agent: User, now):
    """SQL for accept's conditional UPDATE: nobody holds the offer, or he does, in time."""
    return (Chat.offered_to_id.is_(None)) | and_(Chat.offered_to_id == agent.id,
                                                 Chat.offer_expires_at > now)


@use_case
def decline_offer(chat_id: object, agent: User) -> None:
    """The agent says no: the offer moves on at once."""
    key = clean_id(chat_id, "chat_id")
    chat = db.session.get(Chat, key)
    if chat is None:
        raise NotFound("unknown_chat", "No such chat.", "chat_id")
    if not _end_offer(key, agent.id, OfferOutcome.DECLINED,
                      Chat.status == ChatStatus.WAITING):
        raise Conflict("not_offered", "This chat is not offered to you (any more).", "chat_id")
    user = db.session.get(User, agent.id)
    user.offers_missed = 0
    db.session.refresh(chat)
    offer_next(chat)


@use_case
def withdraw_offers(user_id: int) -> list[int]:
    """The agent went away or offline: each offer he holds moves on."""
    chats = list(db.session.scalars(select(Chat).where(
        Chat.offered_to_id == user_id, Chat.status == ChatStatus.WAITING)))
    moved = []
    for chat in chats:
        if _end_offer(chat.id, user_id, OfferOutcome.WITHDRAWN):
            db.session.refresh(chat)
            offer_next(chat)
            moved.append(chat.id)
    return moved


def expire_offers() -> list[int]:
    """Sweeper: offers past their time move on; their agents' misses are counted."""
    now = utcnow()
    due = db.session.execute(select(Chat.id, Chat.offered_to_id).where(
        Chat.offered_to_id.is_not(None), Chat.offer_expires_at <= now,
        Chat.status == ChatStatus.WAITING).order_by(Chat.offer_expires_at)).all()
    db.session.rollback()  # end the read: each offer moves on in a transaction of its own
    expired = []
    with events.batched():
        for chat_id, user_id in due:
            if _expire(chat_id, user_id):
                expired.append(chat_id)
    return expired


@use_case
def _expire(chat_id: int, user_id: int) -> bool:
    if not _end_offer(chat_id, user_id, OfferOutcome.EXPIRED,
                      Chat.offer_expires_at <= utcnow(), Chat.status == ChatStatus.WAITING):
        return False  # answered, or expired by another process, a moment ago
    agent = db.session.get(User, user_id, populate_existing=True)
    agent.offers_missed = (agent.offers_missed or 0) + 1
    limit = int(setting("CHAT_OFFER_MISSES_AWAY"))
    if limit and agent.offers_missed >= limit and agent.status == AgentStatus.AVAILABLE.value:
        availability.set_status(agent, AgentStatus.AWAY.value,
                                reason=f"Set away: {agent.offers_missed} chat offers in a "
                                "row went unanswered.")
    offer_next(db.session.get(Chat, chat_id, populate_existing=True))
    return True


def sweep() -> None:
    """One pass of the offer sweeper: expired offers move on, unoffered chats are offered."""
    expire_offers()
    with events.batched():
        offer_waiting()


# --- the queue's setting -------------------------------------------------------------------

def clean_routing(value: object) -> str:
    from app.desk.errors import ValidationError

    if not isinstance(value, str) or value not in ROUTING_KINDS:
        raise ValidationError("invalid", "routing must be \"manual\" or \"auto\".", "routing")
    return value
