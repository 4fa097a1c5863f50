"""The message writer keeps a connection of its own: a batch takes none from the pool (whose
connections the socket handlers use), and a connection that broke is replaced by the next
batch.
"""

from __future__ import annotations

import pytest

from app.desk import chats
from app.extensions import db, socketio
from app.models import SenderRole
from app.realtime.writer import MessageWriter, _Lane


def test_the_writer_writes_on_its_own_connection_and_replaces_a_broken_one(app, desk):
    chat_id = chats.request_chat(name="Eve", email="eve@example.org", queue="Hardware",
                                 question="Printer jam").chat.id
    db.session.remove()
    writer = MessageWriter(socketio.server)

    def post(n: int) -> dict:
        draft = chats.Draft(chat_id, chats.Sender(SenderRole.VISITOR, "Eve"), f"Hello {n}",
                            f"w{n}")
        message, created = writer.post(app, draft, "sid")
        assert created
        return message

    first = post(1)
    [lane] = writer._lanes  # one message at a time: one lane, one connection
    connection = lane.connection[1]
    second = post(2)
    assert lane.connection[1] is connection  # kept between batches
    assert db.engine.pool.checkedout() == 1  # the writer's, nothing else
    connection.invalidate()  # as when the database drops it
    third = post(3)
    assert lane.connection[1] is not connection
    assert [m["body"] for m in (first, second, third)] == ["Hello 1", "Hello 2", "Hello 3"]
    assert [m["body"] for m in chats.history(chat_id)][-3:] == ["Hello 1", "Hello 2", "Hello 3"]


def test_by_default_an_acknowledged_message_waits_for_the_disk(monkeypatch):
    from app.config import CONFIGS

    monkeypatch.delenv("CHAT_MESSAGE_SYNC_COMMIT", raising=False)
    assert all(config().CHAT_MESSAGE_SYNC_COMMIT is True for config in CONFIGS.values())


@pytest.mark.parametrize("sync", [False, True])
def test_on_postgresql_message_commits_wait_for_the_disk_only_when_configured(app, desk, sync):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's durability is its journal mode (WAL, synchronous=NORMAL)")
    app.config["CHAT_MESSAGE_SYNC_COMMIT"] = sync
    lane = _Lane()
    connection = lane.connection_for(app)
    assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == (
        "on" if sync else "off")
    connection.rollback()
    lane.drop()
    # Every connection the pool hands out keeps the server's setting (on): the writer's
    # was discarded, not handed back.
    for _ in range(db.engine.pool.size() + 1):
        with db.engine.connect() as other:
            assert other.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"


