"""One owner for each transaction: a desk use case commits once, then its events go out.

A use case runs inside `transaction()` (or is decorated with `@use_case`). Scopes nest: an
inner scope joins the outer one, and only the outermost commits. Events the use case
records (`events.record`) are held by the session; a commit releases them to the listeners,
a rollback drops them, so no listener hears of a change that did not happen, and no caller
has to remember to publish one that did.

    with transaction():
        sr = requests.open_service_request(...)
        requests.update_service_request(sr.id, ...)   # joins: one commit for both

The busiest write of the desk, a batch of chat messages, runs without the ORM session, on a
connection: as `single_statement()` on PostgreSQL (the statement commits by itself: no BEGIN
and no COMMIT), as `statements()` on SQLite (a transaction of a few statements). Their events
are delivered the same way, once committed, and what must be written with them (webhook
deliveries) is written in their transaction by the writers registered with
`write_with_events`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.orm.exc import StaleDataError

from app.desk import events
from app.desk.errors import Conflict
from app.extensions import db

P = ParamSpec("P")
R = TypeVar("R")

_DEPTH = "desk.transaction_depth"
# The connection that the use cases run inside `writing_on` use (a task that keeps one for
# itself: the message writer), rather than one from the pool.
_CONNECTION: ContextVar[Connection | None] = ContextVar("desk_connection", default=None)


# What must be written in a use case's transaction along with its events (the webhook
# outbox's deliveries): fn(connection, events) -> whether it wrote, called before the commit
# of `statements()`; after the commit, its `after` action runs. (In `transaction()` they
# listen to the session's before_commit.)
_WRITERS: list[tuple[Callable[[Connection, list[object]], bool], Callable[[], None]]] = []


def write_with_events(fn: Callable[[Connection, list[object]], bool],
                      after: Callable[[], None]) -> None:
    """Register a writer of what goes with a use case's events in its transaction (once)."""
    if all(existing is not fn for existing, _ in _WRITERS):
        _WRITERS.append((fn, after))


def in_transaction() -> bool:
    """Whether a use case's scope is open: on this session, or on a connection without it
    (`single_statement`, `statements`)."""
    return events.collecting() or db.session.info.get(_DEPTH, 0) > 0


@contextmanager
def writing_on(connection: Connection) -> Iterator[None]:
    """Run the use cases inside on this connection (a task that keeps one of its own)."""
    token = _CONNECTION.set(connection)
    try:
        yield
    finally:
        _CONNECTION.reset(token)


@contextmanager
def transaction() -> Iterator[None]:
    """The scope of one use case: commit at the end of the outermost scope, then deliver.

    Any exception rolls the whole use case back (and drops its events), whichever scope
    raised it. A concurrent edit detected at commit (the optimistic version check) becomes
    a `Conflict`.
    """
    if events.collecting():
        raise RuntimeError("a use case on a connection cannot open a session's transaction")
    session = db.session
    depth = session.info.get(_DEPTH, 0)
    if depth == 0 and (connection := _CONNECTION.get()) is not None:
        session.connection(bind_arguments={"bind": connection})
    session.info[_DEPTH] = depth + 1
    try:
        yield
        if depth == 0:
            session.commit()
    except BaseException as exc:
        if depth == 0:
            session.rollback()
            if isinstance(exc, StaleDataError):  # at a flush or at the commit
                raise Conflict("stale", "The record was changed by someone else while you "
                               "saved. Reload to see their changes.", "version") from exc
        raise
    finally:
        session.info[_DEPTH] = depth
    if depth == 0:
        events.deliver_committed()


@contextmanager
def single_statement() -> Iterator[Connection]:
    """The scope of a use case that is ONE statement, on PostgreSQL: the statement commits by
    itself (autocommit), so the use case costs one round trip to the database instead of
    four (BEGIN, the statement, the outbox's look-up, COMMIT) and no ORM session.

    Nothing else may be written with it: the statement itself must check that nothing has to
    be (e.g. that no webhook takes its events, whose deliveries would have to be written in
    the same transaction) and store nothing otherwise, for the caller to go the way of
    `statements()`. Events recorded inside are delivered after the statement, unless it
    raised; reads may follow the statement inside the scope.
    """
    with _on_connection("a single statement") as (connection, _, _):
        connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            yield connection
            connection.commit()  # SQLAlchemy's side: nothing goes to the database
        finally:
            if connection.in_transaction():
                connection.rollback()
            _end_autocommit(connection)  # once SQLAlchemy's transaction has ended


@contextmanager
def statements() -> Iterator[Connection]:
    """The scope of a use case written as SQL statements on one connection, without the ORM
    session and its bookkeeping: one transaction, committed at the end; what must be written
    with its events (`write_with_events`) is written just before the commit, and the events
    are delivered after it. Any exception rolls it back and drops its events."""
    with _on_connection("statements") as (connection, recorded, after):
        yield connection
        for write, then in _WRITERS:
            if write(connection, recorded):
                after.append(then)


@contextmanager
def _on_connection(what: str) -> Iterator[tuple[Connection, list[object], list]]:
    """A use case on a connection (the writer's, see `writing_on`, or one from the pool):
    yields it with the list its events are recorded into and a list of actions to run after
    the commit; commits at the end (rolls back on any exception, dropping the events), then
    runs those actions and delivers the events."""
    if in_transaction():
        raise RuntimeError(f"{what}: a use case of its own, not inside another")
    connection = _CONNECTION.get()
    own = connection is None
    if own:
        connection = db.engine.connect()
    after: list[Callable[[], None]] = []
    try:
        with events.collected() as recorded:
            if connection.in_transaction():
                connection.rollback()  # end the logical transaction of earlier reads
            try:
                yield connection, recorded, after
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
    finally:
        if own:
            connection.close()
    for then in after:
        then()
    if recorded:
        events.deliver(recorded)


def _end_autocommit(connection: Connection) -> None:
    """Give the connection its transactions back; one that cannot take them (it broke with
    the statement) is invalidated, never used again."""
    if connection.invalidated:
        return
    try:
        connection.execution_options(isolation_level=connection.default_isolation_level)
    except Exception:  # noqa: BLE001 - the driver's own error, from a closed connection
        connection.invalidate()


def use_case(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a desk function in its own transaction, or in the caller's if one is open."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with transaction():
            return fn(*args, **kwargs)

    return run
