"""A Socket.IO client that stops reading: a raw TCP socket that completes the WebSocket and
Engine.IO handshakes, connects a namespace, and from then on only writes (its receive buffer
is small, so the server's sends fill its TCP window at once)."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import time

RECEIVE_BUFFER = 4096


class StuckClient:
    def __init__(self, base_url: str, namespace: str, auth: dict, timeout: float = 10) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        self.sock.settimeout(timeout)
        self.sock.connect((host, int(port)))
        self.buffer = b""
        self.namespace = namespace
        self.next_ack = 0
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buffer:
            self._more()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head
        opened = self.frame()
        assert opened.startswith("0{"), opened  # Engine.IO OPEN
        self.send_text(f"40{namespace},{json.dumps(auth)}")
        while True:  # until the namespace's CONNECT arrives (or its refusal)
            text = self.frame()
            if text.startswith(f"40{namespace},"):
                break
            assert not text.startswith(f"44{namespace},"), text

    def _more(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server")
        self.buffer += chunk

    def _take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self._more()
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def frame(self) -> str:
        """The next WebSocket text frame (only used during the handshake)."""
        first, second = self._take(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._take(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._take(8))[0]
        return self._take(length).decode()

    def send_text(self, text: str) -> None:
        data = text.encode()
        mask = os.urandom(4)
        if len(data) < 126:
            header = struct.pack("!BB", 0x81, 0x80 | len(data))
        else:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, len(data))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(header + mask + masked)

    def emit(self, event: str, data: dict) -> None:
        """A Socket.IO event with an acknowledgement id (whose answer it will never read)."""
        self.next_ack += 1
        self.send_text(f"42{self.namespace},{self.next_ack}{json.dumps([event, data])}")

    def closed_by_server(self, timeout: float) -> bool:
        """Read everything now: whether the server closed the connection within `timeout`."""
        self.sock.settimeout(0.5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if not self.sock.recv(1 << 20):
                    return True
            except TimeoutError:
                continue
            except OSError:
                return True
        return False

    def close(self) -> None:
        self.sock.close()