def test_batches_in_flight_at_once_never_share_a_chat_and_keep_its_order(app, desk):
    """Many senders at once over a few chats: on PostgreSQL two batches are written at once
    (one waits for the disk while the next is written); each chat's messages are stored once,
    numbered without a gap, and published in the order of their numbers."""
    import threading

    from app.desk import events

    chat_ids = [chats.request_chat(name=f"Eve {n}", email=f"eve{n}@example.org",
                                   queue="Hardware", question="Printer jam").chat.id
                for n in range(6)]
    db.session.remove()
    published: list[dict] = []
    lock = threading.Lock()

    def on_events(batch):
        with lock:
            published.extend(e.message for e in batch if isinstance(e, events.MessagePosted))

    events.subscribe(app, on_events)
    writer = MessageWriter(socketio.server)
    failures: list[object] = []

    def sender(chat_id: int, who: int) -> None:
        with app.app_context():
            for n in range(15):
                draft = chats.Draft(chat_id, chats.Sender(SenderRole.VISITOR, "Eve"),
                                    f"{who}:{n}", f"c{who}.{n}")
                try:
                    _, created = writer.post(app, draft, f"sid-{who}")
                    assert created
                except Exception as exc:  # noqa: BLE001 - reported below
                    failures.append(exc)

    threads = [threading.Thread(target=sender, args=(chat_id, 10 * index + side))
               for index, chat_id in enumerate(chat_ids) for side in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        events.unsubscribe(app, on_events)
    assert failures == []
    assert len(writer._lanes) <= (2 if db.engine.dialect.name == "postgresql" else 1)
    for chat_id in chat_ids:
        stored = chats.history(chat_id)
        mine = [m for m in stored if str(m["client_id"]).startswith("c")]
        assert len(mine) == 30 and len({m["client_id"] for m in mine}) == 30
        seqs = [m["seq"] for m in stored]
        assert seqs == list(range(1, len(seqs) + 1))
        # Each sender's messages in the order he sent them.
        for side in range(2):
            who = 10 * chat_ids.index(chat_id) + side
            assert [m["body"] for m in mine if m["body"].startswith(f"{who}:")] == [
                f"{who}:{n}" for n in range(15)]
        out = [m["seq"] for m in published if m["chat_id"] == chat_id
               and str(m["client_id"]).startswith("c")]
        assert out == sorted(out) and len(out) == 30


def test_on_postgresql_a_batch_that_waits_does_not_hold_up_other_chats(app, desk):
    """A batch stuck on its chat's row (here: another transaction holds it) keeps one
    writer; another chat's message is written and acknowledged meanwhile on the next."""
    import threading
    import time

    import sqlalchemy as sa

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time")
    stuck, free = (chats.request_chat(name=f"Eve {n}", email=f"eve{n}@example.org",
                                      queue="Hardware", question="Printer jam").chat.id
                   for n in range(2))
    db.session.remove()
    writer = MessageWriter(socketio.server)
    outcomes: dict[int, object] = {}

    def post(chat_id: int) -> None:
        with app.app_context():
            draft = chats.Draft(chat_id, chats.Sender(SenderRole.VISITOR, "Eve"), "hi",
                                f"c{chat_id}")
            outcomes[chat_id] = writer.post(app, draft, "sid")

    with db.engine.connect() as other:
        other.execute(sa.text("SELECT id FROM chat WHERE id = :id FOR UPDATE"), {"id": stuck})
        first = threading.Thread(target=post, args=(stuck,))
        first.start()
        deadline = time.monotonic() + 10
        while not writer._in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        second = threading.Thread(target=post, args=(free,))
        second.start()
        second.join(10)
        assert outcomes[free][1] is True  # acknowledged as stored
        assert stuck not in outcomes  # still waiting for its row
        other.rollback()
    first.join(10)
    assert outcomes[stuck][1] is True
    assert [m["body"] for m in chats.history(stuck)][-1] == "hi"


def test_a_send_whose_batch_is_stuck_is_answered_unavailable_and_stored_once(app, desk,
                                                                            monkeypatch):
    """A batch held up past the writer's bound (here a chat row another transaction keeps
    locked) is answered `unavailable`, so the client sends again; once the row is free the
    batch is stored, and the client's second send finds it: one message, not two."""
    import threading
    import time

    import sqlalchemy as sa

    from app.desk.errors import DeskError
    from app.realtime import writer as writer_module

    if db.engine.dialect.name != "postgresql":
        pytest.skip("a row lock holds a batch on PostgreSQL")
    monkeypatch.setattr(writer_module, "WAIT_SECONDS", 1.0)
    chat_id = chats.request_chat(name="Eve", email="eve@example.org", queue="Hardware",
                                 question="Printer jam").chat.id
    db.session.remove()
    writer = MessageWriter(socketio.server)
    draft = chats.Draft(chat_id, chats.Sender(SenderRole.VISITOR, "Eve"), "hi", "once")
    answers: list[object] = []

    def post() -> None:
        with app.app_context():
            try:
                answers.append(writer.post(app, draft, "sid"))
            except DeskError as exc:
                answers.append(exc)

    with db.engine.connect() as other:
        other.execute(sa.text("SELECT id FROM chat WHERE id = :id FOR UPDATE"), {"id": chat_id})
        started = time.monotonic()
        sender = threading.Thread(target=post)
        sender.start()
        sender.join(10)
        waited = time.monotonic() - started
        assert [getattr(a, "code", None) for a in answers] == ["unavailable"]
        assert waited < 5  # the bound (1 s here) and the watchdog's round, not the lock
        other.rollback()
    deadline = time.monotonic() + 10
    while not writer.idle() and time.monotonic() < deadline:
        time.sleep(0.05)
    post()  # the client sends again
    message, created = answers[-1]
    assert created is False and message["body"] == "hi"
    assert [m["body"] for m in chats.history(chat_id)].count("hi") == 1
