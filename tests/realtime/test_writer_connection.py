"""The message writer keeps a connection of its own: a batch takes none from the pool (whose
connections the socket handlers use), and a connection that broke is replaced by the next
batch.
"""

from __future__ import annotations

import pytest

from app.desk import chats
from app.extensions import db, socketio
from app.models import SenderRole
from app.realtime.writer import MessageWriter


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
    connection = writer._connection[1]
    second = post(2)
    assert writer._connection[1] is connection  # kept between batches
    assert db.engine.pool.checkedout() == 1  # the writer's, nothing else
    connection.invalidate()  # as when the database drops it
    third = post(3)
    assert writer._connection[1] is not connection
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
    writer = MessageWriter(socketio.server)
    connection = writer._own_connection(app)
    assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == (
        "on" if sync else "off")
    connection.rollback()
    writer._drop_connection()
    # Every connection the pool hands out keeps the server's setting (on): the writer's
    # was discarded, not handed back.
    for _ in range(db.engine.pool.size() + 1):
        with db.engine.connect() as other:
            assert other.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
