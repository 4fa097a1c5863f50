"""A real HTTP receiver of webhooks on a loopback port (the test's "other system")."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.server import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    raw: bytes
    at: float

    @property
    def json(self) -> dict:
        return json.loads(self.raw)

    @property
    def event(self) -> str:
        return self.json["event"]

    def signed_by(self, secret: str) -> bool:
        """Both signatures check out, as a receiver following the README would verify."""
        body = hmac.new(secret.encode(), self.raw, hashlib.sha256).hexdigest()
        stamp = self.headers["X-Desk-Timestamp"]
        stamped = hmac.new(secret.encode(), stamp.encode() + b"." + self.raw,
                           hashlib.sha256).hexdigest()
        return (hmac.compare_digest(self.headers["X-Desk-Signature"], f"sha256={body}")
                and hmac.compare_digest(self.headers["X-Desk-Timestamp-Signature"],
                                        f"sha256={stamped}"))


class Receiver:
    """Records every POST; answers `status` (a redirect when `location` is set), or hangs
    until released while `hang` is set. Stops and starts again on the same port."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[Received] = []
        self.status = 200
        self.delay = 0.0  # seconds before answering (senders overlap)
        self.location: str | None = None
        self.hang = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/desk"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.hang.is_set():
                    receiver.release.wait(60)
                    return
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers), raw,
                                                      time.monotonic()))
                    receiver._lock.notify_all()
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        # A short poll: stop() (shutdown) waits up to one poll interval.
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self.release.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def events(self) -> list[str]:
        return [item.event for item in self.received]

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{len(self.received)} of {count} deliveries arrived: "
                                         f"{self.events()}")
                self._lock.wait(remaining)
            return list(self.received)
