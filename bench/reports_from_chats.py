"""The reports as they were computed before the roll-up: from the chats themselves, at every
request (three grouped scans of the range's chats, medians ranked over every duration).

Kept as the benchmark's baseline, timed in the same run as app.desk.reports, and as a check
on a large desk that the roll-up's figures are the chats' own (counts equal, durations within
the roll-up's steps: docs/domain.md "Reports").
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import (
    and_,
    case,
    func,
    literal,
    literal_column,
    null,
    select,
    text,
    tuple_,
)

from app.desk.reports import ReportQuery, _group_names, periods
from app.desk.stats import desk_timezone, seconds_between
from app.extensions import db
from app.models import Chat, ChatStatus

WORK_MEM = "64MB"  # PostgreSQL's memory for the sorts of one report


def _instant(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def _bucket(column, starts: list[datetime], low: int = 0, high: int | None = None):
    """The index of the period a time falls in (starts[i] <= t < starts[i+1]), in SQL: a
    balanced tree of comparisons, so a row costs log2(periods) of them, not one per period."""
    high = len(starts) - 2 if high is None else high
    if low == high:
        return literal(low)
    middle = (low + high + 1) // 2
    return case((column < starts[middle], _bucket(column, starts, low, middle - 1)),
                else_=_bucket(column, starts, middle, high))


# --- the facts -------------------------------------------------------------------------------

def _facts(query: ReportQuery, starts: list[datetime]) -> dict[str, object]:
    """Three narrow selects over the chats of the range: one row per request, acceptance and
    end, with the period index `b`, the group `g` and the values the figures need."""
    start, end = starts[0], starts[-1]
    group = Chat.agent_id if query.by == "agent" else Chat.queue_id
    handled = and_(Chat.status == ChatStatus.CLOSED, Chat.accepted_at.is_not(None))
    return {
        "requested": select(
            _bucket(Chat.requested_at, starts).label("b"),
            (Chat.queue_id if query.by == "queue" else null()).label("g"))
        .where(Chat.requested_at >= start, Chat.requested_at < end),
        "accepted": select(
            _bucket(Chat.accepted_at, starts).label("b"), group.label("g"),
            seconds_between(Chat.accepted_at, Chat.requested_at).label("wait"))
        .where(Chat.accepted_at >= start, Chat.accepted_at < end),
        "ended": select(
            _bucket(Chat.closed_at, starts).label("b"), group.label("g"),
            case((Chat.status == ChatStatus.ABANDONED, 1), else_=0).label("abandoned"),
            case((handled, 1), else_=0).label("handled"),
            case((handled, Chat.message_count)).label("messages"),
            case((handled, Chat.rating)).label("rating"),
            case((and_(handled, Chat.sr_resolved_at.is_not(None)), 1), else_=0)
            .label("resolved"),
            case((handled, seconds_between(Chat.first_response_at, Chat.accepted_at)))
            .label("first_response"),
            case((handled, seconds_between(Chat.closed_at, Chat.accepted_at))).label("handle"))
        .where(Chat.status.in_([ChatStatus.CLOSED, ChatStatus.ABANDONED]),
               Chat.closed_at >= start, Chat.closed_at < end),
    }


# What is summed (counts), counted (non-null values) and ranked per fact.
SUMS = {"requested": {}, "accepted": {},
        "ended": {"abandoned": "abandoned", "handled": "handled", "messages": "messages",
                  "rating_sum": "rating", "srs_resolved": "resolved"}}
COUNTS = {"ended": {"csat_count": "rating", "with_messages": "messages"}}
RANKED = {"accepted": {"median_wait_seconds": ("wait", 0.5), "p90_wait_seconds": ("wait", 0.9)},
          "requested": {},
          "ended": {"median_first_response_seconds": ("first_response", 0.5),
                    "median_handle_seconds": ("handle", 0.5)}}

ALL = "*"  # the key of a total: every period, or every group


def _cells(name: str, facts, postgres: bool, detail: bool) -> dict[tuple, dict]:  # noqa: ANN001
    """{(period index or ALL, group or ALL): raw figures} of one kind of fact.

    Counts and sums are grouped in SQL by (period, group), by group, by period and over
    all: GROUPING SETS on PostgreSQL, which ranks there too (percentile_cont); elsewhere
    see `_cells_rolled_up`. Per (period, group) only with `detail` (the CSV): a year per
    day and agent is a hundred thousand cells."""
    rows = facts.subquery()
    b, g = rows.c.b, rows.c.g
    columns = {"n": func.count()}
    columns |= {key: func.sum(rows.c[column]) for key, column in SUMS[name].items()}
    columns |= {key: func.count(rows.c[column]) for key, column in COUNTS.get(name, {}).items()}
    if not postgres:
        return _cells_rolled_up(name, rows, columns, detail)
    columns |= {key: func.percentile_cont(p).within_group(rows.c[column])
                for key, (column, p) in RANKED[name].items()}
    sets = [tuple_(g), tuple_(b), literal_column("()")]
    statement = (select(func.grouping(b, g).label("sets"), b, g,
                        *[c.label(k) for k, c in columns.items()])
                 .group_by(func.grouping_sets(*([tuple_(b, g)] if detail else []), *sets)))
    cells = {}
    for row in db.session.execute(statement):
        sets, period, group = row[0], row[1], row[2]
        cells[ALL if sets & 2 else period, ALL if sets & 1 else group] = dict(
            zip(columns, row[3:], strict=True))
    return cells


def _cells_rolled_up(name: str, rows, columns: dict, detail: bool) -> dict[tuple, dict]:  # noqa: ANN001
    """_cells without GROUPING SETS (SQLite): one scan grouped by (period, group), the
    totals added up from those cells here, and the ranks from `_ranked`."""
    statement = select(rows.c.b, rows.c.g, *[c.label(k) for k, c in columns.items()]
                       ).group_by(rows.c.b, rows.c.g)
    cells: dict[tuple, dict] = {(ALL, ALL): dict.fromkeys(columns, 0)}
    for period, group, *values in db.session.connection().execute(statement).cursor:
        keys = ((ALL, group), (period, ALL), (ALL, ALL))
        for key in ((period, group), *keys) if detail else keys:
            cell = cells.get(key)
            if cell is None:
                cell = cells[key] = dict.fromkeys(columns, 0)
            for column, value in zip(columns, values, strict=True):
                if value is not None:
                    cell[column] += value
    for key, (column, p) in RANKED[name].items():
        for cell_key, value in _ranked(rows, column, p, detail).items():
            cells[cell_key][key] = value
    return cells


def _ranked(rows, column: str, p: float, detail: bool) -> dict[tuple, float]:  # noqa: ANN001
    """percentile_cont(p) of a fact's column for every cell, in Python: the rows come
    sorted by the value, so each cell's list is sorted as it is filled."""
    statement = (select(rows.c.b, rows.c.g, rows.c[column]).where(rows.c[column].is_not(None))
                 .order_by(rows.c[column]))
    # The database's own tuples: no row objects for what may be a year of chats.
    ordered = db.session.connection().execute(statement).cursor.fetchall()
    lists: dict[tuple, list] = defaultdict(list)
    for period, group, value in ordered:
        if detail:
            lists[period, group].append(value)
        lists[ALL, group].append(value)
        lists[period, ALL].append(value)
    lists[ALL, ALL] = [value for _, _, value in ordered]
    return {key: percentile(values, p) for key, values in lists.items()}


