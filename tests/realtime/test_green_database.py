"""PostgreSQL under eventlet: a query waiting on the database must not stall the server.

psycopg 3 only knows gevent's patching; wsgi.py sets PSYCOPG_WAIT_FUNC=wait_select so that a
waiting query yields to other green threads (STACK-NOTES). Here a socket event is made to
wait on a table lock held by the test, and the server must keep answering other requests,
including other database queries, meanwhile. (With psycopg's C wait function instead, the
same test hangs: /healthz does not answer until the lock is released.)
"""

from __future__ import annotations

import threading
import time

import pytest
import requests
import sqlalchemy as sa

from tests.conftest import seeded_database
from tests.realtime.peers import client_id, login_cookie, request_chat
from tests.support import databases
from tests.support.server import LiveServer

pytestmark = [pytest.mark.live,
              pytest.mark.skipif(not databases.postgres_admin_url(),
                                 reason="TEST_DATABASE_URL not set")]


@pytest.fixture
def pg_server(tmp_path):
    url = seeded_database("postgresql", tmp_path)
    server = LiveServer(url, log_path=tmp_path / "server.log").start()
    engine = sa.create_engine(url)
    yield server, engine
    engine.dispose()
    server.stop()


def lock_waiters(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"))


def idle_in_transaction(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"))


def test_a_query_waiting_on_a_lock_does_not_stall_the_server(pg_server, peers):
    server, engine = pg_server
    alice = peers.agent(server, "alice")
    bob = peers.agent(server, "bob", namespaces=("/queue",))
    made = request_chat(server.url)
    assert alice.call("accept", {"chat_id": made["chat_id"]}, "/queue")["ok"] is True

    blocked = {}
    with engine.connect() as holder:
        holder.begin()
        holder.execute(sa.text("LOCK TABLE chat_message IN ACCESS EXCLUSIVE MODE"))
        thread = threading.Thread(target=lambda: blocked.update(
            alice.call("history", {"chat_id": made["chat_id"]})))
        thread.start()
        deadline = time.monotonic() + 10
        while lock_waiters(engine) == 0:
            assert time.monotonic() < deadline, "the history query never reached the lock"
            time.sleep(0.05)
        # The server's history query is waiting inside PostgreSQL right now; meanwhile:
        assert requests.get(server.url + "/healthz", timeout=5).json() == {"ok": True}
        waiting = bob.call("waiting_list", {}, "/queue")  # another query, other tables
        assert waiting["ok"] is True
        assert login_cookie(server.url, "maria")  # reads and writes the user table
        assert not blocked  # still waiting for the lock
        holder.rollback()
    thread.join(15)
    assert blocked["ok"] is True and blocked["messages"][0]["body"].startswith("My mail client")


def test_socket_events_leave_no_transaction_open(pg_server, peers):
    server, engine = pg_server
    alice = peers.agent(server, "alice")
    made = request_chat(server.url)
    erin = peers.visitor(server, made["visitor_token"])
    alice.call("accept", {"chat_id": made["chat_id"]}, "/queue")
    for n in range(5):
        erin.call("send", {"chat_id": made["chat_id"], "body": f"line {n}",
                           "client_id": client_id()})
        erin.call("typing", {"chat_id": made["chat_id"], "typing": True})
        alice.call("history", {"chat_id": made["chat_id"], "after_id": 1})
        erin.call("send", {"chat_id": 424242, "body": "x", "client_id": "bad"})  # refused
        alice.call("waiting_list", {}, "/queue")
    assert idle_in_transaction(engine) == 0
