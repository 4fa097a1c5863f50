"""Faults from outside, over real sockets, with the documented reconnecting client
(tests/support/desk_client.py): an end user and an agent chat through two server processes
while one of them is SIGKILLed, while Redis is down, while PostgreSQL restarts. Checked message
by message: every acknowledged message is stored exactly once and reaches the other side,
nothing is shown twice, and no `send` is acknowledged that was not stored."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, text

from tests.realtime.peers import Peer, login_cookie, request_chat
from tests.support.desk_client import DeskClient

pytestmark = pytest.mark.fault

CATCH_UP = 30  # seconds the clients get, after the fault ends, to hold everything (a busy CI box)
PER_SIDE = 24  # messages each side sends during a test
INTERVAL = 0.25  # between two messages of one side (under the event budget of 5 a second)


class Conversation:
    """An accepted chat: the end user's client on `end_user_urls`, Alice's on `agent_urls`."""

    def __init__(self, database_url: str, end_user_urls: list[str], agent_urls: list[str],
                 email: str) -> None:
        self.database_url = database_url
        made = request_chat(end_user_urls[0], email=email)
        self.chat_id = made["chat_id"]
        queue = Peer(agent_urls[0], ["/queue"],
                     headers={"Cookie": login_cookie(agent_urls[0], "alice")}).connect()
        try:
            assert queue.call("accept", {"chat_id": self.chat_id}, "/queue")["ok"] is True
        finally:
            queue.disconnect()
        self.end_user = DeskClient(end_user_urls, visitor_token=made["visitor_token"],
                                   chat_id=self.chat_id)
        self.agent = DeskClient(agent_urls, cookie=login_cookie(agent_urls[0], "alice"))
        assert self.agent.wait_for(lambda: self.chat_id in self.agent.messages, 10)
        self.sent: dict[str, list[str]] = {"end_user": [], "agent": []}

    def talk(self, during: float) -> None:
        """Both sides send, one message every INTERVAL, for `during` seconds (in threads)."""
        def side(name, client):
            deadline = time.monotonic() + during
            n = 0
            while time.monotonic() < deadline and n < PER_SIDE:
                self.sent[name].append(client.send(self.chat_id, f"{name} {n}"))
                n += 1
                time.sleep(INTERVAL)
        self.threads = [threading.Thread(target=side, args=("end_user", self.end_user)),
                        threading.Thread(target=side, args=("agent", self.agent))]
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        for thread in self.threads:
            thread.join()

    def check(self) -> None:
        """The strong property, message by message."""
        everyone = self.sent["end_user"] + self.sent["agent"]

        def settled():
            return not self.end_user.unsent and not self.agent.unsent and all(
                {m["client_id"] for m in client.holds(self.chat_id).values()} >= set(everyone)
                for client in (self.end_user, self.agent))

        settled_in_time = self.end_user.wait_for(settled, CATCH_UP)
        engine = create_engine(self.database_url.replace("postgresql://",
                                                         "postgresql+psycopg://"))
        with engine.connect() as conn:
            stored = [row[0] for row in conn.execute(text(
                "SELECT client_id FROM chat_message WHERE chat_id = :c ORDER BY seq"),
                {"c": self.chat_id})]
            seqs = [row[0] for row in conn.execute(text(
                "SELECT seq FROM chat_message WHERE chat_id = :c ORDER BY seq"),
                {"c": self.chat_id})]
        engine.dispose()
        # Acknowledged means stored: no false success, whatever failed.
        for client in (self.end_user, self.agent):
            assert set(client.acked) <= set(stored)
            assert not client.refused, client.refused
        # Stored exactly once, numbered without gaps.
        assert len(stored) == len(set(stored))
        assert seqs == list(range(1, len(seqs) + 1))
        assert settled_in_time, (
            f"unsent: {len(self.end_user.unsent)}/{len(self.agent.unsent)}; missing at the "
            f"agent: {set(everyone) - {m['client_id'] for m in self.agent.holds(self.chat_id).values()}}; "
            f"at the end user: {set(everyone) - {m['client_id'] for m in self.end_user.holds(self.chat_id).values()}}")
        assert set(everyone) <= set(stored)
        # Shown once: each client holds one message per client id, the same ones as stored.
        for client in (self.end_user, self.agent):
            held = [m["client_id"] for m in client.holds(self.chat_id).values()]
            assert sorted(held) == sorted(stored)

    def close(self) -> None:
        self.end_user.close()
        self.agent.close()


@pytest.mark.parametrize("killed", ["end_user", "agent"])
def test_sigkill_of_either_process_loses_and_doubles_nothing(both_up, desk_database, killed):
    a, b = both_up
    # The killed side's process is A; each client falls over to B, as behind the proxy.
    urls = {"end_user": [b.url, a.url], "agent": [b.url, a.url]}
    urls[killed] = [a.url, b.url]
    talk = Conversation(desk_database, urls["end_user"], urls["agent"],
                        f"sigkill-{killed}@example.org")
    try:
        talk.talk(during=PER_SIDE * INTERVAL)
        time.sleep(PER_SIDE * INTERVAL / 2)
        a.process.kill()
        a.process.wait(5)
        talk.finish()
        talk.check()
    finally:
        talk.close()


def test_redis_outage_catches_up_when_redis_returns(both_up, desk_database, redis_instance):
    a, b = both_up
    talk = Conversation(desk_database, [a.url, b.url], [b.url, a.url], "redis-outage@example.org")
    indicator = Peer(b.url, ["/queue"], headers={"Cookie": login_cookie(b.url, "bob")}).connect()
    try:
        indicator.wait("queue_state", "/queue", lambda s: "error" not in s)
        talk.talk(during=PER_SIDE * INTERVAL)
        time.sleep(1)
        redis_instance.stop()
        # The agents' indicators show the outage...
        indicator.wait("queue_state", "/queue", lambda s: s.get("error") == "unavailable", 20)
        time.sleep(3)
        redis_instance.start()
        talk.finish()
        talk.check()
        # ... and clear by themselves.
        indicator.wait("queue_state", "/queue", lambda s: "error" not in s, 30)
        assert talk.end_user.resyncs + talk.agent.resyncs >= 1
    finally:
        indicator.disconnect()
        talk.close()


def test_postgresql_restart_never_acknowledges_what_it_did_not_store(
        both_up, desk_database, postgres_instance):
    a, b = both_up
    talk = Conversation(desk_database, [a.url, b.url], [b.url, a.url],
                        "postgres-restart@example.org")
    try:
        talk.talk(during=PER_SIDE * INTERVAL)
        time.sleep(1)
        postgres_instance.stop()
        time.sleep(3)
        postgres_instance.start()
        talk.finish()
        talk.check()
    finally:
        talk.close()