def percentile(ordered: list[float], p: float) -> float | None:
    """percentile_cont(p) of sorted values: linear interpolation between the ranks around
    p * (n - 1)."""
    if not ordered:
        return None
    position = p * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- the report ------------------------------------------------------------------------------

def report(query: ReportQuery, tz: tzinfo | None = None, *, detail: bool = False) -> dict:
    """Every figure of the report: per group over the range (the table), per period over
    the desk (the charts), the desk's totals, and with `detail` per group and period (the
    CSV's rows; otherwise `cells` is empty)."""
    tz = tz or desk_timezone()
    cuts = periods(query)
    starts = [_instant(p.first, tz) for p in cuts] + [_instant(query.last + timedelta(days=1), tz)]
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:  # a year's sorts in memory, for this transaction only
        db.session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    cells: dict[tuple, dict] = {}
    for name, facts in _facts(query, starts).items():
        for key, raw in _cells(name, facts, postgres, detail).items():
            cells.setdefault(key, {})[name] = raw
    figures = {key: _figures(raw) for key, raw in cells.items()}
    group_ids = sorted({g for _, g in figures if g not in (ALL, None)})
    names = _group_names(query.by, group_ids)
    groups = sorted(({"id": g, "name": names.get(g, f"#{g}")} for g in group_ids),
                    key=lambda item: (item["name"].casefold(), item["id"]))
    empty = _figures({})
    by_group = [dict(figures.get((ALL, group["id"]), empty)) for group in groups]
    cells_out = [{"period": i, "group": index, **figures[i, group["id"]]}
                 for i in range(len(cuts)) for index, group in enumerate(groups)
                 if (i, group["id"]) in figures]
    if query.by == "agent":  # end users ask a queue, not an agent: no requests per agent
        for row in (*by_group, *cells_out):
            row.update(requested=None, abandoned=None, abandoned_share=None)
    return {
        "from": query.first.isoformat(), "to": query.last.isoformat(), "by": query.by,
        "period": query.period, "timezone": str(getattr(tz, "key", tz)),
        "periods": [{"key": p.key, "first": p.first.isoformat(), "last": p.last.isoformat()}
                    for p in cuts],
        "groups": groups,
        "totals": figures.get((ALL, ALL), empty),
        "by_period": [figures.get((i, ALL), empty) for i in range(len(cuts))],
        "by_group": by_group,
        "cells": cells_out,
    }


def _figures(raw: Mapping[str, dict]) -> dict:
    """The figures a manager reads, from one cell's raw sums, counts and percentiles."""
    requested = raw.get("requested", {}).get("n", 0)
    accepted = raw.get("accepted", {})
    ended = raw.get("ended", {})
    abandoned = int(ended.get("abandoned") or 0)
    handled = int(ended.get("handled") or 0)
    csat_count = int(ended.get("csat_count") or 0)
    with_messages = int(ended.get("with_messages") or 0)
    return {
        "requested": requested,
        "accepted": accepted.get("n", 0),
        "abandoned": abandoned,
        "abandoned_share": round(abandoned / requested, 4) if requested else None,
        "median_wait_seconds": _seconds(accepted.get("median_wait_seconds")),
        "p90_wait_seconds": _seconds(accepted.get("p90_wait_seconds")),
        "handled": handled,
        "median_first_response_seconds": _seconds(ended.get("median_first_response_seconds")),
        "median_handle_seconds": _seconds(ended.get("median_handle_seconds")),
        "messages_per_chat": (round(int(ended["messages"]) / with_messages, 2)
                              if with_messages else None),
        "csat_average": (round(int(ended["rating_sum"]) / csat_count, 2)
                         if csat_count else None),
        "csat_count": csat_count,
        "srs_resolved": int(ended.get("srs_resolved") or 0),
    }


def _seconds(value: object) -> float | None:
    return None if value is None else round(max(float(value), 0.0), 1)
