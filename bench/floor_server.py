"""The floor of this stack: a bare python-socketio relay on eventlet, no app, no database.

It speaks the same `/chat` shapes the benchmark drives against the real app, so the two can
be compared packet for packet: a visitor connects with auth {"visitor_token": "<chat id>"},
an agent with auth {"chats": [<chat id>, ...]}; `send` {chat_id, body, client_id} is
acknowledged with {ok, message} and the message is emitted to the chat's room. With
--redis URL several floor processes share rooms through Redis, as the app does.

    python bench/floor_server.py --port 5101 [--redis redis://127.0.0.1:6379/0 --channel x]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("EVENTLET_NO_GREENDNS", "yes")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import itertools  # noqa: E402
import socket  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import eventlet.wsgi  # noqa: E402
import socketio  # noqa: E402


def build(redis_url: str | None, channel: str) -> socketio.WSGIApp:
    manager = socketio.RedisManager(redis_url, channel=channel) if redis_url else None
    sio = socketio.Server(async_mode="eventlet", client_manager=manager,
                          ping_interval=10, ping_timeout=10, max_http_buffer_size=64 * 1024,
                          cors_allowed_origins=[])
    ids = itertools.count(1)
    visitors: dict[str, int] = {}

    @sio.on("connect", namespace="/chat")
    def connect(sid, environ, auth):
        auth = auth or {}
        if "visitor_token" in auth:
            chat_id = int(auth["visitor_token"])
            visitors[sid] = chat_id
            sio.enter_room(sid, f"chat-{chat_id}", namespace="/chat")
        else:
            for chat_id in auth.get("chats", []):
                sio.enter_room(sid, f"chat-{int(chat_id)}", namespace="/chat")

    @sio.on("disconnect", namespace="/chat")
    def disconnect(sid, *args):
        visitors.pop(sid, None)

    @sio.on("send", namespace="/chat")
    def send(sid, data):
        chat_id = int(data["chat_id"])
        role = "VISITOR" if sid in visitors else "AGENT"
        message = {
            "id": next(ids), "chat_id": chat_id,
            "sender": {"role": role, "name": role.title()},
            "body": data["body"],
            "sent_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "client_id": data["client_id"],
        }
        sio.emit("message", message, room=f"chat-{chat_id}", namespace="/chat")
        return {"ok": True, "message": message}

    def health(environ, start_response):
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"ok": true}']
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return socketio.WSGIApp(sio, health)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5101)
    parser.add_argument("--redis", default=None, help="Redis URL for a multi-process floor")
    parser.add_argument("--channel", default="bench-floor")
    parser.add_argument("--max-connections", type=int, default=10000)
    parser.add_argument("--nodelay", action="store_true", help="TCP_NODELAY on accepted sockets")
    args = parser.parse_args()
    app = build(args.redis, args.channel)
    print(f"floor on http://{args.host}:{args.port}/", flush=True)
    listener = eventlet.listen((args.host, args.port), backlog=1024)
    if args.nodelay:
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    eventlet.wsgi.server(listener, app, max_size=args.max_connections, log_output=False)


if __name__ == "__main__":
    main()
