"""The reports' roll-up: what every chat adds to the figures of its days and months, for the
desk, its queue and its agent, kept up to date in the transaction that changes the chat.

A year's report then reads a row per day for the desk and about a dozen rows per agent or
queue (its months, and the days of a month the range cuts) instead of every chat.

How it stays equal to the chats themselves: a chat's *facts* (its request, its acceptance
and its end, as docs/domain.md "Reports" counts them) are a function of its row alone, and
the facts last counted are kept on the chat (`chat.report_facts`). A use case that changes
a chat `touch`es it; before the transaction commits, `sync` works its facts out again and
inserts the difference (the old facts out, the new in) as rows of +/- counts under the same
lock as the change. Rows are inserted, never updated, so concurrent use cases never wait
for one roll-up row; `fold` merges them now and then. `rebuild` computes everything from
the chats (the migration, a change of DESK_TIMEZONE, the benchmark's filled desk).

Durations are counted in whole seconds, rounded down, and in coarser steps as they grow
(`bucket`): the precision docs/domain.md states.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from datetime import date, datetime, tzinfo

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from app.desk.stats import desk_timezone
from app.models.types import UTCDateTime

SCOPES = ("desk", "queue", "agent")
DESK = 0  # the group of the desk's own rows
COUNTS = ("requested", "accepted", "ended", "abandoned", "handled", "messages",
          "with_messages", "rating_sum", "csat_count", "srs_resolved")
HISTOGRAMS = ("waits", "first_responses", "handles")
_TOUCHED = "report_rollup.touched"

# Steps of the histograms: (from this many seconds, step).
STEPS = ((0, 1), (120, 5), (600, 30), (3600, 300), (86400, 3600))

# The columns a chat's facts come from, as plain tables: the migration that fills the
# roll-up uses them too, whatever the models become later.
_TIMES = ("requested_at", "accepted_at", "closed_at", "first_response_at", "sr_resolved_at")
chat = sa.table("chat", *(sa.column(name, UTCDateTime() if name in _TIMES else None)
                          for name in ("id", "status", "queue_id", "agent_id", *_TIMES,
                                       "message_count", "rating", "report_facts")))
rollup = sa.table("chat_report_day", sa.column("day", sa.Date()), *(sa.column(name) for name in (
    "id", "scope", "span", "group_id", "folded", *COUNTS, *HISTOGRAMS)))
FACT_COLUMNS = [chat.c[name] for name in (
    "id", "status", "queue_id", "agent_id", "requested_at", "accepted_at", "closed_at",
    "first_response_at", "message_count", "rating", "sr_resolved_at")]


def bucket(seconds: float) -> int:
    """A duration as the roll-up counts it: whole seconds below 2 minutes, then rounded
    down to 5 s below 10 minutes, 30 s below an hour, 5 minutes below a day, an hour."""
    value = max(math.floor(seconds), 0)
    for start, step in reversed(STEPS):
        if value >= start:
            return value - value % step
    return value  # pragma: no cover - STEPS starts at 0


# --- a chat's facts --------------------------------------------------------------------------

def facts_of(row, tz: tzinfo) -> list[list]:  # noqa: ANN001 - a row of FACT_COLUMNS
    """What the reports count of a chat now: [kind, day (ordinal), queue, ...] per event."""
    requested, accepted, closed = row.requested_at, row.accepted_at, row.closed_at
    facts: list[list] = [["r", _day(requested, tz), row.queue_id]]
    if accepted is not None:
        facts.append(["a", _day(accepted, tz), row.queue_id, row.agent_id,
                      bucket((accepted - requested).total_seconds())])
    status = str(row.status)
    if status in ("CLOSED", "ABANDONED") and closed is not None:
        handled = status == "CLOSED" and accepted is not None
        first = row.first_response_at
        facts.append([
            "e", _day(closed, tz), row.queue_id, row.agent_id, int(status == "ABANDONED"),
            int(handled), row.message_count if handled else None,
            row.rating if handled else None,
            int(handled and row.sr_resolved_at is not None),
            bucket((first - accepted).total_seconds()) if handled and first else None,
            bucket((closed - accepted).total_seconds()) if handled else None])
    return facts


def _day(value: datetime, tz: tzinfo) -> int:
    return value.astimezone(tz).date().toordinal()


def _text(facts: list[list]) -> str:
    return json.dumps(facts, separators=(",", ":"))


# --- the cells they add to -------------------------------------------------------------------

class Cell:
    """The sums of one roll-up key: counts, and histograms {seconds: chats}."""

    __slots__ = ("counts", "histograms")

    def __init__(self) -> None:
        self.counts = dict.fromkeys(COUNTS, 0)
        self.histograms: dict[str, dict[int, int]] = {name: {} for name in HISTOGRAMS}

    def count(self, name: str, value: int) -> None:
        self.counts[name] += value

    def note(self, name: str, seconds: int, sign: int) -> None:
        histogram = self.histograms[name]
        histogram[seconds] = histogram.get(seconds, 0) + sign

    def add_row(self, row, sign: int = 1) -> None:  # noqa: ANN001 - a roll-up row
        self.add(tuple(getattr(row, name) for name in (*COUNTS, *HISTOGRAMS)), sign)

    def add(self, values: tuple, sign: int = 1) -> None:
        """Add a row's values, in the order of COUNTS then HISTOGRAMS, times `sign`."""
        counts = self.counts
        for name, value in zip(COUNTS, values, strict=False):
            if value:
                counts[name] += sign * value
        for name, text in zip(HISTOGRAMS, values[len(COUNTS):], strict=True):
            if not text:
                continue
            numbers = text.split()
            pairs = zip(map(int, numbers[::2]), map(int, numbers[1::2]), strict=True)
            histogram = self.histograms[name]
            if not histogram and sign == 1:
                self.histograms[name] = dict(pairs)
                continue
            for seconds, n in pairs:
                histogram[seconds] = histogram.get(seconds, 0) + sign * n

    def is_empty(self) -> bool:
        return not any(self.counts.values()) and not any(
            n for histogram in self.histograms.values() for n in histogram.values())

    def row(self) -> dict:
        return {**self.counts, **{name: " ".join(
            f"{seconds} {n}" for seconds, n in sorted(histogram.items()) if n)
            for name, histogram in self.histograms.items()}}


