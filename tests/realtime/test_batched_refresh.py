"""Work that changes many chats at once tells each queue once: the sweeper abandoning every
end user who did not come back (as after a restart) refreshes a queue once, not once per chat.

In-process (Flask-SocketIO's test clients): the count of events is what is asserted.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app.desk import chats
from app.desk.tokens import make_visitor_token
from app.extensions import db, socketio
from app.models import Chat, utcnow


def received(test_client, namespace, name):
    return [e["args"][0] for e in test_client.get_received(namespace) if e["name"] == name]


def test_abandoning_many_waiting_chats_refreshes_their_queue_once(app, desk, client):
    made = [chats.request_chat(name=f"User {i}", email=f"gone{i}@example.org",
                               queue="Hardware", question="Printer jam").chat.id
            for i in range(6)]
    gone, stays = made[:-1], made[-1]
    db.session.execute(update(Chat).where(Chat.id.in_(gone))
                       .values(visitor_left_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    token = make_visitor_token(app.config["SECRET_KEY"], db.session.get(Chat, stays))
    db.session.remove()
    visitor = socketio.test_client(app, namespace="/chat", auth={"visitor_token": token})
    assert client.post("/login", data={"username": "alice", "password": "demo"}
                       ).status_code == 302
    agent = socketio.test_client(app, namespace="/queue", flask_test_client=client)
    assert visitor.is_connected("/chat") and agent.is_connected("/queue")
    visitor.get_received("/chat")  # what connecting brought
    agent.get_received("/queue")

    with app.app_context():
        abandoned = chats.abandon_expired()

    assert sorted(abandoned) == sorted(gone)
    # The one still waiting moved from 6th to 1st: told once, with the final position.
    assert received(visitor, "/chat", "queue_position") == [
        {"chat_id": stays, "position": 1, "agents_online": 1,
         "agents_available": 1}]
    events = agent.get_received("/queue")
    left = [e["args"][0]["chat_id"] for e in events if e["name"] == "chat_left"]
    assert sorted(left) == sorted(gone)  # each chat that left is still named
    states = [e["args"][0] for e in events if e["name"] == "queue_state"]
    assert len(states) == 1
    hardware = next(q for q in states[0]["queues"] if q["name"] == "Hardware")
    assert hardware["waiting"] == 1
    visitor.disconnect(namespace="/chat")
    agent.disconnect(namespace="/queue")
