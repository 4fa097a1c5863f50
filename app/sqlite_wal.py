"""SQLite's write-ahead log, copied back into the database by a thread of the server's own.

SQLite checkpoints by itself: the commit that takes the log past 1,000 pages also copies
the log into the database file and syncs it to the disk, a few milliseconds. Under eventlet
every sqlite3 call holds the process's one thread, so each such commit stalled every chat
of the server: on a busy desk one message in a hundred took twice as long to arrive
(`bench/run.py`, the steady state's p99: 10 ms with the automatic checkpoint, 6 ms without).

A server process with a pool of real threads (``wsgi.py`` installs eventlet's or gevent's,
`app.files.threads`) turns that automatic checkpoint off on its connections and checkpoints
every CHECKPOINT_SECONDS in one of those threads instead, on a connection of its own:
sqlite3 lets go of the interpreter lock while it copies and syncs, so the loop serves
meanwhile. The checkpoint is SQLite's PASSIVE one, the same the automatic checkpoint runs:
it never waits for readers or writers, and what it cannot copy yet is copied next time.
Elsewhere (the CLI, tests, the threading mode) SQLite checkpoints by itself as before.
"""

from __future__ import annotations

import logging
import os
import sqlite3

from flask import Flask

from app.extensions import db
from app.files import threads

log = logging.getLogger(__name__)

CHECKPOINT_SECONDS = 0.5

# Database files whose checkpoints this process runs in a thread (their connections have
# SQLite's automatic checkpoint off).
_IN_THREAD: set[str] = set()


def automatic_checkpoint_off(connection: sqlite3.Connection) -> bool:
    """Whether this new connection's database leaves checkpoints to the thread."""
    if not _IN_THREAD:
        return False
    for _, name, path in connection.execute("PRAGMA database_list"):
        if name == "main":
            return bool(path) and os.path.realpath(path) in _IN_THREAD
    return False


def start(app: Flask, sleep, spawn) -> bool:
    """Checkpoint the app's SQLite database in a thread from now on, if it is a file and the
    server has real threads; `sleep` and `spawn` are the async mode's. False when not."""
    with app.app_context():
        engine = db.engine
        path = engine.url.database if engine.dialect.name == "sqlite" else None
        if not path or path == ":memory:" or path.startswith("file:") or \
                not threads.has_pool(app):
            return False
        path = os.path.realpath(path)
        _IN_THREAD.add(path)
        engine.dispose()  # connections opened before now checkpoint by themselves
    spawn(_loop, app, path, sleep)
    return True


def _loop(app: Flask, path: str, sleep) -> None:
    failing = False
    while True:
        sleep(CHECKPOINT_SECONDS)
        try:
            with app.app_context():
                threads.run(checkpoint, path)
        except Exception:  # noqa: BLE001 - the next pass tries again
            if not failing:  # once per run of failures, not twice a second
                log.exception("checkpoint of %s failed; trying again every %s s", path,
                              CHECKPOINT_SECONDS)
            failing = True
        else:
            if failing:
                log.warning("checkpoint of %s works again", path)
            failing = False


def checkpoint(path: str) -> tuple[int, int, int]:
    """One PASSIVE checkpoint on a connection of its own: (busy, frames in the log, frames
    copied), as SQLite reports them."""
    connection = sqlite3.connect(path, timeout=0)
    try:
        return connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        connection.close()
