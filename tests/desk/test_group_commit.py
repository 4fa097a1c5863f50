"""Several messages in one transaction (`post_messages`): each draft gets its own outcome."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from app.desk import chats, events
from app.desk.chats import Draft, Sender
from app.desk.errors import DeskError
from app.extensions import db
from app.models import Chat, ChatMessage, SenderRole


@pytest.fixture
def statements(app):
    """The SQL statements sent to the database (COMMIT included) while the test runs."""
    seen: list[str] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.split()[0].upper())

    def on_commit(conn):
        seen.append("COMMIT")

    engine = db.engine
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    yield seen
    event.remove(engine, "before_cursor_execute", on_execute)
    event.remove(engine, "commit", on_commit)


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

    # The SELECT asks which webhooks take the new messages (none here), in the same
    # transaction, so that their deliveries would be written with the messages. PostgreSQL
    # stamps the chats, numbers and inserts the messages with one statement (WITH ...);
    # SQLite reads (and would lock) the chats, stamps them and takes their seqs (one UPDATE
    # per chat, as one executemany), inserts the messages.
    expected = (["WITH", "SELECT", "COMMIT"] if db.engine.dialect.name == "postgresql"
                else ["SELECT", "UPDATE", "INSERT", "SELECT", "COMMIT"])
    assert [s for s in statements if s != "PRAGMA"] == expected
    assert all(created for _, created in outcomes)
    ids = [message["id"] for message, _ in outcomes]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)  # stored in the order received
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

