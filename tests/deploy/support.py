"""`make cluster` under test: the script in a subprocess, and clients that nginx sees as
different machines.

nginx's ip_hash sends every client of one /24 network to the same app process, so all
clients on 127.0.0.1 would share one. A SourceRelay is a loopback TCP relay whose
connections reach nginx from another loopback address (127.0.K.1): a client connected through
it is, for nginx and the app, a different machine.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.server import ROOT, free_port
from tests.support.tcp import join

SCRIPT = ROOT / "deploy" / "cluster.py"


class SourceRelay:
    """127.0.0.1:<port> → nginx, from the source address `source`."""

    def __init__(self, target_port: int, source: str) -> None:
        self.target_port, self.source = target_port, source
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port),
                                                    source_address=(self.source, 0))
            except OSError:
                client.close()
                continue
            self.open += [client, upstream]
            join(client, upstream)

    def close(self) -> None:
        self.listener.close()
        for sock in self.open:
            sock.close()


@dataclass
class RunningCluster:
    process: subprocess.Popen
    url: str
    port: int
    run_dir: Path
    output: Path

    def state(self) -> dict:
        return json.loads((self.run_dir / "cluster.json").read_text())

    def app_ports(self) -> list[int]:
        return [app["port"] for app in self.state()["apps"]]

    def output_text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_output(self, text: str, timeout: float = 60, after: int = 0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output_text()[after:]:
            if self.process.poll() is not None:
                raise AssertionError(f"cluster exited with {self.process.returncode}:\n"
                                     + self.output_text()[-3000:])
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} from the cluster within {timeout}s:\n"
                                     + self.output_text()[-3000:])
            time.sleep(0.1)

    def upstream_of(self, relay: SourceRelay) -> int:
        """The app port that nginx sends this relay's client to (ip_hash)."""
        reply = requests.get(relay.url + "/healthz", timeout=5)
        request_id = reply.headers["X-Request-Id"]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for line in (self.run_dir / "nginx-access.log").read_text().splitlines():
                if f"request_id={request_id}" in line:
                    return int(re.search(r"upstream=\S+:(\d+)\b", line).group(1))
            time.sleep(0.05)
        raise AssertionError(f"request {request_id} not in nginx's access log")

    def app_log_lines(self) -> list[dict]:
        """Every JSON line the app processes logged (LOG_FORMAT=json)."""
        lines = []
        for index, _port in enumerate(self.app_ports()):
            for line in (self.run_dir / f"app-{index + 1}.log").read_text().splitlines():
                if line.startswith("{"):
                    lines.append({**json.loads(line), "app_port": self.app_ports()[index]})
        return lines

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # as Ctrl-C
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode


def start_cluster(run_dir: Path, database_url: str, redis_url: str, channel: str,
                  extra_env: dict | None = None) -> RunningCluster:
    """`python deploy/cluster.py` (what `make cluster` runs) on free loopback ports."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST_"))}
    env.update({"DATABASE_URL": database_url, "SOCKETIO_MESSAGE_QUEUE": redis_url,
                "SOCKETIO_CHANNEL": channel, "CLUSTER_PORT": str(port),
                "CLUSTER_DIR": str(run_dir), "CLUSTER_SEED_DEMO": "true",
                **(extra_env or {})})
    output = run_dir / "cluster.out"
    with open(output, "wb") as out:
        process = subprocess.Popen([sys.executable, str(SCRIPT)], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    cluster = RunningCluster(process, f"http://127.0.0.1:{port}", port, run_dir, output)
    try:
        cluster.wait_output(f"Service Desk Chat cluster on http://127.0.0.1:{port}/", 90)
    except BaseException:
        cluster.stop()
        raise
    return cluster
