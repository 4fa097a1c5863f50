"""The reconnecting client of docs/protocol.md ("Reconnecting", "Delivery"), in Python.

It keeps, per chat, every message it holds (by id) and the highest id and seq; it passes its
cursors in `auth` at each (re)connection, fetches the pages of `history` while `more`, fetches
after its last id when a message's seq leaves a gap, when a history page is behind the chat's
`last_seq` or when the server says `resync`; it re-sends every `send` without an
acknowledgement, with the same `client_id`, after each reconnection. Like a browser behind a
load balancer, it reconnects to the next of its server addresses when one stops answering.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid

import socketio

ACK_SECONDS = 5


class DeskClient:
    def __init__(self, urls: list[str], *, visitor_token: str | None = None,
                 cookie: str | None = None, chat_id: int | None = None) -> None:
        self.urls = list(urls)
        self._next_url = itertools.cycle(range(len(self.urls)))
        self.url_index = next(self._next_url)
        self.visitor_token = visitor_token
        self.cookie = cookie
        self.chat_id = chat_id
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.messages: dict[int, dict[int, dict]] = {}  # chat id -> {message id: message}
        self.deliveries: dict[int, int] = {}  # message id -> times shown (re-renders excluded)
        self.last_id: dict[int, int] = {}
        self.last_seq: dict[int, int] = {}
        # The highest n such that the client holds seqs 1..n (what it asks to follow).
        self.contiguous: dict[int, int] = {}
        self._seqs: dict[int, set[int]] = {}
        self.unsent: dict[str, dict] = {}  # client id -> send payload, until acknowledged
        self.acked: dict[str, dict] = {}  # client id -> the stored message
        self.refused: dict[str, dict] = {}
        self.frames: list[int] = []  # messages per history frame received
        self.resyncs = 0
        self.errors: list = []  # refused or failed fetches
        self.connections = 0
        self.closed = False
        self._fetching: set[int] = set()
        self._fetch_again: set[int] = set()
        self._after_connect: set[int] = set()
        self.sio = self._client()
        self._connect_loop()
        threading.Thread(target=self._retry_loop, daemon=True).start()

    # --- connection ------------------------------------------------------------------------

    def _auth(self) -> dict:
        with self.lock:
            if self.visitor_token:
                auth = {"visitor_token": self.visitor_token}
                if self.last_id.get(self.chat_id):
                    auth["last_message_id"] = self.last_id[self.chat_id]
                return auth
            return {"last_message_ids": {str(c): i for c, i in self.last_id.items()}}

    def _client(self) -> socketio.Client:
        sio = socketio.Client(reconnection=False)
        sio.on("connect", self._on_connect, namespace="/chat")
        sio.on("disconnect", self._on_disconnect, namespace="/chat")
        sio.on("history", self._on_history, namespace="/chat")
        sio.on("message", self._on_message, namespace="/chat")
        sio.on("resync", self._on_resync, namespace="/chat")
        return sio

    def _connect_loop(self) -> None:
        """Connect to one of the addresses, trying the next while one does not answer."""
        while not self.closed:
            url = self.urls[self.url_index]
            headers = {"Cookie": self.cookie} if self.cookie else {}
            try:
                self.sio.connect(url, namespaces=["/chat"], transports=["websocket"],
                                 headers=headers, auth=self._auth, wait_timeout=3)
                return
            except socketio.exceptions.ConnectionError:
                self.sio = self._client()
                self.url_index = next(self._next_url)
                time.sleep(0.2)

    def _on_connect(self) -> None:
        with self.lock:
            self.connections += 1
            self._fetching.clear()
            pending = list(self.unsent.values())
            fetches, self._after_connect = self._after_connect, set()
        for payload in pending:  # re-sent with the same client id
            self._emit_send(payload)
        for chat_id in fetches:
            self.fetch(chat_id)

    def _on_disconnect(self, reason=None) -> None:
        if self.closed:
            return
        self.sio = self._client()
        threading.Thread(target=self._connect_loop, daemon=True).start()

    def close(self) -> None:
        self.closed = True
        self.sio.disconnect()

    # --- receiving -------------------------------------------------------------------------

    def _hold(self, message: dict) -> bool:
        """Keep a message; whether its seq leaves a gap behind it."""
        chat_id = message["chat_id"]
        with self.changed:
            held = self.messages.setdefault(chat_id, {})
            gap = message["seq"] > self.last_seq.get(chat_id, 0) + 1
            if message["id"] not in held:
                held[message["id"]] = message
                self.deliveries[message["id"]] = self.deliveries.get(message["id"], 0) + 1
            self.last_id[chat_id] = max(self.last_id.get(chat_id, 0), message["id"])
            self.last_seq[chat_id] = max(self.last_seq.get(chat_id, 0), message["seq"])
            seqs = self._seqs.setdefault(chat_id, set())
            seqs.add(message["seq"])
            n = self.contiguous.get(chat_id, 0)
            while n + 1 in seqs:
                n += 1
            self.contiguous[chat_id] = n
            self.changed.notify_all()
            return gap or n < self.last_seq[chat_id]

    def _on_history(self, page: dict, fetched: bool = False) -> None:
        chat_id = page["chat_id"]
        with self.lock:
            self.frames.append(len(page["messages"]))
        for message in page["messages"]:
            self._hold(message)
        with self.lock:
            behind = max(page.get("last_seq", 0), self.last_seq.get(chat_id, 0)) > \
                self.contiguous.get(chat_id, 0)
        if page["messages"] and (page.get("more") or behind):
            self.fetch(chat_id)

    def _on_message(self, message: dict) -> None:
        if self._hold(message):
            self.fetch(message["chat_id"])

    def _on_resync(self, data=None) -> None:
        with self.lock:
            self.resyncs += 1
            chats = list(self.messages) if not data or data.get("chat_id") is None \
                else [data["chat_id"]]
        for chat_id in chats:
            self.fetch(chat_id)

    def fetch(self, chat_id: int) -> None:
        """`history` after the last seq held without a gap, page after page (one fetch at a
        time)."""
        with self.lock:
            if chat_id in self._fetching:
                self._fetch_again.add(chat_id)
                return
            self._fetching.add(chat_id)
            self._fetch_again.discard(chat_id)
            payload = {"chat_id": chat_id, "after_seq": self.contiguous.get(chat_id, 0)}

        def answered(page=None):
            with self.lock:
                self._fetching.discard(chat_id)
                again = chat_id in self._fetch_again
            if not (isinstance(page, dict) and page.get("ok")):
                self.errors.append(page)
            if isinstance(page, dict) and page.get("ok"):
                self._on_history(page)
            elif isinstance(page, dict) and page.get("error") in ("rate_limited", "unavailable"):
                threading.Timer(1.0, self.fetch, (chat_id,)).start()  # later, as told
            elif again:
                self.fetch(chat_id)

        try:
            self.sio.emit("history", payload, namespace="/chat", callback=answered)
        except socketio.exceptions.SocketIOError:
            # The connect handler's history can come before the namespace counts as
            # connected here: fetched once it does.
            with self.lock:
                self._fetching.discard(chat_id)
                self._after_connect.add(chat_id)

    # --- sending ---------------------------------------------------------------------------

    def send(self, chat_id: int, body: str) -> str:
        client_id = uuid.uuid4().hex
        payload = {"chat_id": chat_id, "body": body, "client_id": client_id}
        with self.lock:
            self.unsent[client_id] = payload
        self._emit_send(payload)
        return client_id

    def _emit_send(self, payload: dict) -> None:
        client_id = payload["client_id"]

        def answered(ack=None):
            if not isinstance(ack, dict):
                return
            with self.changed:
                if ack.get("ok"):
                    self.acked[client_id] = ack["message"]
                    self.unsent.pop(client_id, None)
                elif ack.get("error") in ("unavailable", "server_error", "rate_limited"):
                    return  # stays unsent: re-sent at the next connection
                else:
                    self.refused[client_id] = ack
                    self.unsent.pop(client_id, None)
                self.changed.notify_all()
            if ack.get("ok") and self._hold(ack["message"]):
                self.fetch(ack["message"]["chat_id"])

        try:
            self.sio.emit("send", payload, namespace="/chat", callback=answered)
        except socketio.exceptions.SocketIOError:
            pass  # not connected: re-sent at the next connection

    def _retry_loop(self) -> None:
        """Its own timer: what has had no answer for a while is tried again (an error such as
        `unavailable` while the database is down leaves a message unsent)."""
        while not self.closed:
            time.sleep(ACK_SECONDS / 2)
            if self.sio.connected:
                with self.lock:
                    pending = list(self.unsent.values())
                for payload in pending:
                    self._emit_send(payload)

    # --- for the tests -----------------------------------------------------------------------

    def wait_for(self, condition, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.changed.wait(min(remaining, 0.5))
            return True

    def holds(self, chat_id: int) -> dict[int, dict]:
        with self.lock:
            return dict(self.messages.get(chat_id, {}))
