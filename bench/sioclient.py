"""A lean asyncio Socket.IO v5 client (Engine.IO v4 over WebSocket), for load driving.

python-socketio's AsyncClient needs aiohttp, and its threaded Client spends two threads per
connection; a driver that holds 5,000 sockets needs something lighter. This speaks just the
part of the protocol the benchmark uses: WebSocket transport only, text packets, several
namespaces per connection, events, acknowledgements, and answering the server's pings. It is
built on wsproto (already installed with python-engineio's simple-websocket).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Message,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)


class ConnectError(Exception):
    """The server refused the WebSocket or a namespace connection."""


class Connection:
    """One Engine.IO WebSocket carrying any number of Socket.IO namespaces."""

    def __init__(self, url: str, *, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.headers = dict(headers or {})
        self.handlers: dict[tuple[str, str], Callable] = {}
        self.connected = False
        self.closed = asyncio.Event()
        self._ws = WSConnection(ConnectionType.CLIENT)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._open: asyncio.Future | None = None
        self._namespaces: dict[str, asyncio.Future] = {}
        self._acks: dict[tuple[str, int], asyncio.Future] = {}
        self._ack_ids = 0
        self._text: list[str] = []
        self._task: asyncio.Task | None = None

    # --- public ---------------------------------------------------------------------------

    def on(self, namespace: str, event: str, handler: Callable) -> None:
        """Call handler(*args) for each `event` the server sends on `namespace`."""
        self.handlers[(namespace, event)] = handler

    async def open(self, timeout: float = 20) -> Connection:
        loop = asyncio.get_running_loop()
        self._open = loop.create_future()
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), timeout)
        extra = [(k.encode(), v.encode()) for k, v in self.headers.items()]
        self._send_raw(self._ws.send(Request(
            host=f"{self.host}:{self.port}", target="/socket.io/?EIO=4&transport=websocket",
            extra_headers=extra)))
        self._task = asyncio.create_task(self._read_loop())
        await asyncio.wait_for(self._open, timeout)
        return self

    async def join(self, namespace: str, auth: dict | None = None, timeout: float = 20) -> dict:
        """Connect a namespace; returns the server's connect data or raises ConnectError."""
        future = asyncio.get_running_loop().create_future()
        self._namespaces[namespace] = future
        payload = json.dumps(auth) if auth is not None else ""
        self._send_text("40" + self._prefix(namespace) + payload)
        return await asyncio.wait_for(future, timeout)

    async def call(self, namespace: str, event: str, data: object, timeout: float = 20):
        """Emit an event and wait for its acknowledgement (the first ack argument)."""
        self._ack_ids += 1
        ack_id = self._ack_ids
        future = asyncio.get_running_loop().create_future()
        self._acks[(namespace, ack_id)] = future
        self._send_text("42" + self._prefix(namespace) + str(ack_id)
                        + json.dumps([event, data], separators=(",", ":")))
        try:
            args = await asyncio.wait_for(future, timeout)
        finally:
            self._acks.pop((namespace, ack_id), None)
        return args[0] if args else None

    def emit(self, namespace: str, event: str, data: object) -> None:
        self._send_text("42" + self._prefix(namespace)
                        + json.dumps([event, data], separators=(",", ":")))

    async def close(self) -> None:
        if self._writer is None:
            return
        try:
            if self.connected:
                self._send_raw(self._ws.send(CloseConnection(code=1000)))
        except Exception:  # noqa: BLE001 - already gone
            pass
        self.connected = False
        if self._task is not None:
            self._task.cancel()
        try:
            self._writer.close()
        except Exception:  # noqa: BLE001
            pass
        self.closed.set()

    # --- protocol -------------------------------------------------------------------------

    @staticmethod
    def _prefix(namespace: str) -> str:
        return "" if namespace == "/" else namespace + ","

    def _send_raw(self, data: bytes) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(data)

    def _send_text(self, text: str) -> None:
        if not self.connected:
            raise ConnectError("connection closed")
        self._send_raw(self._ws.send(Message(data=text)))

    async def _read_loop(self) -> None:
        try:
            while True:
                data = await self._reader.read(65536)
                if not data:
                    break
                self._ws.receive_data(data)
                for event in self._ws.events():
                    self._on_ws_event(event)
        except (ConnectionError, asyncio.CancelledError, OSError):
            pass
        finally:
            self.connected = False
            self.closed.set()
            error = ConnectError("connection closed")
            for future in [self._open, *self._namespaces.values(), *self._acks.values()]:
                if future is not None and not future.done():
                    future.set_exception(error)

    def _on_ws_event(self, event) -> None:
        if isinstance(event, AcceptConnection):
            self.connected = True
        elif isinstance(event, RejectConnection):
            if self._open and not self._open.done():
                self._open.set_exception(ConnectError(f"websocket refused: {event.status_code}"))
        elif isinstance(event, TextMessage):
            self._text.append(event.data)
            if event.message_finished:
                text, self._text = "".join(self._text), []
                self._on_engineio(text)
        elif isinstance(event, BytesMessage):
            pass  # the contract uses no binary payloads
        elif isinstance(event, Ping):
            self._send_raw(self._ws.send(event.response()))
        elif isinstance(event, CloseConnection):
            try:
                self._send_raw(self._ws.send(event.response()))
            except Exception:  # noqa: BLE001
                pass
            self.connected = False

    def _on_engineio(self, text: str) -> None:
        kind, body = text[:1], text[1:]
        if kind == "0":
            if self._open and not self._open.done():
                self._open.set_result(json.loads(body))
        elif kind == "2":
            self._send_text("3" + body)
        elif kind == "4":
            self._on_socketio(body)
        elif kind == "1":
            self.connected = False

    def _on_socketio(self, packet: str) -> None:
        kind, rest = packet[:1], packet[1:]
        namespace = "/"
        if rest.startswith("/"):
            comma = rest.find(",")
            if comma < 0:
                namespace, rest = rest, ""
            else:
                namespace, rest = rest[:comma], rest[comma + 1:]
        digits = 0
        while digits < len(rest) and rest[digits].isdigit():
            digits += 1
        ack_id = int(rest[:digits]) if digits else None
        data = json.loads(rest[digits:]) if rest[digits:] else None
        if kind == "0":
            future = self._namespaces.get(namespace)
            if future is not None and not future.done():
                future.set_result(data or {})
        elif kind == "4":
            future = self._namespaces.get(namespace)
            if future is not None and not future.done():
                future.set_exception(ConnectError(json.dumps(data)))
        elif kind == "2" and data:
            handler = self.handlers.get((namespace, data[0]))
            if handler is not None:
                handler(*data[1:])
        elif kind == "3" and ack_id is not None:
            future = self._acks.get((namespace, ack_id))
            if future is not None and not future.done():
                future.set_result(data or [])
        elif kind == "1":
            future = self._namespaces.get(namespace)
            if future is not None and not future.done():
                future.set_exception(ConnectError("namespace disconnected"))
