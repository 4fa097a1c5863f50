"""What the widget's browser tests need around the page: the desk, the customer site, an agent.

The agent side is a real Socket.IO client (python-socketio, threads, websocket transport)
logged in through the real /login form, so the end user's widget talks to a real agent over
the real server.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import requests
import socketio
import sqlalchemy as sa

from app.widget.demo_host import DemoHost
from tests.support.accounts import cookie_header, http_session
from tests.support.server import LiveServer, free_port

WAIT = 10.0


class AgentClient:
    """An agent's console connection: /queue and /chat, with every event it receives."""

    def __init__(self, base_url: str, username: str, password: str = "demo") -> None:
        self.base_url = base_url
        self.http = http_session(base_url, username, password, WAIT)
        self.events: list[tuple[str, str, object]] = []
        self._changed = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        for namespace in ("/queue", "/chat"):
            self.sio.on("*", self._recorder(namespace), namespace=namespace)
        self.sio.connect(base_url, namespaces=["/queue", "/chat"], transports=["websocket"],
                         headers={"Cookie": cookie_header(self.http)}, wait_timeout=WAIT)

    def _recorder(self, namespace: str):
        def record(event, data=None):
            with self._changed:
                self.events.append((namespace, event, data))
                self._changed.notify_all()
        return record

    def wait_for(self, event: str, match=lambda data: True, namespace: str = "/chat",
                 timeout: float = WAIT):
        """The first recorded event of that name whose data matches (waits for it)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for ns, name, data in self.events:
                    if ns == namespace and name == event and match(data):
                        return data
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(ns, name) for ns, name, _ in self.events]
                    raise AssertionError(f"agent never got {namespace} {event}; got {seen}")
                self._changed.wait(left)

    def received(self, event: str, namespace: str = "/chat") -> list:
        with self._changed:
            return [data for ns, name, data in self.events if ns == namespace and name == event]

    def call(self, event: str, data: dict, namespace: str = "/chat") -> dict:
        return self.sio.call(event, data, namespace=namespace, timeout=WAIT)

    def accept(self, chat_id: int) -> dict:
        ack = self.call("accept", {"chat_id": chat_id}, namespace="/queue")
        assert ack.get("ok"), ack
        return ack

    def say(self, chat_id: int, body: str) -> dict:
        ack = self.call("send", {"chat_id": chat_id, "body": body,
                                 "client_id": f"agent-{time.monotonic_ns()}"})
        assert ack.get("ok"), ack
        return ack["message"]

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


@dataclass
class WidgetDesk:
    """The chat server (allowing the customer origin), the customer page, and its database."""

    server: LiveServer
    site: DemoHost
    database_url: str

    def query(self, sql: str, **params) -> list:
        engine = sa.create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(sa.text(sql), params))
        finally:
            engine.dispose()

    def request_chat(self, name: str, email: str, queue: str, question: str) -> dict:
        """Another end user asks for a chat through the public API (no browser needed)."""
        response = requests.post(f"{self.server.url}/api/chat-requests", timeout=WAIT, json={
            "name": name, "email": email, "queue": queue, "question": question})
        assert response.status_code == 201, response.text
        return response.json()


def start_widget_desk(database_url: str, tmp_path, *, identity_secret: str | None = None,
                      **env) -> WidgetDesk:
    """With `identity_secret`, the desk and the customer page share it (its `/?user=erin`)."""
    site_port = free_port()
    site_origin = f"http://127.0.0.1:{site_port}"
    if identity_secret:
        env["WIDGET_IDENTITY_SECRET"] = identity_secret
    server = LiveServer(database_url, log_path=tmp_path / "server.log",
                        env={"WIDGET_ALLOWED_ORIGINS": site_origin, **env})
    server.start()
    site = DemoHost(server.url, port=site_port, identity_secret=identity_secret).start()
    return WidgetDesk(server=server, site=site, database_url=database_url)
