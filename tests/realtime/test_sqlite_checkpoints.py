"""A server on SQLite copies its write-ahead log into the database file by itself, in a
thread, instead of in the commit that takes the log past SQLite's 1,000 pages (which held
every chat of the process while it synced the disk)."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from tests.realtime.peers import TIMEOUT, agent, client_id, request_chat, visitor


def _in_database_file(database: Path, copy: Path, marker: str) -> bool:
    """Whether the message is in the database file itself (its log left aside)."""
    shutil.copyfile(database, copy)
    try:
        with sqlite3.connect(copy) as connection:
            return connection.execute("SELECT count(*) FROM chat_message WHERE client_id = ?",
                                      (marker,)).fetchone()[0] == 1
    except sqlite3.DatabaseError:  # copied in the middle of a checkpoint: look again
        return False
    finally:
        copy.unlink(missing_ok=True)


def test_a_message_reaches_the_database_file_within_a_second_not_a_thousand_pages_later(
        sqlite_live_server, tmp_path):
    server = sqlite_live_server
    database = Path(server.database_url.removeprefix("sqlite:///"))
    made = request_chat(server.url, email="checkpoint@example.org")
    alice = agent(server.url, "alice")
    end_user = visitor(server.url, made["visitor_token"])
    try:
        assert alice.call("accept", {"chat_id": made["chat_id"]}, "/queue")["ok"] is True
        marker = client_id()
        reply = end_user.call("send", {"chat_id": made["chat_id"], "body": "in the file yet?",
                                       "client_id": marker})
        assert reply["ok"] is True
        # A handful of pages in the log: SQLite alone would leave them there.
        deadline = time.monotonic() + TIMEOUT
        while not _in_database_file(database, tmp_path / "copy.sqlite3", marker):
            assert time.monotonic() < deadline, "the log was not checkpointed"
            time.sleep(0.2)
        # Nothing of it is lost or doubled for the agent.
        history = alice.call("history", {"chat_id": made["chat_id"]})["messages"]
        assert [m["client_id"] for m in history].count(marker) == 1
    finally:
        end_user.disconnect()
        alice.disconnect()