Key = tuple[str, str, date, int]  # scope, span, day, group


def keys_of(day: date, scopes: Iterable[tuple[str, int | None]]) -> Iterator[Key]:
    """The day's and the month's rows of each (scope, group) a fact counts under."""
    month = day.replace(day=1)
    for scope, group in scopes:
        if group is not None:
            yield scope, "day", day, group
            yield scope, "month", month, group


def add_facts(cells: dict[Key, Cell], facts: list[list], sign: int) -> None:
    """Count a chat's facts into the cells (sign -1 takes them out)."""
    for fact in facts:
        kind, day, queue = fact[0], date.fromordinal(fact[1]), fact[2]
        if kind == "r":
            for key in keys_of(day, (("desk", DESK), ("queue", queue))):
                _cell(cells, key).count("requested", sign)
            continue
        agent = fact[3]
        for key in keys_of(day, (("desk", DESK), ("queue", queue), ("agent", agent))):
            cell = _cell(cells, key)
            if kind == "a":
                cell.count("accepted", sign)
                cell.note("waits", fact[4], sign)
                continue
            _, _, _, _, abandoned, handled, messages, rating, resolved, first, handle = fact
            cell.count("ended", sign)
            cell.count("abandoned", sign * abandoned)
            cell.count("handled", sign * handled)
            cell.count("srs_resolved", sign * resolved)
            if messages is not None:
                cell.count("messages", sign * messages)
                cell.count("with_messages", sign)
            if rating is not None:
                cell.count("rating_sum", sign * rating)
                cell.count("csat_count", sign)
            if first is not None:
                cell.note("first_responses", first, sign)
            if handle is not None:
                cell.note("handles", handle, sign)


def _cell(cells: dict[Key, Cell], key: Key) -> Cell:
    cell = cells.get(key)
    if cell is None:
        cell = cells[key] = Cell()
    return cell


def _insert(conn: sa.Connection, cells: dict[Key, Cell], folded: bool = False) -> None:
    rows = [{"scope": scope, "span": span, "day": day, "group_id": group, "folded": folded,
             **cell.row()}
            for (scope, span, day, group), cell in sorted(cells.items())
            if not cell.is_empty()]
    for start in range(0, len(rows), 5000):
        conn.execute(rollup.insert(), rows[start:start + 5000])


# --- keeping it up to date -------------------------------------------------------------------

def touch(*chat_ids: int) -> None:
    """This transaction changed these chats: their facts are counted again before it
    commits (any number of times: counting again what did not change adds nothing)."""
    from app.extensions import db

    db.session.info.setdefault(_TOUCHED, set()).update(chat_ids)


