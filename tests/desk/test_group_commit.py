"""Several messages in one transaction (`post_messages`): each draft gets its own outcome."""

from __future__ import annotations

import json
import tempfile

import pytest
from sqlalchemy import event, func, select

from app.desk import chats, events
from app.desk.chats import Draft, Sender
from app.desk.errors import DeskError
from app.desk.unit_of_work import transaction
from app.extensions import db
from app.integration import webhooks
from app.models import Chat, ChatMessage, SenderRole, WebhookDelivery


@pytest.fixture
def statements(app):
    """The SQL statements sent to the database (COMMIT included) while the test runs; on
    PostgreSQL a statement run in autocommit (it commits by itself: no BEGIN and no COMMIT
    go to the database with it) is marked `+autocommit`."""
    seen: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        kind = statement.split()[0].upper()
        if conn.dialect.name == "postgresql" and conn.connection.driver_connection.autocommit:
            kind += "+autocommit"
        seen.append(kind)

    def on_commit(conn):
        if not (conn.dialect.name == "postgresql"
                and conn.connection.driver_connection.autocommit):
            seen.append("COMMIT")

    engine = db.engine
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    yield seen
    event.remove(engine, "before_cursor_execute", on_execute)
    event.remove(engine, "commit", on_commit)


@pytest.fixture
def wire(app):
    """What the client library sends to PostgreSQL (libpq's protocol trace of every
    connection checked out while the test runs): BEGIN and COMMIT included."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the protocol trace is PostgreSQL's")
    trace = tempfile.TemporaryFile()
    traced = []

    def on_checkout(dbapi_connection, record, proxy):
        dbapi_connection.pgconn.trace(trace.fileno())
        traced.append(dbapi_connection)

    event.listen(db.engine, "checkout", on_checkout)

    def sent() -> str:
        """What was sent since the last call."""
        for connection in traced:
            if not connection.closed:
                connection.pgconn.untrace()
        traced.clear()
        trace.seek(read[0])
        text = trace.read()
        read[0] += len(text)
        return text.decode(errors="replace")

    read = [0]

    yield sent
    event.remove(db.engine, "checkout", on_checkout)
    sent()
    trace.close()


def open_chat(desk, email, accept_by=None):
    chat = chats.request_chat(name="Ann User", email=email, queue="Software",
                              question="VPN drops").chat
    if accept_by is not None:
        chats.accept_chat(chat.id, accept_by)
    return db.session.get(Chat, chat.id)


def stored(chat_id):
    return list(db.session.scalars(select(ChatMessage.body).where(
        ChatMessage.chat_id == chat_id).order_by(ChatMessage.id)))


def test_a_batch_of_good_messages_costs_one_statement_and_one_commit(desk, statements,
                                                                      published):
    mine = [open_chat(desk, f"u{i}@example.com", accept_by=desk.alice).id for i in range(5)]
    alice_id = desk.alice.id
    db.session.remove()
    drafts = [Draft(chat_id, Sender(SenderRole.VISITOR, f"User {i}"), f"hello {i}.{n}",
                    f"c{i}.{n}") for n in range(2) for i, chat_id in enumerate(mine)]
    del statements[:]
    published.clear()
    outcomes = chats.post_messages(drafts)

    # PostgreSQL stamps the chats, numbers and inserts the messages with one statement
    # (WITH ...) that commits by itself, having checked that no webhook takes new messages.
    # SQLite reads (and would lock) the chats, stamps them and takes their seqs (one UPDATE
    # per chat, as one executemany), inserts the messages (one executemany) and reads the
    # last id; the last SELECT asks which webhooks take the new messages (none here), in the
    # same transaction, so that their deliveries would be written with the messages.
    expected = (["WITH+autocommit"] if db.engine.dialect.name == "postgresql"
                else ["SELECT", "UPDATE", "INSERT", "SELECT", "SELECT", "COMMIT"])
    assert [s for s in statements if s != "PRAGMA"] == expected
    assert all(created for _, created in outcomes)
    ids = [message["id"] for message, _ in outcomes]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)  # stored in the order received
    # Each outcome names the row that holds it.
    rows = db.session.execute(select(ChatMessage.id, ChatMessage.body, ChatMessage.seq).where(
        ChatMessage.id.in_(ids))).all()
    assert {row.id: (row.body, row.seq) for row in rows} == {
        message["id"]: (message["body"], message["seq"]) for message, _ in outcomes}
    for i, chat_id in enumerate(mine):
        assert stored(chat_id)[-2:] == [f"hello {i}.0", f"hello {i}.1"]
    posted = [e for e in published if isinstance(e, events.MessagePosted)]
    assert [e.message["id"] for e in posted] == ids
    assert {e.agent_id for e in posted} == {alice_id}


def test_every_draft_gets_its_own_outcome_and_only_good_ones_are_stored(desk, published):
    alice, bob = Sender.agent(desk.alice), Sender.agent(desk.bob)
    live = open_chat(desk, "live@example.com", accept_by=desk.alice).id
    waiting = open_chat(desk, "waiting@example.com").id
    closed = open_chat(desk, "closed@example.com", accept_by=desk.alice).id
    chats.close_chat(closed, by=SenderRole.VISITOR)
    earlier, _ = chats.post_message(live, alice, "Hello", "dup-1")
    before = db.session.scalar(select(func.count(ChatMessage.id)))
    closed_activity = db.session.get(Chat, closed).last_activity_at
    db.session.remove()
    published.clear()

    visitor = Sender(SenderRole.VISITOR, "Ann User")
    outcomes = chats.post_messages([
        Draft(live, visitor, "one", "v-1"),                 # stored
        Draft(live, alice, "two", "a-1"),                   # stored
        Draft(live, bob, "not his", "b-1"),                 # another agent's chat
        Draft(waiting, visitor, "still waiting", "v-2"),    # stored (visitor)
        Draft(waiting, alice, "too early", "a-2"),          # not accepted yet
        Draft(closed, visitor, "hello?", "v-3"),            # closed
        Draft(10**9, visitor, "nowhere", "v-4"),            # no such chat
        Draft(live, visitor, "   ", "v-5"),                 # empty
        Draft(live, visitor, {"html": 1}, "v-6"),           # not text
        Draft(live, alice, "again", "dup-1"),               # a retry: the stored one
    ])

    kinds = [o.code if isinstance(o, DeskError) else ("created" if o[1] else "duplicate")
             for o in outcomes]
    assert kinds == ["created", "created", "not_yours", "created", "not_accepted", "closed",
                     "unknown_chat", "empty", "invalid", "duplicate"]
    assert outcomes[-1][0] == earlier
    assert db.session.scalar(select(func.count(ChatMessage.id))) == before + 3
    assert stored(live)[-3:] == ["Hello", "one", "two"]
    assert stored(waiting)[-1] == "still waiting"
    assert stored(closed)[-1] != "hello?"
    assert [e.message["body"] for e in published
            if isinstance(e, events.MessagePosted)] == ["one", "two", "still waiting"]
    # Refused drafts stamp nothing: the closed chat kept its last activity.
    assert db.session.get(Chat, closed).last_activity_at == closed_activity


def test_a_retry_inside_the_same_batch_is_stored_once(desk):
    live = open_chat(desk, "twice@example.com", accept_by=desk.alice).id
    db.session.remove()
    visitor = Sender(SenderRole.VISITOR, "Ann User")
    first, second = chats.post_messages([Draft(live, visitor, "same", "same-id"),
                                         Draft(live, visitor, "same", "same-id")])
    assert first[1] is True and second[1] is False
    assert first[0] == second[0]
    assert stored(live).count("same") == 1



def test_on_postgresql_a_batch_is_one_round_trip_without_begin_or_commit(desk, wire):
    mine = [open_chat(desk, f"w{i}@example.com", accept_by=desk.alice).id for i in range(3)]
    db.session.remove()
    wire()  # forget the set-up's traffic
    outcomes = chats.post_messages([
        Draft(chat_id, Sender(SenderRole.VISITOR, "Ann User"), f"hi {n}", f"w{i}.{n}")
        for n in range(2) for i, chat_id in enumerate(mine)])

    sent = wire()
    assert all(created for _, created in outcomes)
    assert sent.count("WITH hooks AS") == 1
    assert sent.count('Query\t "BEGIN"') == 0 and sent.count('Query\t "COMMIT"') == 0
    assert [stored(chat_id)[-2:] for chat_id in mine] == [[f"hi {0}", f"hi {1}"]] * 3


def test_a_webhook_taking_messages_gets_every_message_of_a_batch_in_its_transaction(
        desk, statements, published):
    live = open_chat(desk, "hooked@example.com", accept_by=desk.alice).id
    with transaction():
        webhooks.add_webhook("http://127.0.0.1:9/desk", secret="s" * 24,
                             events=["message.created"])
    last = db.session.get(Chat, live).last_seq
    db.session.remove()
    del statements[:]
    published.clear()
    visitor = Sender(SenderRole.VISITOR, "Ann User")
    outcomes = chats.post_messages([Draft(live, visitor, f"m{n}", f"h{n}") for n in range(3)])
    sent = list(statements)

    # Numbered without a gap: the statement that stored nothing took no seq.
    assert [message["seq"] for message, created in outcomes if created] == [
        last + 1, last + 2, last + 3]
    bodies = [json.loads(row.body)["data"]["message"]["body"] for row in db.session.scalars(
        select(WebhookDelivery).order_by(WebhookDelivery.created_at, WebhookDelivery.event_id))
        if row.event == "message.created"]
    assert sorted(bodies) == ["m0", "m1", "m2"]
    assert [e.message["body"] for e in published if isinstance(e, events.MessagePosted)] == [
        "m0", "m1", "m2"]
    if db.engine.dialect.name == "postgresql":
        # The statement that would commit by itself stored nothing; the batch was stored
        # in a transaction with its deliveries.
        assert sent == ["WITH+autocommit", "WITH", "SELECT", "INSERT", "COMMIT"]


def test_a_webhook_on_other_events_leaves_the_batch_one_statement(desk, statements):
    live = open_chat(desk, "other@example.com", accept_by=desk.alice).id
    with transaction():
        webhooks.add_webhook("http://127.0.0.1:9/desk", secret="s" * 24,
                             events=["chat.closed", "sr.updated"])
    db.session.remove()
    del statements[:]
    chats.post_messages([Draft(live, Sender(SenderRole.VISITOR, "Ann User"), "hi", "o1")])
    sent = list(statements)

    assert stored(live)[-1] == "hi"
    if db.engine.dialect.name == "postgresql":
        assert sent == ["WITH+autocommit"]
    assert db.session.scalar(select(func.count(WebhookDelivery.delivery_id))) == 0
