"""A lost database or message queue shows on the agents' indicator, and clears by itself."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa

from tests.conftest import seeded_database
from tests.realtime.peers import request_chat
from tests.support import databases
from tests.support.private_services import PrivateRedis
from tests.support.server import LiveServer

pytestmark = pytest.mark.live


def has_error(state) -> bool:
    return "error" in state


@pytest.mark.skipif(not databases.postgres_admin_url(), reason="TEST_DATABASE_URL not set")
def test_database_outage_shows_on_the_indicator_and_clears(tmp_path, peers):
    url = seeded_database("postgresql", tmp_path)
    name = sa.make_url(url).database
    server = LiveServer(url, env={"PRESENCE_HEARTBEAT": "1", "REALTIME_SWEEP_INTERVAL": "1"},
                        log_path=tmp_path / "server.log").start()
    admin = sa.create_engine(databases.postgres_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        request_chat(server.url)
        alice = peers.agent(server, "alice", namespaces=("/queue",))
        assert alice.wait("queue_state", "/queue")["total"] == 1
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
            conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = :name"), {"name": name})
        down = alice.wait("queue_state", "/queue", has_error, timeout=20)
        assert down["error"] == "unavailable" and down["total"] is None
        assert alice.sio.connected
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        back = alice.wait("queue_state", "/queue", lambda s: not has_error(s), timeout=20)
        assert back["total"] == 1
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
        admin.dispose()
        server.stop()


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
def test_message_queue_outage_shows_on_the_indicator_and_clears(tmp_path, peers):
    redis_server = PrivateRedis().start()
    server = LiveServer(seeded_database("sqlite", tmp_path),
                        env={"SOCKETIO_MESSAGE_QUEUE": redis_server.url,
                             "REALTIME_SWEEP_INTERVAL": "1"},
                        log_path=tmp_path / "server.log").start()
    try:
        alice = peers.agent(server, "alice", namespaces=("/queue",))
        assert not has_error(alice.wait("queue_state", "/queue"))
        redis_server.stop()
        down = alice.wait("queue_state", "/queue", has_error, timeout=20)
        assert "interrupted" in down["message"]
        redis_server.start()
        back = alice.wait("queue_state", "/queue", lambda s: not has_error(s), timeout=20)
        assert back["queues"]
        # And the desk goes on notifying.
        made = request_chat(server.url)
        assert alice.wait("chat_waiting", "/queue", timeout=20)["chat_id"] == made["chat_id"]
    finally:
        server.stop()
        redis_server.stop()
