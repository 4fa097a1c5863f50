"""Checkpoints of SQLite's log in a thread: only where the server has real threads, and
then SQLite no longer checkpoints inside a commit."""

from __future__ import annotations

from app import create_app, sqlite_wal
from app.extensions import db
from app.files import threads


def _autocheckpoint(app) -> int:
    with app.app_context():
        with db.engine.connect() as connection:
            return connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()


def test_without_a_pool_of_threads_sqlite_checkpoints_by_itself(tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'a.sqlite3'}")
    spawned = []
    assert sqlite_wal.start(app, None, lambda *args: spawned.append(args)) is False
    assert spawned == []
    assert _autocheckpoint(app) == 1000


def test_with_a_pool_the_server_checkpoints_and_sqlite_does_not(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_wal, "_IN_THREAD", set())
    path = tmp_path / "b.sqlite3"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    threads.install(app, lambda fn, *args: fn(*args))
    spawned = []
    with app.app_context():
        db.create_all()
        db.session.execute(db.text("CREATE TABLE note (body TEXT)"))
        db.session.commit()
    assert sqlite_wal.start(app, None, lambda *args: spawned.append(args)) is True
    assert len(spawned) == 1  # the checkpoint loop, as a task of the async mode
    assert _autocheckpoint(app) == 0  # connections opened before were closed
    with app.app_context():
        db.session.execute(db.text("INSERT INTO note VALUES ('kept')"))
        db.session.commit()
    busy, logged, copied = sqlite_wal.checkpoint(str(path))
    assert (busy, copied) == (0, logged) and logged > 0
    # Another database of the same process is left to SQLite.
    other = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'c.sqlite3'}")
    assert _autocheckpoint(other) == 1000


def test_a_database_in_memory_is_left_alone(monkeypatch):
    monkeypatch.setattr(sqlite_wal, "_IN_THREAD", set())
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    threads.install(app, lambda fn, *args: fn(*args))
    assert sqlite_wal.start(app, None, lambda *args: None) is False


class _Stop(Exception):
    pass


def test_a_failing_checkpoint_is_logged_once_and_its_recovery_once(tmp_path, caplog):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'd.sqlite3'}")
    outcomes = iter([OSError("disk full"), OSError("disk full"), OSError("disk full"), None])

    def runner(fn, *args):
        outcome = next(outcomes)
        if outcome is not None:
            raise outcome
        return (0, 0, 0)

    threads.install(app, runner)
    passes = iter(range(5))

    def sleep(seconds):
        if next(passes) == 4:
            raise _Stop

    with caplog.at_level("WARNING", logger="app.sqlite_wal"):
        try:
            sqlite_wal._loop(app, str(tmp_path / "d.sqlite3"), sleep)
        except _Stop:
            pass
    assert [r.levelname for r in caplog.records] == ["ERROR", "WARNING"]
    assert "failed" in caplog.records[0].getMessage()
    assert "works again" in caplog.records[1].getMessage()
