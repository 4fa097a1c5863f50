"""Start and stop the servers under test: the real app (``python wsgi.py``) and the floor.

Also prepares the app's database the way an installation would: tables, the demo desk, and
as many extra agents as the load needs (through the service layer's own create_user).
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = "bench-secret-key"
AGENT_PASSWORD = "bench-passphrase"
QUEUES = ("Hardware", "Software", "Network")


def raise_fd_limit() -> int:
    """Lift the soft open-files limit to the hard one (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Process:
    """A server subprocess on a loopback port, ready once /healthz answers."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    log_path: Path
    popen: subprocess.Popen | None = None
    _log: object = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 40) -> Process:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=self._log,
                                      stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}; "
                                   f"see {self.log_path}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not start on {self.url}; see {self.log_path}")

    def rss(self) -> int:
        """Resident memory of the server process, bytes."""
        return psutil.Process(self.popen.pid).memory_info().rss

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.popen.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self.popen = None
        if self._log is not None:
            self._log.close()
            self._log = None


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TEST_", "PYTEST_", "FLASK_RUN"))}
    env.update({"PYTHONUNBUFFERED": "1", "EVENTLET_NO_GREENDNS": "yes"})
    return env


def app_process(database_url: str, log_dir: Path, *, redis_url: str | None = None,
                channel: str | None = None, index: int = 0,
                extra_env: dict[str, str] | None = None) -> Process:
    port = free_port()
    env = _base_env()
    env.update({
        "APP_ENV": "production",
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SECRET_KEY": SECRET_KEY,
        "ASYNC_MODE": "eventlet",
        "RATELIMIT_ENABLED": "false",
        "MAIL_WORKER_INTERVAL": "0",
        "MAX_CONNECTIONS": "12000",
        # Each simulated visitor types faster than any person: lift the per-socket flood
        # limit so that it measures the server, not the limiter.
        "SOCKET_EVENTS_PER_SECOND": "1000",
        "SOCKET_EVENT_BURST": "1000",
        # A simulated agent holds as many chats as the load gives him.
        "CHAT_MAX_PER_AGENT": "1000000",
        "SOCKETIO_CHANNEL": channel or f"bench-{uuid.uuid4().hex[:8]}",
    })
    if redis_url:
        env["SOCKETIO_MESSAGE_QUEUE"] = redis_url
    else:
        env.pop("SOCKETIO_MESSAGE_QUEUE", None)
    env.update(extra_env or {})
    return Process(f"app#{index}", [sys.executable, str(ROOT / "wsgi.py")], env, port,
                   log_dir / f"app-{index}-{port}.log")


def floor_process(log_dir: Path, *, redis_url: str | None = None, channel: str | None = None,
                  index: int = 0) -> Process:
    port = free_port()
    # TCP_NODELAY: without it the bare relay stalls ~40 ms per round trip at low load
    # (Nagle's algorithm meeting the client's delayed ACK), which is not the stack's floor.
    argv = [sys.executable, str(ROOT / "bench" / "floor_server.py"), "--port", str(port),
            "--max-connections", "12000", "--nodelay"]
    if redis_url:
        argv += ["--redis", redis_url, "--channel", channel or f"floor-{uuid.uuid4().hex[:8]}"]
    return Process(f"floor#{index}", argv, _base_env(), port,
                   log_dir / f"floor-{index}-{port}.log")


# --- databases ---------------------------------------------------------------------------

def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / f'bench-{uuid.uuid4().hex[:8]}.sqlite3'}"


def create_postgres_database(admin_url: str) -> str:
    import sqlalchemy as sa

    url = _psycopg(admin_url)
    name = f"sdc_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(admin_url: str, database_url: str) -> None:
    import sqlalchemy as sa

    name = sa.make_url(database_url).database
    engine = sa.create_engine(_psycopg(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def _psycopg(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def prepare_database(database_url: str, *, agents: int, idle_visitors: int = 0
                     ) -> tuple[list[tuple[str, str]], list[str]]:
    """Tables + demo desk + `agents` extra agents in every queue (+ waiting chats).

    Returns the agents' (username, password) and visitor tokens of `idle_visitors` waiting
    chats, opened through the service layer as the HTTP API would open them. Runs in a child
    process, so the driver never builds the app itself.
    """
    answer = subprocess.run(
        [sys.executable, "-m", "bench.servers", database_url, str(agents), str(idle_visitors)],
        cwd=ROOT, env=_base_env(), capture_output=True, text=True, timeout=900, check=False)
    if answer.returncode != 0:
        raise RuntimeError(f"preparing the database failed:\n{answer.stderr[-3000:]}")
    data = json.loads(answer.stdout.strip().splitlines()[-1])
    return [tuple(login) for login in data["logins"]], data["tokens"]


def _prepare(database_url: str, agents: int, idle_visitors: int) -> dict:
    from app import create_app, demo
    from app.desk import chats, people
    from app.desk.tokens import make_visitor_token
    from app.extensions import db
    from app.models import Role

    application = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    logins: list[tuple[str, str]] = []
    tokens: list[str] = []
    with application.app_context():
        db.create_all()
        demo.seed_demo()
        for number in range(agents):
            username = f"bench{number:04d}"
            people.create_user(username, AGENT_PASSWORD, display_name=f"Bench Agent {number}",
                               email=f"{username}@bench.example", role=Role.AGENT,
                               groups=list(QUEUES))
            logins.append((username, AGENT_PASSWORD))
        for number in range(idle_visitors):
            opened = chats.request_chat(name=f"Idle Visitor {number}",
                                        email=f"idle{number % 500}@bench.example",
                                        queue=QUEUES[number % len(QUEUES)],
                                        question="Just waiting, thank you.")
            tokens.append(make_visitor_token(SECRET_KEY, opened.chat))
        db.session.remove()
        db.engine.dispose()
    return {"logins": logins, "tokens": tokens}


if __name__ == "__main__":
    print(json.dumps(_prepare(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
