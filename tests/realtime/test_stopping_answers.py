"""An event on a socket the server no longer knows: while the server stops gracefully (its
connections being closed), a `send` is told to come again (`unavailable`, which clients
re-send with the same client id), never refused for good; otherwise `not_connected`.

In-process (Flask-SocketIO's test client): the socket is forgotten as its disconnect handler
forgets it while the event is still being answered, which a long-polling transport allows
during a graceful stop.
"""

from __future__ import annotations

from app.desk import chats
from app.desk.tokens import make_visitor_token
from app.extensions import db, socketio
from app.models import Chat


def test_a_send_on_a_socket_forgotten_by_a_stopping_server_is_to_be_sent_again(app, desk):
    chat_id = chats.request_chat(name="Eve", email="eve@example.org", queue="Hardware",
                                 question="Printer jam").chat.id
    token = make_visitor_token(app.config["SECRET_KEY"], db.session.get(Chat, chat_id))
    db.session.remove()
    visitor = socketio.test_client(app, namespace="/chat", auth={"visitor_token": token})
    assert visitor.is_connected("/chat")
    namespace = socketio.server.namespace_handlers["/chat"]
    sid = socketio.server.manager.sid_from_eio_sid(visitor.eio_sid, "/chat")
    namespace.clients.pop(sid)  # as its disconnect handler does
    draft = {"chat_id": chat_id, "body": "Still there?", "client_id": "c-1"}
    try:
        namespace.stopping = True
        stopping = visitor.emit("send", draft, namespace="/chat", callback=True)
    finally:
        namespace.stopping = False
    running = visitor.emit("send", draft, namespace="/chat", callback=True)

    assert (stopping["ok"], stopping["error"]) == (False, "unavailable")
    assert (running["ok"], running["error"]) == (False, "not_connected")
    assert [m["client_id"] for m in chats.history(chat_id)] == ["question"]  # nothing stored
