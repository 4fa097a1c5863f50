"""The official Socket.IO JavaScript client under Node, as an end user (tests/node/visitor.mjs)."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "node" / "visitor.mjs"
TIMEOUT = 10


def node_available() -> bool:
    return shutil.which("node") is not None and (ROOT / "node_modules" / "socket.io-client").exists()


class NodeVisitor:
    def __init__(self, base_url: str, auth: dict) -> None:
        self.lines: list[dict] = []
        self.consumed: set[int] = set()
        self.cond = threading.Condition()
        self.ids = itertools.count(1)
        self.process = subprocess.Popen(
            ["node", str(SCRIPT), base_url, json.dumps(auth)], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self.cond:
                self.lines.append(json.loads(line))
                self.cond.notify_all()

    def _send(self, command: dict) -> None:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def next(self, match, timeout: float = TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for index, line in enumerate(self.lines):
                    if index not in self.consumed and match(line):
                        self.consumed.add(index)
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"Node visitor: nothing matching within {timeout}s; "
                                         f"got {self.lines[-10:]}")
                self.cond.wait(remaining)

    def wait(self, event: str, match=lambda data: True, timeout: float = TIMEOUT):
        return self.next(lambda line: line["type"] == "event" and line["event"] == event
                         and match(line["data"]), timeout)["data"]

    def wait_type(self, kind: str, timeout: float = TIMEOUT) -> dict:
        return self.next(lambda line: line["type"] == kind, timeout)

    def call(self, event: str, data) -> dict:
        ident = next(self.ids)
        self._send({"op": "emit", "id": ident, "event": event, "data": data})
        return self.next(lambda line: line["type"] == "ack" and line["id"] == ident)["data"]

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self._send({"op": "exit"})
                self.process.wait(5)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(5)
