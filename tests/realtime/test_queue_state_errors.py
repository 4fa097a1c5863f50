"""queue_state tells the indicator when the server cannot read the queue, then recovers.

In-process (Flask-SocketIO's test client, no network): the fault is real — the chat table is
renamed away under the running app — but no wire is needed to prove the payload.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.desk import chats
from app.extensions import db, socketio
from app.realtime import namespaces_of


def queue_states(client):
    return [event["args"][0] for event in client.get_received("/queue")
            if event["name"] == "queue_state"]


def rename_chat_table(old, new):
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"ALTER TABLE {old} RENAME TO {new}"))
    db.session.remove()


def test_database_failure_gives_queue_state_with_error_then_recovers(app, desk, client):
    chats.request_chat(name="Erin", email="erin@example.org", queue="Hardware",
                       question="Screen flickers")
    assert client.post("/login", data={"username": "alice", "password": "demo"}
                       ).status_code == 302
    rename_chat_table("chat", "chat_away")
    try:
        agent = socketio.test_client(app, namespace="/queue", flask_test_client=client)
        assert agent.is_connected("/queue")  # still connected, so that it can be told
        [state] = queue_states(agent)
        assert state["error"] == "unavailable" and state["total"] is None
        assert "cannot be read" in state["message"]
        # Events still answer, with a clear error and the socket intact.
        reply = agent.emit("waiting_list", {}, namespace="/queue", callback=True)
        assert reply["ok"] is False and reply["error"] == "unavailable"
        assert agent.is_connected("/queue")
    finally:
        rename_chat_table("chat_away", "chat")
    namespaces_of(app).queue.retry_failed()  # what the sweeper does every few seconds
    states = queue_states(agent)
    assert states and all("error" not in s for s in states)
    state = states[-1]
    assert state["total"] == 1
    hardware = next(q for q in state["queues"] if q["name"] == "Hardware")
    assert hardware["waiting"] == 1 and hardware["agents_online"] == 1
    agent.disconnect(namespace="/queue")


def test_each_event_ends_its_database_session(app, desk, client):
    """No transaction outlives a socket event (the session is removed after each)."""
    assert client.post("/login", data={"username": "bob", "password": "demo"}).status_code == 302
    agent = socketio.test_client(app, namespace="/queue", flask_test_client=client)
    opened, ended = [], []

    def on_begin(conn):
        opened.append(conn)

    def on_end(conn):
        ended.append(conn)

    listeners = [("begin", on_begin), ("commit", on_end), ("rollback", on_end)]
    for name, fn in listeners:
        sa.event.listen(db.engine, name, fn)
    try:
        for _ in range(3):
            assert agent.emit("waiting_list", {}, namespace="/queue", callback=True)["ok"]
        assert agent.emit("accept", {"chat_id": 999}, namespace="/queue", callback=True
                          )["error"] == "unknown_chat"
    finally:
        for name, fn in listeners:
            sa.event.remove(db.engine, name, fn)
    assert len(opened) >= 4 and len(ended) == len(opened)
    agent.disconnect(namespace="/queue")
