"""Helpers for the console's browser tests: an end user on the real wire, and page checks.

The end user is a python-socketio *sync* client (threads, no asyncio loop), because
Playwright's sync API refuses to run inside a running asyncio loop.
"""

from __future__ import annotations

import threading
import time

import requests
import socketio

from tests.support.accounts import http_session

WAIT = 10.0
EVENTS = ("history", "message", "agent_joined", "typing", "chat_closed", "queue_position",
          "chat_transferred")


class Visitor:
    """An end user who asked for a chat over HTTP and listens on /chat with his token."""

    def __init__(self, base_url: str, *, queue: str, question: str, name: str = "Jane Doe",
                 email: str = "jane.doe@example.com", phone: str = "+1 555 0199") -> None:
        response = requests.post(f"{base_url}/api/chat-requests", timeout=WAIT, json={
            "name": name, "email": email, "phone": phone, "queue": queue, "question": question})
        assert response.status_code == 201, response.text
        self.info = response.json()
        self.chat_id: int = self.info["chat_id"]
        self.sr_number: str = self.info["sr_number"]
        self.name = name
        self.received: list[tuple[str, dict]] = []
        self._changed = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        for event in EVENTS:
            self.sio.on(event, self._recorder(event), namespace="/chat")
        self.sio.connect(base_url, namespaces=["/chat"], transports=["websocket"],
                         auth={"visitor_token": self.info["visitor_token"]}, wait_timeout=WAIT)

    def _recorder(self, event: str):
        def record(data):
            with self._changed:
                self.received.append((event, data))
                self._changed.notify_all()
        return record

    def wait_for(self, event: str, match=lambda data: True, timeout: float = WAIT) -> dict:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for name, data in self.received:
                    if name == event and match(data):
                        return data
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {event} within {timeout}s; got {self.received}")
                self._changed.wait(left)

    def events(self, event: str) -> list[dict]:
        with self._changed:
            return [data for name, data in self.received if name == event]

    def send(self, body: str, client_id: str) -> dict:
        ack = self.sio.call("send", {"chat_id": self.chat_id, "body": body,
                                     "client_id": client_id}, namespace="/chat", timeout=WAIT)
        assert ack["ok"], ack
        return ack["message"]

    def typing(self, on: bool) -> None:
        self.sio.emit("typing", {"chat_id": self.chat_id, "typing": on}, namespace="/chat")

    def leave(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


def set_indicator_style(base_url: str, username: str, style: str) -> None:
    """Choose an agent's indicator style through the console's own endpoint."""
    session = http_session(base_url, username, "demo", WAIT)
    meta = session.get(f"{base_url}/my-work", timeout=WAIT).text
    csrf = meta.split('<meta name="csrf-token" content="')[1].split('"')[0]
    saved = session.post(f"{base_url}/agent/api/preferences", json={"indicator_style": style},
                         headers={"X-CSRFToken": csrf}, timeout=WAIT)
    assert saved.status_code == 200, saved.text


def screenshot_around(locator, path: str, pad: int = 12) -> None:
    """A screenshot of an element with some room around it (badges overflow their box)."""
    box = locator.bounding_box()
    locator.page.screenshot(path=path, animations="disabled", clip={
        "x": max(0, box["x"] - pad), "y": max(0, box["y"] - pad),
        "width": box["width"] + 2 * pad, "height": box["height"] + 2 * pad})
