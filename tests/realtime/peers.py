"""Real Socket.IO peers for wire tests: agents (session cookie) and end users (visitor token)."""

from __future__ import annotations

import threading
import time
import uuid

import requests
import socketio

from tests.support.accounts import cookie_header, http_session

TIMEOUT = 10


def login_cookie(base_url: str, username: str, password: str = "demo") -> str:
    """Log in like a browser and return the Cookie header."""
    return cookie_header(http_session(base_url, username, password, TIMEOUT))


def request_chat(base_url: str, **overrides) -> dict:
    body = {"name": "Erin End-User", "email": "erin@example.org", "phone": "+1 555 0199",
            "queue": "Software", "question": "My mail client keeps asking for a password."}
    body.update(overrides)
    reply = requests.post(f"{base_url}/api/chat-requests", json=body, timeout=TIMEOUT)
    assert reply.status_code == 201, reply.text
    return reply.json()


class Peer:
    """A python-socketio client over WebSocket that records every event it receives."""

    def __init__(self, base_url: str, namespaces: list[str], *, headers: dict | None = None,
                 auth=None, reconnection: bool = True, origin: str | None = None,
                 transports: tuple[str, ...] = ("websocket",)) -> None:
        self.base_url = base_url
        self.transports = list(transports)
        self.namespaces = namespaces
        self.headers = headers or {}
        self.auth = auth
        self.events: list[tuple[str, str, object]] = []
        self.consumed: set[int] = set()
        self.connect_errors: list[object] = []
        self.cond = threading.Condition()
        # A browser page's Origin (the WebSocket client sends the server's own by default).
        extra = {"websocket_extra_options": {"origin": origin}} if origin else {}
        self.sio = socketio.Client(reconnection=reconnection, reconnection_delay=0.2,
                                   reconnection_delay_max=1, randomization_factor=0, **extra)
        for namespace in namespaces:
            self.sio.on("*", self._recorder(namespace), namespace=namespace)
            self.sio.on("connect_error", self._connect_error(namespace), namespace=namespace)

    def _recorder(self, namespace):
        def record(event, data=None):
            with self.cond:
                self.events.append((namespace, event, data))
                self.cond.notify_all()
        return record

    def _connect_error(self, namespace):
        def handler(data=None):
            with self.cond:
                self.connect_errors.append(data)
                self.cond.notify_all()
        return handler

    def connect(self) -> Peer:
        self.sio.connect(self.base_url, namespaces=self.namespaces, headers=self.headers,
                         auth=self.auth, transports=self.transports, wait_timeout=TIMEOUT)
        return self

    def disconnect(self) -> None:
        self.sio.disconnect()

    def call(self, event: str, data=None, namespace: str = "/chat", *args) -> dict:
        payload = (data, *args) if args else data
        return self.sio.call(event, payload, namespace=namespace, timeout=TIMEOUT)

    def wait(self, event: str, namespace: str, match=lambda data: True,
             timeout: float = TIMEOUT):
        """The next not yet consumed `event` matching `match` (consumes it)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for index, (ns, name, data) in enumerate(self.events):
                    if index not in self.consumed and ns == namespace and name == event \
                            and match(data):
                        self.consumed.add(index)
                        return data
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(ns, name) for ns, name, _ in self.events]
                    raise AssertionError(f"no {event} on {namespace} within {timeout}s; "
                                         f"seen: {seen[-20:]}")
                self.cond.wait(remaining)

    def received(self, event: str, namespace: str, match=lambda data: True) -> list:
        with self.cond:
            return [data for ns, name, data in self.events
                    if ns == namespace and name == event and match(data)]

    def wait_connected(self, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sio.connected and all(ns in self.sio.namespaces for ns in self.namespaces):
                return
            time.sleep(0.05)
        raise AssertionError("client did not (re)connect in time")


def agent(base_url: str, username: str, namespaces=("/queue", "/chat"), **kwargs) -> Peer:
    return Peer(base_url, list(namespaces), headers={"Cookie": login_cookie(base_url, username)},
                **kwargs).connect()


def visitor(base_url: str, token: str, last_message_id: int | None = None, **kwargs) -> Peer:
    auth = {"visitor_token": token}
    if last_message_id is not None:
        auth["last_message_id"] = last_message_id
    return Peer(base_url, ["/chat"], auth=auth, **kwargs).connect()


def client_id() -> str:
    return uuid.uuid4().hex
