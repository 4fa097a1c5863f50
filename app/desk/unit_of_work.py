"""One owner for each transaction: a desk use case commits once, then its events go out.

A use case runs inside `transaction()` (or is decorated with `@use_case`). Scopes nest: an
inner scope joins the outer one, and only the outermost commits. Events the use case
records (`events.record`) are held by the session; a commit releases them to the listeners,
a rollback drops them, so no listener hears of a change that did not happen, and no caller
has to remember to publish one that did.

    with transaction():
        sr = requests.open_service_request(...)
        requests.update_service_request(sr.id, ...)   # joins: one commit for both
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from sqlalchemy.orm.exc import StaleDataError

from app.desk import events
from app.desk.errors import Conflict
from app.extensions import db

P = ParamSpec("P")
R = TypeVar("R")

_DEPTH = "desk.transaction_depth"


def in_transaction() -> bool:
    """Whether a use case's scope is open on this session."""
    return db.session.info.get(_DEPTH, 0) > 0


@contextmanager
def transaction() -> Iterator[None]:
    """The scope of one use case: commit at the end of the outermost scope, then deliver.

    Any exception rolls the whole use case back (and drops its events), whichever scope
    raised it. A concurrent edit detected at commit (the optimistic version check) becomes
    a `Conflict`.
    """
    session = db.session
    depth = session.info.get(_DEPTH, 0)
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


def use_case(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a desk function in its own transaction, or in the caller's if one is open."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with transaction():
            return fn(*args, **kwargs)

    return run
