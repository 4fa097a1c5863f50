"""The desk dashboard's figures: queues now, and chats and SRs for today and the last 7 days.

Counting and ranking happen in SQL (one grouped query per figure, the same SQL on SQLite and
PostgreSQL); only the last step of a percentile, interpolating between the two ranked rows
around it, is done in Python. Days are calendar days in DESK_TIMEZONE (default UTC).

Definitions (what a manager reads on the screen):
- requested: chats whose request arrived in the period;
- accepted: chats an agent accepted in the period; their wait is accepted_at - requested_at;
- abandoned: chats that left the queue as ABANDONED in the period;
- median / p90 wait: the 50th / 90th percentile of those waits, linear interpolation between
  ranks (PostgreSQL's percentile_cont, numpy's default);
- SRs by status: SRs opened in the period, by their status now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_app_context
from sqlalchemy import Float, case, func, literal, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from app.desk import availability
from app.desk.unit_of_work import use_case
from app.extensions import db
from app.models import (
    AgentPresence,
    Chat,
    ChatStatus,
    PersonGroup,
    ServiceRequest,
    SRStatus,
    StatusTally,
    User,
    group_members,
    utcnow,
)

DAYS = 7
PERCENTILES = {"median_wait_seconds": 0.5, "p90_wait_seconds": 0.9}


class seconds_between(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """``later - earlier`` in seconds, as a float, on every supported database."""

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between)
def _seconds_between_default(element, compiler, **kw):  # PostgreSQL
    later, earlier = list(element.clauses)
    # date_part gives a double precision (EXTRACT a numeric, slower to rank).
    return (f"date_part('epoch', {compiler.process(later, **kw)} - "
            f"{compiler.process(earlier, **kw)})")


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (f"((julianday({compiler.process(later, **kw)}) - "
            f"julianday({compiler.process(earlier, **kw)})) * 86400.0)")


@dataclass(frozen=True)
class Window:
    """The 7 calendar days ending today, as UTC instants: day i runs [starts[i], starts[i+1])."""

    starts: list[datetime]  # DAYS + 1 boundaries; the last one is tomorrow's midnight
    labels: list[str]

    @property
    def start(self) -> datetime:
        return self.starts[0]

    @property
    def end(self) -> datetime:
        return self.starts[-1]

    def bucket(self, column) -> ColumnElement:
        """The day index (0 = six days ago, DAYS-1 = today) of a time column, in SQL."""
        whens = [(column >= self.starts[i], i) for i in range(DAYS - 1, 0, -1)]
        return case(*whens, else_=0)


def desk_timezone() -> tzinfo:
    name = current_app.config.get("DESK_TIMEZONE", "UTC") if has_app_context() else "UTC"
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def window(now: datetime | None = None, tz: tzinfo | None = None) -> Window:
    now = now or utcnow()
    tz = tz or desk_timezone()
    today = now.astimezone(tz).date()
    days = [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS + 1)]
    starts = [datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC) for day in days]
    return Window(starts=starts, labels=[day.isoformat() for day in days[:DAYS]])


# --- now -------------------------------------------------------------------------------------

def queues_now(now: datetime | None = None) -> list[dict]:
    """Every chat queue (and any group still holding waiting chats): waiting, oldest, online."""
    now = now or utcnow()
    waiting = {
        queue_id: (int(count), oldest)
        for queue_id, count, oldest in db.session.execute(
            select(Chat.queue_id, func.count(Chat.id), func.min(Chat.requested_at))
            .where(Chat.status == ChatStatus.WAITING).group_by(Chat.queue_id))
    }
    online = dict(db.session.execute(
        select(group_members.c.group_id, func.count(func.distinct(AgentPresence.user_id)))
        .join(User, User.id == AgentPresence.user_id)
        .join(group_members, group_members.c.person_id == User.person_id)
        .group_by(group_members.c.group_id)
    ).all())
    groups = db.session.scalars(
        select(PersonGroup).where(PersonGroup.is_chat_queue.is_(True)
                                  | PersonGroup.id.in_(list(waiting) or [-1]))
        .order_by(PersonGroup.name))
    groups = list(groups)
    available = availability.available_by_queue([group.id for group in groups])
    rows = []
    for group in groups:
        count, oldest = waiting.get(group.id, (0, None))
        rows.append({
            "id": group.id, "name": group.name, "is_chat_queue": group.is_chat_queue,
            "waiting": count,
            "oldest_wait_seconds": None if oldest is None
            else max(0, int((now - oldest).total_seconds())),
            "agents_online": int(online.get(group.id, 0)),
            "agents_available": available.get(group.id, 0),
            "routing": group.routing,
        })
    return rows


def agents_online_total() -> int:
    return int(db.session.scalar(select(func.count(func.distinct(AgentPresence.user_id)))) or 0)


# --- periods ---------------------------------------------------------------------------------

def _counts_by_day(win: Window) -> dict[str, list[int]]:
    """Chats requested, accepted and abandoned per day, in one statement (each part read
    through its own index)."""
    # Grouped through a subquery: PostgreSQL would not match a CASE with bound parameters
    # in SELECT to the same CASE in GROUP BY (each gets its own placeholders).
    parts = [
        ("requested", Chat.requested_at, ()),
        ("accepted", Chat.accepted_at, ()),
        ("abandoned", Chat.closed_at, (Chat.status == ChatStatus.ABANDONED,)),
    ]
    days = union_all(*[
        select(literal(kind).label("k"), win.bucket(column).label("b"))
        .where(column >= win.start, column < win.end, *conditions)
        for kind, column, conditions in parts]).subquery()
    counts = {kind: [0] * DAYS for kind, _, _ in parts}
    for kind, day, count in db.session.execute(
            select(days.c.k, days.c.b, func.count()).group_by(days.c.k, days.c.b)):
        counts[kind][int(day)] = int(count)
    return counts


def _wait_percentiles(win: Window) -> dict[int, dict]:
    """Median and p90 wait of the chats accepted on each day (keys 0..DAYS-1) and in the
    whole window (key DAYS), in one statement.

    Rows are ranked in SQL with window functions; for each percentile p the position
    p * (n - 1) falls between two ranks whose waits are read in the same grouped query.
    The window's rows are ranked a second time as a group of their own.
    """
    waits = (select(win.bucket(Chat.accepted_at).label("b"),
                    seconds_between(Chat.accepted_at, Chat.requested_at).label("w"))
             .where(Chat.accepted_at.is_not(None), Chat.accepted_at >= win.start,
                    Chat.accepted_at < win.end).cte("waits"))
    groups = union_all(select(waits.c.b, waits.c.w),
                       select(literal(DAYS).label("b"), waits.c.w)).subquery()
    ranked = select(
        groups.c.b, groups.c.w,
        (func.row_number().over(partition_by=groups.c.b, order_by=groups.c.w) - 1).label("rn"),
        func.count().over(partition_by=groups.c.b).label("n"),
    ).subquery()
    columns = [ranked.c.b, func.max(ranked.c.n)]
    for p in PERCENTILES.values():
        pos = p * (ranked.c.n - 1)
        columns += [
            func.max(case((ranked.c.rn <= pos, ranked.c.rn))),
            func.max(case((ranked.c.rn <= pos, ranked.c.w))),
            func.min(case((ranked.c.rn >= pos, ranked.c.w))),
        ]
    result: dict[int, dict] = {}
    for row in db.session.execute(select(*columns).group_by(ranked.c.b)):
        n = int(row[1])
        figures = {}
        for index, (name, p) in enumerate(PERCENTILES.items()):
            low_rank, low, high = row[2 + 3 * index: 5 + 3 * index]
            position = p * (n - 1)
            value = float(low) + (float(high) - float(low)) * (position - int(low_rank))
            figures[name] = round(max(value, 0.0), 1)
        result[int(row[0])] = figures
    return result


def _srs_by_status(win: Window) -> tuple[dict[str, int], dict[str, int]]:
    """SRs opened today and in the window, by their status now (one statement)."""
    today = case((ServiceRequest.created_at >= win.starts[-2], 1), else_=0)
    opened = (select(today.label("today"), ServiceRequest.status)
              .where(ServiceRequest.created_at >= win.start, ServiceRequest.created_at < win.end)
              .subquery())
    rows = db.session.execute(select(opened.c.today, opened.c.status, func.count())
                              .group_by(opened.c.today, opened.c.status)).all()
    week: dict = {}
    for _, status, count in rows:
        week[status] = week.get(status, 0) + count
    return (_by_status((status, count) for day, status, count in rows if day),
            _by_status(week.items()))


def _by_status(rows) -> dict[str, int]:  # noqa: ANN001
    counts = {status.value: 0 for status in SRStatus}
    for status, count in rows:
        counts[SRStatus(status).value] = int(count)
    return counts


def srs_by_status_all() -> dict[str, int]:
    """Every SR by its status now, from the tally (a few rows, whatever the number of SRs)."""
    return _by_status(db.session.execute(
        select(StatusTally.status, func.sum(StatusTally.delta)).group_by(StatusTally.status)))


@use_case
def fold_status_tally() -> int:
    """Fold the tally's rows into one per status; returns the number of rows left.

    On PostgreSQL one statement deletes the rows it sees and inserts their sums, so a change
    committed meanwhile is neither lost nor counted twice (it is folded next time). SQLite
    has one writer at a time; the sums and the delete happen in one write transaction.
    """
    table = StatusTally.__table__
    count = select(func.count()).select_from(table)
    rows = db.session.scalar(count)
    if rows <= len(SRStatus):  # folded already
        return rows
    if db.session.get_bind().dialect.name == "postgresql":
        moved = table.delete().returning(table.c.status, table.c.delta).cte("moved")
        db.session.execute(table.insert().from_select(
            ["status", "delta"],
            select(moved.c.status, func.sum(moved.c.delta)).group_by(moved.c.status)
            .having(func.sum(moved.c.delta) != 0)))
    else:
        last = db.session.scalar(select(func.max(table.c.id)))
        sums = db.session.execute(
            select(table.c.status, func.sum(table.c.delta)).where(table.c.id <= last)
            .group_by(table.c.status).having(func.sum(table.c.delta) != 0)).all()
        db.session.execute(table.delete().where(table.c.id <= last))
        if sums:
            db.session.execute(table.insert(), [{"status": s, "delta": d} for s, d in sums])
    return db.session.scalar(count)


def dashboard(now: datetime | None = None, tz: tzinfo | None = None) -> dict:
    """Everything the desk dashboard shows, as plain JSON-ready data."""
    now = now or utcnow()
    win = window(now, tz)
    counts = _counts_by_day(win)
    requested, accepted, abandoned = counts["requested"], counts["accepted"], counts["abandoned"]
    waits = _wait_percentiles(win)
    empty = dict.fromkeys(PERCENTILES)
    daily = [
        {"date": win.labels[i], "requested": requested[i], "accepted": accepted[i],
         "abandoned": abandoned[i], **waits.get(i, empty)}
        for i in range(DAYS)
    ]
    today = daily[-1]
    srs_today, srs_week = _srs_by_status(win)
    queues = queues_now(now)
    return {
        "generated_at": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "timezone": str(getattr(tz or desk_timezone(), "key", "UTC")),
        "queues": queues,
        "waiting_total": sum(q["waiting"] for q in queues),
        "agents_online": agents_online_total(),
        "today": {
            "requested": today["requested"], "accepted": today["accepted"],
            "abandoned": today["abandoned"],
            "median_wait_seconds": today["median_wait_seconds"],
            "p90_wait_seconds": today["p90_wait_seconds"],
            "srs_by_status": srs_today,
        },
        "last_7_days": {
            "requested": sum(requested), "accepted": sum(accepted), "abandoned": sum(abandoned),
            **waits.get(DAYS, empty),
            "srs_by_status": srs_week,
        },
        "daily": daily,
        "srs_by_status_all": srs_by_status_all(),
    }
