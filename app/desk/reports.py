"""Agent and queue reports: the desk's chat figures per agent or queue, per day, week or month.

What each figure means is in docs/domain.md ("Reports"). In short, a chat counts in the
period of the event a figure is about (calendar days in DESK_TIMEZONE, as the dashboard):
requested by its request, accepted (and its wait) by its acceptance, abandoned and handled
(first response, handle time, messages, rating, SR resolved) by its end.

The figures are added up from the roll-up (app.desk.report_rollup), never from the chats:
a row per day for the desk's periods, and per agent or queue its months and the days of the
months the range cuts. Medians and 90th percentiles interpolate linearly between ranks
(PostgreSQL's percentile_cont) over the merged histograms of durations.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, or_, select

from app.desk.errors import ValidationError
from app.desk.report_rollup import COUNTS, HISTOGRAMS, Cell
from app.desk.stats import desk_timezone
from app.extensions import db
from app.models import ChatReportDay, Person, PersonGroup, User, utcnow

GROUPINGS = ("agent", "queue")
PERIODS = ("day", "week", "month")
MAX_DAYS = 731  # two years, one of them a leap year
EARLIEST = date(2000, 1, 1)
DEFAULT_DAYS = 30

# Every figure of a row, in the order of the table and the CSV.
FIGURES = ("requested", "accepted", "abandoned", "abandoned_share", "median_wait_seconds",
           "p90_wait_seconds", "handled", "median_first_response_seconds",
           "median_handle_seconds", "messages_per_chat", "csat_average", "csat_count",
           "srs_resolved")


@dataclass(frozen=True)
class ReportQuery:
    """A valid report request: calendar days first..last (inclusive), grouped and cut."""

    first: date
    last: date
    by: str = "agent"
    period: str = "day"


@dataclass(frozen=True)
class Period:
    key: str  # 2026-11-25, 2026-W48, 2026-11
    first: date  # its first day within the range
    last: date


# --- input -----------------------------------------------------------------------------------

def parse_query(args: Mapping[str, object], today: date | None = None) -> ReportQuery:
    """The report asked for by a screen's parameters (from, to, by, period); ValidationError
    for anything that is not a sensible range, grouping or period. Defaults: the last 30
    days, by agent, per day."""
    today = today or utcnow().astimezone(desk_timezone()).date()
    last = _date(args.get("to"), "to", today)
    first = _date(args.get("from"), "from", last - timedelta(days=DEFAULT_DAYS - 1))
    by = args.get("by") or "agent"
    period = args.get("period") or "day"
    if by not in GROUPINGS:
        raise ValidationError("unknown_grouping",
                              f"Reports are grouped by {' or '.join(GROUPINGS)}.", "by")
    if period not in PERIODS:
        raise ValidationError("unknown_period",
                              f"A report's period is a {', '.join(PERIODS)}.", "period")
    if last < first:
        raise ValidationError("reversed_range",
                              f"The range ends ({last}) before it starts ({first}).", "to")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationError("range_too_long",
                              f"A report covers at most two years ({MAX_DAYS} days); this "
                              f"range has {(last - first).days + 1}.", "from")
    for value, field in ((first, "from"), (last, "to")):
        if value < EARLIEST or value > today + timedelta(days=366):
            raise ValidationError("out_of_range", f"{field} must lie between {EARLIEST} and "
                                  "a year from today.", field)
    return ReportQuery(first, last, by, period)


def _date(value: object, field: str, default: date) -> date:
    if value is None or value == "":
        return default
    if not isinstance(value, str) or len(value) != 10:
        raise ValidationError("invalid_date", f"{field} must be a date like 2026-11-25.", field)
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError("invalid_date", f"{field} must be a date like 2026-11-25.",
                              field) from exc


# --- periods ---------------------------------------------------------------------------------

def periods(query: ReportQuery) -> list[Period]:
    """The days, ISO weeks (Monday to Sunday) or calendar months of the range; the first and
    last are cut to the range."""
    result: list[Period] = []
    day = query.first
    while day <= query.last:
        if query.period == "day":
            end, key = day, day.isoformat()
        elif query.period == "week":
            end = day + timedelta(days=6 - day.weekday())
            year, week, _ = day.isocalendar()
            key = f"{year}-W{week:02d}"
        else:
            following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
            end, key = following - timedelta(days=1), f"{day.year}-{day.month:02d}"
        end = min(end, query.last)
        result.append(Period(key, day, end))
        day = end + timedelta(days=1)
    return result


# --- which roll-up rows make a range ---------------------------------------------------------

Cover = list[tuple[str, date, int]]  # (span, day, sign): rows whose signed sum is the range


def cover(first: date, last: date) -> Cover:
    """The roll-up rows that add up to the days first..last: of each month the range
    touches, its days in the range, or its month row less its days outside the range,
    whichever is fewer rows (a year is its months and a few days)."""
    rows: Cover = []
    month = first.replace(day=1)
    while month <= last:
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        low, high = max(first, month), min(last, following - timedelta(days=1))
        inside = (high - low).days + 1
        outside = (following - month).days - inside
        if inside <= 1 + outside:
            rows += [("day", low + timedelta(days=n), 1) for n in range(inside)]
        else:
            rows.append(("month", month, 1))
            rows += [("day", month + timedelta(days=n), -1)
                     for n in range((following - month).days)
                     if not low <= month + timedelta(days=n) <= high]
        month = following
    return rows


ALL = "*"  # the key of a total: every period, or every group


def _read(scope: str, covers: dict[object, Cover], by_group: bool) -> dict[tuple, Cell]:
    """{(target, group): cell}: each target's cover added up from the scope's rows (per
    group, or the desk's with group ALL)."""
    wanted: dict[tuple[str, date], list[tuple[object, int]]] = defaultdict(list)
    for target, rows in covers.items():
        for span, day, sign in rows:
            wanted[span, day].append((target, sign))
    table = ChatReportDay.__table__
    days = sorted(day for span, day in wanted if span == "day")
    months = sorted(day for span, day in wanted if span == "month")
    where = [and_(table.c.span == "day", table.c.day.between(a, b)) for a, b in _runs(days)]
    if months:
        where.append(and_(table.c.span == "month", table.c.day.in_(months)))
    if not where:
        return {}
    columns = [table.c[name] for name in ("span", "day", "group_id", *COUNTS, *HISTOGRAMS)]
    cells: dict[tuple, Cell] = {}
    for row in db.session.execute(select(*columns).where(table.c.scope == scope, or_(*where))):
        group = row.group_id if by_group else ALL
        for target, sign in wanted.get((row.span, row.day), ()):
            cell = cells.get((target, group))
            if cell is None:
                cell = cells[target, group] = Cell()
            cell.add(row[3:], sign)
    return cells


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days as runs of consecutive days (first, last)."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and day - runs[-1][1] == timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        elif not runs or day != runs[-1][1]:
            runs.append((day, day))
    return runs


def percentile(histogram: Mapping[int, int], p: float) -> float | None:
    """percentile_cont(p) of the values a histogram {value: how many} holds: linear
    interpolation between the ranks around p * (n - 1)."""
    return percentiles(histogram, (p,))[0]


def percentiles(histogram: Mapping[int, int], ps: tuple[float, ...]) -> list[float | None]:
    """`percentile` for each of `ps` (ascending), in one walk over the sorted values."""
    items = sorted(item for item in histogram.items() if item[1] > 0)
    total = sum(n for _, n in items)
    if not total:
        return [None] * len(ps)
    positions = [p * (total - 1) for p in ps]
    ranks = sorted({r for position in positions
                    for r in (math.floor(position), min(math.floor(position) + 1, total - 1))})
    at, seen, wanted = {}, 0, iter(ranks)
    rank = next(wanted)
    for value, n in items:
        seen += n
        while rank is not None and rank < seen:
            at[rank] = value
            rank = next(wanted, None)
        if rank is None:
            break
    result = []
    for position in positions:
        low = math.floor(position)
        high = at[min(low + 1, total - 1)]
        result.append(at[low] + (high - at[low]) * (position - low))
    return result


# --- the report ------------------------------------------------------------------------------

def report(query: ReportQuery, *, detail: bool = False) -> dict:
    """Every figure of the report: per group over the range (the table), per period over
    the desk (the charts), the desk's totals, and with `detail` per group and period (the
    CSV's rows; otherwise `cells` is empty). Days are the roll-up's: DESK_TIMEZONE's."""
    tz = desk_timezone()
    cuts = periods(query)
    whole = {ALL: cover(query.first, query.last)}
    each = {i: cover(p.first, p.last) for i, p in enumerate(cuts)}
    found = _read("desk", {**whole, **each}, by_group=False)
    found |= _read(query.by, {**whole, **(each if detail else {})}, by_group=True)
    figures = {key: _figures(cell) for key, cell in found.items() if not cell.is_empty()}
    group_ids = sorted({g for _, g in figures if g != ALL})
    names = _group_names(query.by, group_ids)
    groups = sorted(({"id": g, "name": names.get(g, f"#{g}")} for g in group_ids),
                    key=lambda item: (item["name"].casefold(), item["id"]))
    empty = _figures(Cell())
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


def _figures(cell: Cell) -> dict:
    """The figures a manager reads, from one cell's counts, sums and histograms."""
    counts, histograms = cell.counts, cell.histograms
    requested, abandoned = counts["requested"], counts["abandoned"]
    csat_count, with_messages = counts["csat_count"], counts["with_messages"]
    median_wait, p90_wait = percentiles(histograms["waits"], (0.5, 0.9))
    return {
        "requested": requested,
        "accepted": counts["accepted"],
        "abandoned": abandoned,
        "abandoned_share": round(abandoned / requested, 4) if requested else None,
        "median_wait_seconds": _seconds(median_wait),
        "p90_wait_seconds": _seconds(p90_wait),
        "handled": counts["handled"],
        "median_first_response_seconds": _seconds(
            percentile(histograms["first_responses"], 0.5)),
        "median_handle_seconds": _seconds(percentile(histograms["handles"], 0.5)),
        "messages_per_chat": (round(counts["messages"] / with_messages, 2)
                              if with_messages else None),
        "csat_average": round(counts["rating_sum"] / csat_count, 2) if csat_count else None,
        "csat_count": csat_count,
        "srs_resolved": counts["srs_resolved"],
    }


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(max(float(value), 0.0), 1)


def _group_names(by: str, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    if by == "agent":
        statement = (select(User.id, Person.display_name).join(Person, Person.id == User.person_id)
                     .where(User.id.in_(ids)))
    else:
        statement = select(PersonGroup.id, PersonGroup.name).where(PersonGroup.id.in_(ids))
    return dict(db.session.execute(statement).all())