def sync(session: Session, chat_ids: Iterable[int]) -> None:
    """Count the chats' facts of now in place of those counted before, in this transaction
    (the chats' rows locked, as their change locked them)."""
    ids = sorted(set(chat_ids))
    if not ids:
        return
    tz = desk_timezone()
    cells: dict[Key, Cell] = {}
    changed = []
    rows = session.execute(sa.select(*FACT_COLUMNS, chat.c.report_facts)
                           .where(chat.c.id.in_(ids)).order_by(chat.c.id).with_for_update())
    for row in rows:
        facts = facts_of(row, tz)
        text = _text(facts)
        if text == row.report_facts:
            continue
        if row.report_facts:
            add_facts(cells, json.loads(row.report_facts), -1)
        add_facts(cells, facts, 1)
        changed.append({"chat_id": row.id, "facts": text})
    if changed:
        session.execute(chat.update().where(chat.c.id == sa.bindparam("chat_id"))
                        .values(report_facts=sa.bindparam("facts")), changed)
        _insert(session.connection(), cells)


def _before_commit(session: Session) -> None:
    touched = session.info.pop(_TOUCHED, None)
    if touched:
        sync(session, touched)


def _after_rollback(session: Session) -> None:
    session.info.pop(_TOUCHED, None)


def init_app(app: Flask) -> None:  # noqa: ARG001 - one listener for every session
    """Count touched chats again before each commit of any session."""
    if not sa_event.contains(Session, "before_commit", _before_commit):
        sa_event.listen(Session, "before_commit", _before_commit)
        sa_event.listen(Session, "after_rollback", _after_rollback)


def fold() -> int:
    """Merge the rows of every key that has unfolded ones into one folded row; returns the
    keys folded. The rows are deleted and their sums inserted in one transaction, and a
    row committed meanwhile is left for the next time (neither lost nor counted twice)."""
    from app.extensions import db

    session = db.session
    key = (rollup.c.scope, rollup.c.span, rollup.c.day, rollup.c.group_id)
    unfolded = sa.select(*key).where(rollup.c.folded == sa.false()).distinct()
    moved = session.execute(rollup.delete().where(sa.tuple_(*key).in_(unfolded))
                            .returning(*rollup.c)).all()
    cells: dict[Key, Cell] = {}
    for row in moved:
        _cell(cells, (row.scope, row.span, row.day, row.group_id)).add_row(row)
    _insert(session.connection(), cells, folded=True)
    return len(cells)


# --- from the chats --------------------------------------------------------------------------

def _pages(conn: sa.Connection, size: int = 5000) -> Iterator[list]:
    """Every chat's fact columns, a page of `size` chats at a time (by id)."""
    last = 0
    while True:
        page = conn.execute(sa.select(*FACT_COLUMNS).where(chat.c.id > last)
                            .order_by(chat.c.id).limit(size)).all()
        if not page:
            return
        yield page
        last = page[-1].id


def _count(conn: sa.Connection, tz: tzinfo, write_facts: bool) -> dict[Key, Cell]:
    cells: dict[Key, Cell] = {}
    update = (chat.update().where(chat.c.id == sa.bindparam("chat_id"))
              .values(report_facts=sa.bindparam("facts")))
    for page in _pages(conn):
        facts = []
        for row in page:
            chat_facts = facts_of(row, tz)
            add_facts(cells, chat_facts, 1)
            facts.append({"chat_id": row.id, "facts": _text(chat_facts)})
        if write_facts:
            conn.execute(update, facts)
    return {key: cell for key, cell in cells.items() if not cell.is_empty()}


def recompute(conn: sa.Connection, tz: tzinfo) -> dict[Key, Cell]:
    """The roll-up worked out from the chats alone (days in `tz`)."""
    return _count(conn, tz, write_facts=False)


def rebuild(conn: sa.Connection, tz: tzinfo) -> int:
    """Replace the roll-up and the chats' counted facts by a count from the chats (days in
    `tz`); returns the rows written. In the caller's transaction, which writes first (on
    SQLite that holds other writers off until it commits)."""
    conn.execute(rollup.delete())
    cells = _count(conn, tz, write_facts=True)
    _insert(conn, cells, folded=True)
    return len(cells)


def recount() -> int:
    """`rebuild` in the desk's time zone, as one use case (DESK_TIMEZONE changed). Changes to
    chats wait until it commits (on PostgreSQL a lock on the chat table that reads pass), so
    no chat is counted between its old and its new facts."""
    from app.desk.unit_of_work import transaction
    from app.extensions import db

    with transaction():
        conn = db.session.connection()
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("LOCK TABLE chat IN SHARE ROW EXCLUSIVE MODE")
        return rebuild(conn, desk_timezone())


def stored(conn: sa.Connection) -> dict[Key, Cell]:
    """The roll-up as it is stored, every key's rows added up."""
    cells: dict[Key, Cell] = {}
    for row in conn.execute(sa.select(rollup)):
        _cell(cells, (row.scope, row.span, row.day, row.group_id)).add_row(row)
    return {key: cell for key, cell in cells.items() if not cell.is_empty()}

