"""Chat rules: request, queue, accept, messages, close, abandon, transfer, idle time-out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app import wire
from app.desk import (
    attachments,
    availability,
    chat_context,
    events,
    identity,
    people,
    report_rollup,
    requests,
    routing,
)
from app.desk.errors import Conflict, DeskError, Forbidden, NotFound, ValidationError
from app.desk.settings import setting
from app.desk.tokens import new_visitor_key
from app.desk.unit_of_work import (
    in_transaction,
    single_statement,
    statements,
    transaction,
    use_case,
)
from app.desk.validation import clean_id, clean_rank, clean_text
from app.extensions import db
from app.integration.events import MESSAGE_CREATED
from app.mail import compose as mail
from app.models import (
    AgentPresence,
    Chat,
    ChatMessage,
    ChatStatus,
    PersonGroup,
    SenderRole,
    ServiceRequest,
    SRSource,
    User,
    utcnow,
)

OPEN_STATES = (ChatStatus.WAITING, ChatStatus.ACTIVE)
CLIENT_ID_MAX = 64
GREETING = "greeting-"  # the client id prefix of the queue's automatic greeting


@dataclass
class ChatRequested:
    chat: Chat
    sr: ServiceRequest
    position: int
    agents_online: int
    agents_available: int


def get_chat(chat_id: object, *, with_visitor: bool = False) -> Chat:
    """The chat by id; `with_visitor` loads its end user in the same SELECT (a join)."""
    options = [joinedload(Chat.visitor)] if with_visitor else None
    chat = db.session.get(Chat, clean_id(chat_id, "chat_id"), options=options)
    if chat is None:
        raise NotFound("unknown_chat", "No such chat.", "chat_id")
    return chat


# --- request and queue -------------------------------------------------------------------

@use_case
def request_chat(*, name: object, email: object, phone: object = None, queue: object,
                 question: object, context: object = None, user_agent: str | None = None,
                 identity_hash: object = None, sr_number: object = None) -> ChatRequested:
    """An end user asks for a chat: open the SR (QUEUED to the queue's group) and queue the
    chat; `context` (page, referrer, language, time zone) and the user agent go beside it.

    With a valid `identity_hash` the chat is verified (see `identity`), and with `sr_number`
    of one of that person's open SRs it is about that SR instead of a new one. A wrong hash,
    or an SR number without one, is `not_verified`.
    """
    verified = identity_hash is not None
    if verified:
        identity.verified_address(email, identity_hash)
    elif sr_number is not None:
        raise identity.not_verified()
    where = chat_context.clean(context)
    group = people.get_queue(queue)
    text = clean_text(question, "question", max_length=setting("CHAT_MESSAGE_MAX_LENGTH"))
    person = people.end_user(name, email, phone, verified=verified)
    if sr_number is not None:
        sr = identity.open_request_of(person, sr_number)
    else:
        summary = text.splitlines()[0]
        summary = summary if len(summary) <= 100 else summary[:99] + "…"
        sr = requests.open_service_request(summary=summary, details=text, reported_by=person,
                                           owner_group=group, source=SRSource.CHAT)
    now = utcnow()
    chat = Chat(service_request=sr, queue=group, visitor=person, question=text,
                visitor_key=new_visitor_key(), requested_at=now, last_activity_at=now,
                verified=verified, last_seq=1)
    db.session.add(chat)
    db.session.flush()
    chat_context.record(chat, where, user_agent)
    db.session.add(ChatMessage(chat=chat, sender_role=SenderRole.VISITOR,
                               sender_name=person.display_name, body=text,
                               client_id="question", seq=1, sent_at=now))
    db.session.flush()
    report_rollup.touch(chat.id)
    events.record(events.ChatWaiting(chat.id, group.id))
    routing.offer_next(chat)
    return ChatRequested(chat=chat, sr=sr, position=queue_position(chat),
                         agents_online=agents_online(group.id),
                         agents_available=availability.agents_available(group.id))


def queue_position(chat: Chat) -> int:
    """1-based place in its queue while waiting; 0 once it is not waiting."""
    if chat.status != ChatStatus.WAITING:
        return 0
    ahead = db.session.scalar(
        select(func.count(Chat.id)).where(
            Chat.status == ChatStatus.WAITING, Chat.queue_id == chat.queue_id,
            (Chat.requested_at < chat.requested_at)
            | (and_(Chat.requested_at == chat.requested_at, Chat.id < chat.id)),
        )
    )
    return int(ahead or 0) + 1


def waiting_positions(queue_id: int) -> list[tuple[int, int]]:
    """(chat id, position) for every chat waiting in a queue, first in line first."""
    ids = db.session.scalars(
        select(Chat.id).where(Chat.status == ChatStatus.WAITING, Chat.queue_id == queue_id)
        .order_by(Chat.requested_at, Chat.id)
    )
    return [(chat_id, index) for index, chat_id in enumerate(ids, start=1)]


def agents_online(queue_id: int) -> int:
    """Distinct agents of the queue with at least one live console connection."""
    from app.models import group_members

    return int(db.session.scalar(
        select(func.count(func.distinct(AgentPresence.user_id)))
        .join(User, User.id == AgentPresence.user_id)
        .join(group_members, group_members.c.person_id == User.person_id)
        .where(group_members.c.group_id == queue_id)
    ) or 0)


def queue_state(user: User) -> dict:
    """What an agent's indicator shows: waiting per queue of his, total, oldest wait, online."""
    return queue_states([user])[user.id]


def queue_states(users: list[User]) -> dict[int, dict]:
    """queue_state for several agents at once, keyed by user id.

    Three indexed, grouped queries whatever the number of agents and queues (memberships,
    waiting counts, agents online), so telling every agent of a queue about a change costs
    the same for 3 agents as for 300.
    """
    from app.models import group_members

    person_ids = {user.person_id for user in users}
    memberships = db.session.execute(
        select(group_members.c.person_id, PersonGroup.id, PersonGroup.name, PersonGroup.routing)
        .join(PersonGroup, PersonGroup.id == group_members.c.group_id)
        .where(group_members.c.person_id.in_(person_ids), PersonGroup.is_chat_queue.is_(True))
        .order_by(PersonGroup.name, PersonGroup.id)
    ).all() if person_ids else []
    queue_ids = sorted({group_id for _, group_id, _, _ in memberships})
    waiting, online, available = {}, {}, {}
    if queue_ids:
        waiting = {
            queue_id: (count, oldest)
            for queue_id, count, oldest in db.session.execute(
                select(Chat.queue_id, func.count(Chat.id), func.min(Chat.requested_at))
                .where(Chat.status == ChatStatus.WAITING, Chat.queue_id.in_(queue_ids))
                .group_by(Chat.queue_id)
            )
        }
        online = _agents_online_by_queue(queue_ids)
        available = availability.available_by_queue(queue_ids)
    seats = availability.seats(users)
    now = utcnow()
    groups_of: dict[int, list[tuple[int, str, str]]] = {}
    for person_id, group_id, name, kind in memberships:
        groups_of.setdefault(person_id, []).append((group_id, name, kind))
    states = {}
    for user in users:
        queues, oldest_all = [], None
        for group_id, name, kind in groups_of.get(user.person_id, []):
            count, oldest = waiting.get(group_id, (0, None))
            if oldest is not None and (oldest_all is None or oldest < oldest_all):
                oldest_all = oldest
            queues.append({
                "id": group_id, "name": name, "waiting": int(count),
                "oldest_wait_seconds": _seconds_since(oldest, now),
                "agents_online": online.get(group_id, 0),
                "agents_available": available.get(group_id, 0),
                "routing": kind,
            })
        states[user.id] = {
            "queues": queues,
            "total": sum(q["waiting"] for q in queues),
            "oldest_wait_seconds": _seconds_since(oldest_all, now),
            "agent": wire.agent_seat(seats[user.id]),
        }
    return states


def _agents_online_by_queue(queue_ids: list[int]) -> dict[int, int]:
    """agents_online for several queues in one grouped query."""
    from app.models import group_members

    return {
        queue_id: int(count)
        for queue_id, count in db.session.execute(
            select(group_members.c.group_id, func.count(func.distinct(AgentPresence.user_id)))
            .select_from(AgentPresence)
            .join(User, User.id == AgentPresence.user_id)
            .join(group_members, group_members.c.person_id == User.person_id)
            .where(group_members.c.group_id.in_(queue_ids))
            .group_by(group_members.c.group_id)
        )
    }


def _seconds_since(moment: datetime | None, now: datetime) -> int | None:
    if moment is None:
        return None
    return max(0, int((now - moment).total_seconds()))


def waiting_chats(user: User) -> list[Chat]:
    """The chats waiting in all the agent's queues, oldest first."""
    queue_ids = people.agent_queue_ids(user)
    if not queue_ids:
        return []
    return list(db.session.scalars(
        select(Chat).where(Chat.status == ChatStatus.WAITING, Chat.queue_id.in_(queue_ids))
        .options(*_WITH_SUMMARY).order_by(Chat.requested_at, Chat.id)
    ))


def latest_seqs(chat_ids: list[int], agent_ids: list[int]) -> dict[int, tuple[int, int | None]]:
    """{chat id: (seq of its latest message, its agent)} of these chats and of the live chats
    of these agents, in one indexed query."""
    conditions = []
    if chat_ids:
        conditions.append(Chat.id.in_(chat_ids))
    if agent_ids:
        conditions.append(and_(Chat.agent_id.in_(agent_ids), Chat.status == ChatStatus.ACTIVE))
    if not conditions:
        return {}
    return {chat_id: (last_seq, agent_id) for chat_id, last_seq, agent_id in db.session.execute(
        select(Chat.id, Chat.last_seq, Chat.agent_id).where(or_(*conditions)))}


def active_chats(user: User) -> list[Chat]:
    return list(db.session.scalars(
        select(Chat).where(Chat.agent_id == user.id, Chat.status == ChatStatus.ACTIVE)
        .options(*_WITH_SUMMARY).order_by(Chat.accepted_at, Chat.id)
    ))


# A chat with what its summary shows (queue, SR, end user, agent) in the same SELECT: lists
# of 200 chats cost one statement, not four per chat.
_WITH_SUMMARY = (joinedload(Chat.queue), joinedload(Chat.service_request),
                 joinedload(Chat.visitor), joinedload(Chat.agent))


# --- accept ------------------------------------------------------------------------------

@use_case
def accept_chat(chat_id: object, agent: User) -> Chat:
    """Exactly one of several concurrent acceptors wins (a conditional update), within his
    capacity (`at_capacity`), and in an auto-routed queue only the agent holding the offer
    (or anyone once nobody holds it)."""
    chat_key = clean_id(chat_id, "chat_id")
    row = db.session.execute(
        select(Chat.queue_id, Chat.status).where(Chat.id == chat_key)
    ).first()
    if row is None:
        raise NotFound("unknown_chat", "No such chat.", "chat_id")
    queue_id, status = row
    # Managers supervise every queue: they may take any queue's chat.
    if not agent.is_manager and not people.is_queue_member(agent, queue_id):
        raise Forbidden("not_your_queue", "You are not an agent of this chat's queue.",
                        "chat_id")
    if status == ChatStatus.WAITING:
        availability.claim_seat(agent)
    now = utcnow()
    won = db.session.execute(
        update(Chat)
        .where(Chat.id == chat_key, Chat.status == ChatStatus.WAITING,
               routing.can_accept_condition(agent, now))
        .values(status=ChatStatus.ACTIVE, agent_id=agent.id, accepted_at=now,
                last_activity_at=now, offered_to_id=None, offer_expires_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not won:
        current = db.session.get(Chat, chat_key, populate_existing=True)
        if current is not None and current.status == ChatStatus.ACTIVE:
            raise Conflict("taken", "Another agent has already accepted this chat.", "chat_id")
        raise routing.acceptance_refusal(chat_key, agent) or Conflict(
            "not_waiting", "This chat is no longer waiting.", "chat_id")
    report_rollup.touch(chat_key)
    routing.offer_accepted(chat_key, agent)
    chat = db.session.get(Chat, chat_key)
    db.session.refresh(chat)
    sr = chat.service_request
    sr.owner_id = agent.person_id
    sr.changed_by = agent
    greeting = _greeting(chat.queue, agent)
    greeting_message = None
    if greeting:
        greeting_message = ChatMessage(
            chat=chat, sender_role=SenderRole.AGENT, sender_name=agent.display_name,
            user_id=agent.id, body=greeting, sent_at=now, seq=take_seqs(chat.id, 1),
            client_id=f"{GREETING}{agent.id}-{int(now.timestamp() * 1000)}")
        db.session.add(greeting_message)
        db.session.flush()
    events.record(
        events.ChatAccepted(chat.id, queue_id, agent.id, agent.display_name),
        events.ServiceRequestChanged(sr.id, sr.number),
        _seat_changed(agent),
    )
    if greeting_message is not None:
        events.record(events.MessagePosted(chat.id, wire.message_of(greeting_message),
                                           agent.id))
    return chat


def _seat_changed(agent: User) -> events.PresenceChanged:
    """The agent took or freed a seat: his queues' available agents and his own count."""
    return events.PresenceChanged(tuple(people.agent_queue_ids(agent)), (agent.id,))


def _greeting(queue: PersonGroup, agent: User) -> str | None:
    text = (queue.greeting or "").strip()
    if not text:
        return None
    return text.replace("{agent}", agent.display_name).replace("{queue}", queue.name)


# --- messages ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Sender:
    """Who posts: a visitor (by the chat their token opened) or an agent."""

    role: SenderRole
    name: str
    user_id: int | None = None

    @classmethod
    def agent(cls, user: User) -> Sender:
        return cls(SenderRole.AGENT, user.display_name, user.id)

    @classmethod
    def visitor(cls, chat: Chat) -> Sender:
        return cls(SenderRole.VISITOR, chat.visitor.display_name, None)


@dataclass(frozen=True)
class Draft:
    """A message someone asks to post (unchecked, as received)."""

    chat_id: object
    sender: Sender
    body: object
    client_id: object
    attachment_ids: object = None  # public ids of files uploaded to the chat, not yet sent


def post_message(chat_id: object, sender: Sender, body: object, client_id: object
                 ) -> tuple[dict, bool]:
    """Store a message once per client id; returns (message, created)."""
    outcome = post_messages([Draft(chat_id, sender, body, client_id)])[0]
    if isinstance(outcome, DeskError):
        raise outcome
    return outcome


def post_messages(drafts: list[Draft]) -> list[tuple[dict, bool] | DeskError]:
    """Store several messages in one transaction (a group commit); one outcome per draft.

    An outcome is (message, created) or the DeskError that refused the draft. A chat takes
    messages while it is open; an agent writes only in his own live chat. One conditional
    UPDATE per kind of sender checks that while stamping the chats' activity (and tells each
    chat's agent, which the publisher needs to route the message), one INSERT stores them all,
    one COMMIT. A repeated client id returns the stored message instead of a second one.

    On PostgreSQL, drafts without files are stamped and stored by ONE statement (the UPDATE
    and the INSERT as data-modifying parts of one query) that commits by itself: one round
    trip per batch (`unit_of_work.single_statement`). Where a webhook takes new messages,
    their deliveries must be written in the same transaction: the statement then stores
    nothing, and the batch is stored in a transaction with them. A batch without files runs
    on a connection, without the ORM session (`unit_of_work.statements`).
    """
    if in_transaction():  # it owns its transactions: a retry sorts duplicates out one by one
        raise RuntimeError("post_messages runs as a use case of its own")
    outcomes: list = [None] * len(drafts)
    valid: list[tuple[int, int, Sender, str, str]] = []
    files: dict[int, tuple[str, ...]] = {}  # draft index -> attachment ids
    limit = setting("CHAT_MESSAGE_MAX_LENGTH")  # once per batch
    for index, draft in enumerate(drafts):
        try:
            names = attachments.clean_ids(draft.attachment_ids)
            valid.append((index, *_clean_draft(draft, with_files=bool(names), limit=limit)))
        except DeskError as exc:
            outcomes[index] = exc
            continue
        if names:
            files[index] = names
    if not valid:
        return outcomes
    try:
        if files:
            with transaction():
                done = _store(db.session.connection(), valid, files)
        else:
            done = _store_alone(valid) if _one_statement() else None
            if done is None:
                with statements() as connection:
                    done = _store(connection, valid, files)
        stored, refused, file_refusals = done
    except (IntegrityError, attachments.AlreadySent) as exc:
        # A client id seen before (a client's retry), or a file another message took a
        # moment ago: sort the drafts out one by one.
        if len(valid) > 1:
            return [outcome if outcome is not None else post_messages([drafts[index]])[0]
                    for index, outcome in enumerate(outcomes)]
        _, chat, _, _, client_id = valid[0]
        existing = _message_by_client_id(chat, client_id)
        if existing is None:
            if isinstance(exc, attachments.AlreadySent):
                db.session.rollback()
                return [Conflict("attachment_sent", "A file of this message was sent "
                                 "already.", "attachment_ids")]
            raise
        db.session.rollback()
        return [(_message_with_files(existing), False)]
    if refused:
        for index, chat, sender, _, client_id in refused:
            existing = _message_by_client_id(chat, client_id)
            if existing is not None:
                outcomes[index] = (_message_with_files(existing), False)
            else:
                outcomes[index] = file_refusals.get(index) or _refusal(chat, sender)
        db.session.rollback()  # end the read of refusals; nothing is pending
    for index, message in stored:
        outcomes[index] = (message, True)
    return outcomes


def _one_statement() -> bool:
    """Whether a batch of messages can be stored by one statement (PostgreSQL's data-modifying
    WITH)."""
    return db.engine.dialect.name == "postgresql"


def _store_alone(valid: list) -> tuple[list[tuple[int, dict]], list, dict] | None:
    """`_store` for drafts without files on PostgreSQL, as one statement that commits by
    itself; None (nothing stored) when a webhook takes new messages."""
    now = utcnow()
    with single_statement() as connection:
        rows = connection.execute(_STORE_AT_ONCE, {**_draft_columns(valid), "now": now,
                                                   "alone": True,
                                                   "hook_event": MESSAGE_CREATED}).all()
        if rows[0].webhooks:
            return None
        return (*_stored(valid, rows, now), {})


def _store(connection, valid: list, files: dict[int, tuple[str, ...]]
           ) -> tuple[list[tuple[int, dict]], list, dict[int, DeskError]]:
    """Stamp the chats and insert the messages they take, in the caller's transaction on
    `connection`; returns [(draft index, stored message)], the refused drafts, and why those
    that name files they may not send were refused."""
    now = utcnow()
    if connection.dialect.name == "postgresql" and not files:
        return (*_store_in_one_statement(connection, valid, now), {})
    # Files are checked first: a draft naming a file it may not send takes no seq.
    file_refusals = attachments.unusable(connection, {
        index: (chat, sender.role, sender.user_id, files[index])
        for index, chat, sender, _, _ in valid if index in files}) if files else {}
    # The drafts' chats, locked until the commit (FOR UPDATE; SQLite has one writer), so
    # nothing changes between this check and the messages: open for the end user, live and
    # his for an agent.
    state = {row.id: row for row in connection.execute(
        _CHAT_STATES, {"keys": sorted({item[1] for item in valid})})}

    def takes(chat: int, sender: Sender) -> bool:
        row = state.get(chat)
        if row is None:
            return False
        if sender.role == SenderRole.AGENT:
            return row.status == ChatStatus.ACTIVE and row.agent_id == sender.user_id
        return row.status in OPEN_STATES

    accepted, refused = [], []
    for item in valid:
        (accepted if takes(item[1], item[2]) and item[0] not in file_refusals else refused
         ).append(item)
    # A draft its chat refuses anyway is told why by its chat (_refusal), not by its files.
    file_refusals = {item[0]: file_refusals[item[0]] for item in valid
                     if item[0] in file_refusals and takes(item[1], item[2])}
    following = {chat: row.last_seq for chat, row in state.items()}
    seqs = []
    for _, chat, _, _, _ in accepted:
        following[chat] += 1
        seqs.append(following[chat])
    # Each chat that takes messages: its activity stamped and its seq counter moved on, by
    # one statement built once (an executemany: no SQL compiled per batch).
    taken = sorted({chat for _, chat, _, _, _ in accepted})
    if taken:
        connection.execute(_TAKE_SEQS, [{"key": chat, "last": following[chat], "now": now}
                                        for chat in taken])
    rows = [{"chat_id": chat, "sender_role": sender.role, "sender_name": sender.name,
             "user_id": sender.user_id, "body": text, "client_id": client_id, "sent_at": now,
             "seq": seq}
            for (_, chat, sender, text, client_id), seq in zip(accepted, seqs, strict=True)]
    ids = _insert_messages(connection, rows) if rows else []
    if files:
        attachments.link_to_messages(connection, {
            new_id: files[item[0]] for item, new_id in zip(accepted, ids, strict=True)
            if item[0] in files})
    stored = []
    for (index, chat, sender, text, client_id), new_id, seq in zip(accepted, ids, seqs,
                                                                   strict=True):
        carried = attachments.by_public_ids(files[index]) if index in files else ()
        payload = wire.message(new_id, chat, sender.role, sender.name, text, now, client_id,
                               seq, attachments=carried)
        stored.append((index, payload))
        agent_id = state[chat].agent_id
        events.record(events.MessagePosted(chat, payload, agent_id))
    return stored, refused, file_refusals


def _store_in_one_statement(connection, valid: list, now: datetime
                            ) -> tuple[list[tuple[int, dict]], list]:
    """`_store` for drafts without files on PostgreSQL, as one statement (_STORE_AT_ONCE) in
    the caller's transaction.

    The same rules as the two-statement way: a chat is stamped when a visitor's draft finds
    it open or an agent's draft finds it his and live; a draft is stored when its chat was
    stamped for it. The chats' rows stay locked until the statement ends, so a chat cannot
    close between its check and its messages.
    """
    rows = connection.execute(_STORE_AT_ONCE, {**_draft_columns(valid), "now": now,
                                               "alone": False, "hook_event": ""}).all()
    return _stored(valid, rows, now)


def _draft_columns(valid: list) -> dict[str, str]:
    """The drafts as the statement's one parameter: a JSON array of [n, chat, role, name,
    user, body, client id]. One text parameter whatever the batch holds: the driver dumps
    it in C, and its types never change, so the statement stays prepared (arrays of
    integers change type with their values)."""
    return {"drafts": json.dumps(
        [[n, chat, sender.role.value, sender.name, sender.user_id, text, client_id]
         for n, (_, chat, sender, text, client_id) in enumerate(valid)],
        ensure_ascii=False, separators=(",", ":"))}


def _stored(valid: list, rows: list, now: datetime) -> tuple[list[tuple[int, dict]], list]:
    """What _STORE_AT_ONCE stored (its rows) and refused, in the order the messages were
    stored; records each stored message's event."""
    stored_ids = {(row.chat_id, row.client_id): (row.id, row.agent_id, row.seq)
                  for row in rows if row.id is not None}
    stored, refused = [], []
    for item in sorted(valid, key=lambda v: stored_ids.get((v[1], v[4]), (0,))[0]):
        index, chat, sender, text, client_id = item
        if (chat, client_id) not in stored_ids:
            refused.append(item)
            continue
        new_id, agent_id, seq = stored_ids[chat, client_id]
        payload = wire.message(new_id, chat, sender.role, sender.name, text, now, client_id,
                               seq)
        stored.append((index, payload))
        events.record(events.MessagePosted(
            chat, payload, sender.user_id if sender.role == SenderRole.AGENT else agent_id))
    return stored, refused


# `hooks` counts the enabled webhooks that take new messages when the statement commits by
# itself (`alone`): their deliveries must be written in the messages' transaction (see
# app/integration/outbox.py), so then no draft is stored; the caller stores them again in a
# transaction. It is the statement's first column, on a row of its own if nothing is stored.
_STORE_AT_ONCE = sql_text("""
WITH hooks AS (
    SELECT count(*) AS n FROM webhook
    WHERE CAST(:alone AS boolean) AND is_enabled
      AND CAST(:hook_event AS text) = ANY(string_to_array(events, ','))
), drafts AS (
    SELECT (d->>0)::integer AS n, (d->>1)::integer AS chat_id, d->>2 AS role,
           d->>3 AS name, (d->>4)::integer AS user_id, d->>5 AS body, d->>6 AS client_id
    FROM json_array_elements(CAST(:drafts AS json)) AS d
    WHERE (SELECT n FROM hooks) = 0
), stamped AS (
    UPDATE chat SET last_activity_at = :now,
        last_seq = chat.last_seq + (
            SELECT count(*) FROM drafts AS t WHERE t.chat_id = chat.id
              AND (t.role <> 'AGENT' OR (chat.status = 'ACTIVE' AND chat.agent_id = t.user_id)))
    FROM (SELECT DISTINCT chat_id, role, user_id FROM drafts) AS s
    WHERE chat.id = s.chat_id
      AND ((s.role <> 'AGENT' AND chat.status IN ('WAITING', 'ACTIVE'))
           OR (s.role = 'AGENT' AND chat.status = 'ACTIVE' AND chat.agent_id = s.user_id))
    RETURNING chat.id, chat.agent_id, chat.status, chat.last_seq
), inserted AS (
    INSERT INTO chat_message (chat_id, sender_role, sender_name, user_id, body, client_id,
                              sent_at, seq)
    SELECT d.chat_id, d.role, d.name, d.user_id, d.body, d.client_id, :now,
           stamped.last_seq - count(*) OVER (PARTITION BY d.chat_id)
               + row_number() OVER (PARTITION BY d.chat_id ORDER BY d.n)
    FROM drafts AS d JOIN stamped ON stamped.id = d.chat_id
    WHERE d.role <> 'AGENT' OR (stamped.status = 'ACTIVE' AND stamped.agent_id = d.user_id)
    ORDER BY d.n
    RETURNING id, chat_id, client_id, seq
)
SELECT hooks.n AS webhooks, stored.id, stored.chat_id, stored.client_id, stored.agent_id,
       stored.seq
FROM hooks LEFT JOIN (
    SELECT inserted.id, inserted.chat_id, inserted.client_id, stamped.agent_id, inserted.seq
    FROM inserted JOIN stamped ON stamped.id = inserted.chat_id
) AS stored ON true
""")


def _clean_draft(draft: Draft, *, with_files: bool, limit: int) -> tuple[int, Sender, str, str]:
    """The draft's chat, sender, text and client id; the text may be empty when files go
    with it."""
    chat_key = clean_id(draft.chat_id, "chat_id")
    client_id = draft.client_id
    if not isinstance(client_id, str) or not client_id.strip() or len(client_id) > CLIENT_ID_MAX:
        raise ValidationError("invalid", f"client_id must be text of 1 to {CLIENT_ID_MAX} "
                              "characters.", "client_id")
    if not isinstance(draft.body, str):
        raise ValidationError("invalid", "body must be text.", "body")
    text = clean_text(draft.body, "body", max_length=limit, required=False)
    if text is None:
        if not with_files:
            raise ValidationError("empty", "An empty message cannot be sent.", "body")
        text = ""
    return chat_key, draft.sender, text, client_id


# Built once, so that SQLAlchemy computes its cache key once.
_TAKE_SEQS = (update(Chat.__table__).where(Chat.__table__.c.id == bindparam("key"))
              .values(last_activity_at=bindparam("now"), last_seq=bindparam("last")))
_CHAT_STATES = select(Chat.__table__.c.id, Chat.__table__.c.status, Chat.__table__.c.agent_id,
                      Chat.__table__.c.last_seq).where(
    Chat.__table__.c.id.in_(bindparam("keys", expanding=True))).order_by(
    Chat.__table__.c.id).with_for_update()


def take_seqs(chat_id: int, count: int) -> int:
    """Reserve the next `count` seqs of a chat in the current transaction (its row stays
    locked until the commit, so nobody else takes them); returns the first."""
    connection = db.session.connection()
    connection.execute(_BUMP_SEQ, {"key": chat_id, "n": count})
    return connection.execute(_SEQ_OF, {"key": chat_id}).scalar_one() - count + 1


_BUMP_SEQ = (update(Chat.__table__).where(Chat.__table__.c.id == bindparam("key"))
             .values(last_seq=Chat.__table__.c.last_seq + bindparam("n")))
_SEQ_OF = select(Chat.__table__.c.last_seq).where(Chat.__table__.c.id == bindparam("key"))


def _insert_messages(connection, rows: list[dict]) -> list[int]:
    """INSERT the rows in one statement; their new ids in the same order.

    On SQLite, one executemany and `last_insert_rowid()`: SQLite gives a new row the rowid
    one above the table's largest (its algorithm for a rowid table without AUTOINCREMENT,
    which chat_message is), and the batch's transaction holds the database's only write
    lock, so the rows of the executemany get consecutive ids ending with the last one
    inserted. SQLAlchemy's INSERT ... RETURNING of many rows costs a fifth of a batch there
    (its statement is rendered for each batch size). Elsewhere the ids come back with
    RETURNING, by (chat, client id), which is unique.
    """
    if connection.dialect.name == "sqlite":
        connection.execute(_INSERT_MESSAGE, rows)
        last = connection.execute(_LAST_ROWID).scalar_one()
        return list(range(last - len(rows) + 1, last + 1))
    if len(rows) == 1 or not connection.dialect.insert_executemany_returning:
        return [connection.execute(_INSERT_MESSAGE, row).inserted_primary_key[0] for row in rows]
    new_ids = {(chat_id, client_id): new_id for new_id, chat_id, client_id
               in connection.execute(_INSERT_MESSAGES_RETURNING, rows)}
    return [new_ids[row["chat_id"], row["client_id"]] for row in rows]


_LAST_ROWID = select(func.last_insert_rowid())
_INSERT_MESSAGE = insert(ChatMessage.__table__)
_INSERT_MESSAGES_RETURNING = _INSERT_MESSAGE.returning(
    ChatMessage.__table__.c.id, ChatMessage.__table__.c.chat_id,
    ChatMessage.__table__.c.client_id)


def _message_with_files(row: ChatMessage) -> dict:
    return wire.message_of(row, attachments.of_messages([row.id]).get(row.id, ()))


def _message_by_client_id(chat_id: int, client_id: str) -> ChatMessage | None:
    return db.session.scalars(select(ChatMessage).where(
        ChatMessage.chat_id == chat_id, ChatMessage.client_id == client_id)).first()


def _refusal(chat_id: int, sender: Sender) -> DeskError:
    """Why a message was not taken: no such chat, closed, not accepted yet or not his."""
    chat = db.session.get(Chat, chat_id)
    if chat is None:
        return NotFound("unknown_chat", "No such chat.", "chat_id")
    if chat.status not in OPEN_STATES:
        return Conflict("closed", "This chat is closed.", "chat_id")
    if sender.role == SenderRole.AGENT and chat.status == ChatStatus.WAITING:
        return Conflict("not_accepted", "Accept the chat before writing in it.", "chat_id")
    return Forbidden("not_yours", "This chat belongs to another agent.", "chat_id")


def history(chat_id: object, after_id: object = None) -> list[dict]:
    """Every message of a chat in order, or only those after `after_id` (reconnect)."""
    key = clean_id(chat_id, "chat_id")
    after = None if after_id in (None, 0, "0", "") else clean_id(after_id, "after_id")
    return histories({key: after})[key]


_MESSAGE_COLUMNS = tuple(ChatMessage.__table__.c[name] for name in (
    "id", "chat_id", "sender_role", "sender_name", "body", "sent_at", "client_id", "seq",
    "notice"))


def history_page(chat_id: int, after_id: int | None = None, *, by_seq: bool = False
                 ) -> tuple[list[dict], bool]:
    """The first page of a chat's messages after `after_id` (from the start when None), and
    whether more follow: see `history_pages`."""
    return history_pages({chat_id: after_id}, by_seq=by_seq)[chat_id]


def history_pages(cursors: dict[int, int | None], *, by_seq: bool = False,
                  max_messages: int | None = None, max_bytes: int | None = None
                  ) -> dict[int, tuple[list[dict], bool]]:
    """For each chat (id: cursor), its messages after the cursor in order, as many as fit in
    `max_messages` and about `max_bytes` of JSON (at least one), and whether more follow;
    one SELECT for all the chats. A chat of 10,000 messages thus comes in bounded pieces
    (limits: HISTORY_PAGE_MESSAGES, HISTORY_PAGE_BYTES). The cursors are message ids, or
    seqs `by_seq` (a client that holds 1..n of a chat asks for what follows n: what it
    misses may have smaller ids than messages it holds)."""
    max_messages = max_messages or setting("HISTORY_PAGE_MESSAGES")
    max_bytes = max_bytes or setting("HISTORY_PAGE_BYTES")
    table = ChatMessage.__table__
    pages: dict[int, tuple[list[dict], bool]] = {chat_id: ([], False) for chat_id in cursors}
    if not cursors:
        return pages
    cursor = table.c.seq if by_seq else table.c.id
    conditions = [and_(table.c.chat_id == chat_id, cursor > after) if after
                  else table.c.chat_id == chat_id for chat_id, after in cursors.items()]
    ranked = select(*_MESSAGE_COLUMNS, func.row_number().over(
        partition_by=table.c.chat_id, order_by=table.c.seq).label("n")
    ).where(or_(*conditions)).subquery()
    rows = db.session.execute(
        select(*[ranked.c[column.name] for column in _MESSAGE_COLUMNS])
        .where(ranked.c.n <= max_messages + 1).order_by(ranked.c.chat_id, ranked.c.seq)).all()
    files = attachments.of_chats(list(cursors)) if rows else {}
    sizes: dict[int, int] = {}
    for row in rows:
        page, more = pages[row.chat_id]
        if more:
            continue
        message = wire.message(*row, files.get(row.id, ()))
        sizes[row.chat_id] = sizes.get(row.chat_id, 0) + wire.encoded_size(message)
        if page and (len(page) == max_messages or sizes[row.chat_id] > max_bytes):
            pages[row.chat_id] = (page, True)
            continue
        page.append(message)
    return pages


def histories(cursors: dict[int, int | None]) -> dict[int, list[dict]]:
    """The messages of several chats (their ids, cleaned) in one SELECT: all of a chat's, or
    those after its cursor; each chat's in order."""
    table = ChatMessage.__table__
    whole = [chat_id for chat_id, after in cursors.items() if not after]
    conditions = [table.c.chat_id.in_(whole)] if whole else []
    conditions += [and_(table.c.chat_id == chat_id, table.c.id > after)
                   for chat_id, after in cursors.items() if after]
    found: dict[int, list[dict]] = {chat_id: [] for chat_id in cursors}
    if not conditions:
        return found
    rows = db.session.execute(
        select(*_MESSAGE_COLUMNS).where(or_(*conditions)).order_by(table.c.chat_id, table.c.id))
    rows = rows.all()
    files = attachments.of_chats(list(cursors)) if rows else {}
    for row in rows:
        found[row.chat_id].append(wire.message(*row, files.get(row.id, ())))
    return found


# --- close, abandon, time-out, transfer --------------------------------------------------

@use_case
def close_chat(chat_id: object, *, by: SenderRole, agent: User | None = None,
               reason: str | None = None) -> Chat:
    """End an open chat; its transcript goes onto the SR's work log. Idempotent when closed."""
    chat = get_chat(chat_id)
    if by == SenderRole.AGENT and (agent is None or chat.agent_id != agent.id):
        raise Forbidden("not_yours", "This chat belongs to another agent.", "chat_id")
    if chat.status in (ChatStatus.CLOSED, ChatStatus.ABANDONED):
        return chat
    was_waiting = chat.status == ChatStatus.WAITING
    now = utcnow()
    closed = db.session.execute(
        update(Chat).where(Chat.id == chat.id, Chat.status.in_(OPEN_STATES))
        .values(status=ChatStatus.CLOSED, closed_at=now, closed_by=by.value,
                close_reason=reason, offered_to_id=None, offer_expires_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not closed:  # someone else closed it a moment ago
        db.session.refresh(chat)
        return chat
    db.session.refresh(chat)
    _attach_transcript(chat, agent)
    _keep_figures(chat)
    report_rollup.touch(chat.id)
    if was_waiting:
        routing.chat_left_queue(chat.id)
        events.record(events.ChatLeftQueue(chat.id, chat.queue_id, "closed"))
    elif chat.agent is not None:
        events.record(_seat_changed(chat.agent))
    events.record(events.ChatClosed(chat.id, chat.queue_id, by.value, reason))
    return chat


def _keep_figures(chat: Chat) -> None:
    """What the reports read of an ended chat, from its messages (loaded for the transcript):
    how many the end user and the agents wrote (not the desk's notes, not the queue's
    automatic greeting), and when the chat's agent first wrote after accepting it."""
    written = [m for m in chat.messages if m.sender_role == SenderRole.VISITOR
               or (m.sender_role == SenderRole.AGENT and not m.client_id.startswith(GREETING))]
    chat.message_count = len(written)
    if chat.agent_id is not None and chat.accepted_at is not None:
        chat.first_response_at = min(
            (m.sent_at for m in written
             if m.sender_role == SenderRole.AGENT and m.user_id == chat.agent_id
             and m.sent_at >= chat.accepted_at), default=None)


def _attach_transcript(chat: Chat, agent: User | None) -> None:
    files = attachments.names_by_message(chat.id)
    lines = [f"[{m.sent_at.strftime('%Y-%m-%d %H:%M:%S')} UTC] {m.sender_name}: "
             + " ".join(filter(None, [m.body, *files.get(m.id, ())]))
             for m in chat.messages]
    requests.add_transcript(
        chat.sr_id, author=agent.person if agent else None,
        summary=f"Chat transcript ({len(lines)} messages)", details="\n".join(lines) or "(empty)")


@use_case
def abandon_chat(chat_id: object, reason: str = "The end user left before an agent joined."
                 ) -> Chat | None:
    """A waiting chat whose visitor went away leaves the queue as ABANDONED."""
    chat = get_chat(chat_id)
    now = utcnow()
    done = db.session.execute(
        update(Chat).where(Chat.id == chat.id, Chat.status == ChatStatus.WAITING)
        .values(status=ChatStatus.ABANDONED, closed_at=now, closed_by="SYSTEM",
                close_reason=reason, offered_to_id=None, offer_expires_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not done:
        return None
    db.session.refresh(chat)
    routing.chat_left_queue(chat.id)
    _attach_transcript(chat, None)
    _keep_figures(chat)
    report_rollup.touch(chat.id)
    events.record(events.ChatLeftQueue(chat.id, chat.queue_id, "abandoned"),
                  events.ChatClosed(chat.id, chat.queue_id, "SYSTEM", reason))
    return chat


def abandon_expired(grace_seconds: int | None = None) -> list[int]:
    """Abandon waiting chats whose visitor has been gone longer than the grace period."""
    grace = setting("CHAT_ABANDON_GRACE") if grace_seconds is None else grace_seconds
    cutoff = utcnow() - timedelta(seconds=grace)
    ids = list(db.session.scalars(select(Chat.id).where(
        Chat.status == ChatStatus.WAITING, Chat.visitor_left_at.is_not(None),
        Chat.visitor_left_at <= cutoff)))
    # Told together: a queue that many end users left at once is refreshed once, not once
    # per chat (after a restart, every waiting end user who did not come back leaves).
    with events.batched():
        return [chat_id for chat_id in ids if abandon_chat(chat_id) is not None]


def close_idle_chats(timeout_seconds: int | None = None) -> list[int]:
    """Close active chats with no message for the chat time-out; both sides are told why."""
    timeout = setting("CHAT_IDLE_TIMEOUT") if timeout_seconds is None else timeout_seconds
    cutoff = utcnow() - timedelta(seconds=timeout)
    ids = list(db.session.scalars(select(Chat.id).where(
        Chat.status == ChatStatus.ACTIVE, Chat.last_activity_at <= cutoff)))
    minutes = max(1, round(timeout / 60))
    reason = f"Closed after {minutes} minute{'s' if minutes != 1 else ''} without messages."
    with events.batched():
        for chat_id in ids:
            close_chat(chat_id, by=SenderRole.SYSTEM, reason=reason)
    return ids


@use_case
def transfer_chat(chat_id: object, agent: User, to_queue: object) -> Chat:
    """Hand a live chat to another queue: it waits there again; the SR follows the group."""
    chat = get_chat(chat_id)
    if chat.status != ChatStatus.ACTIVE or chat.agent_id != agent.id:
        raise Forbidden("not_yours", "Only the agent of a live chat can transfer it.", "chat_id")
    target = people.get_queue(to_queue)
    if target.id == chat.queue_id:
        raise ValidationError("same_queue", "The chat is already in this queue.", "queue")
    from_queue_id = chat.queue_id
    now = utcnow()
    moved = db.session.execute(
        update(Chat).where(Chat.id == chat.id, Chat.status == ChatStatus.ACTIVE,
                           Chat.agent_id == agent.id)
        .values(status=ChatStatus.WAITING, queue_id=target.id, agent_id=None,
                accepted_at=None, requested_at=now, last_activity_at=now,
                sr_resolved_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not moved:
        raise Conflict("closed", "This chat is no longer live.", "chat_id")
    report_rollup.touch(chat.id)
    db.session.refresh(chat)
    sr = chat.service_request
    requests.update_service_request(
        sr.id, actor=agent, expected_version=sr.version,
        changes={"owner_group_id": target.id}, status="QUEUED",
        memo=f"Chat transferred from {db.session.get(PersonGroup, from_queue_id).name} "
             f"to {target.name}",
    )
    note = ChatMessage(chat=chat, sender_role=SenderRole.SYSTEM, sender_name="Service Desk",
                       body=f"{agent.display_name} transferred the chat to {target.name}.",
                       notice={"kind": "transferred", "agent": agent.display_name,
                               "queue": target.name},
                       client_id=f"transfer-{int(now.timestamp() * 1000)}", sent_at=now,
                       seq=take_seqs(chat.id, 1))
    db.session.add(note)
    db.session.flush()
    events.record(events.ChatTransferred(chat.id, from_queue_id, target.id, agent.id),
                  # The note reaches the end user and the agent who handed the chat over.
                  events.MessagePosted(chat.id, wire.message_of(note), agent_id=agent.id),
                  events.ChatWaiting(chat.id, target.id), _seat_changed(agent))
    routing.offer_next(chat)
    return chat


# --- after the chat ----------------------------------------------------------------------

@use_case
def rate_chat(chat_id: object, rating: object, comment: object = None) -> Chat:
    """The end user's 1-5 rating and comment, stored on the chat and on its SR."""
    chat = get_chat(chat_id)
    if chat.status != ChatStatus.CLOSED:
        raise Conflict("not_closed", "A chat can be rated once it has ended.", "chat_id")
    chat.rating = clean_rank(rating, "rating", required=True)
    report_rollup.touch(chat.id)
    chat.rating_comment = clean_text(comment, "comment", max_length=2000, required=False)
    requests.rate_service_request(chat.service_request, chat.rating, chat.rating_comment)
    return chat


@use_case
def request_transcript(chat_id: object) -> None:
    """Put the whole transcript in the outbox for the end user: once per chat, and only to
    the chat's own address (whoever asks, however often: no mail cannon)."""
    chat = get_chat(chat_id)
    if not chat.visitor.email:
        raise ValidationError("no_email", "No e-mail address is known for this chat.", "email")
    first = db.session.execute(
        update(Chat).where(Chat.id == chat.id, Chat.transcript_requested_at.is_(None))
        .values(transcript_requested_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount == 1
    if not first:
        raise Conflict("transcript_sent", "The transcript of this chat has already been sent "
                       f"to {chat.visitor.email}.", "chat_id")
    mail.queue_transcript(chat)
