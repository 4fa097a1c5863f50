"""Time the agent and queue reports on a desk with a year of chats, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.reports                                   # SQLite, in /tmp
    .venv/bin/python -m bench.reports --postgres postgresql://postgres@127.0.0.1:5432/postgres

The desk is filled by bench.large_desk spread over one year (`--chats`, default 333,000: the
large desk's three-year rate) into a fresh database (SQLite in a temporary file; on
PostgreSQL one it creates and drops), its reports' roll-up counted as the migration counts
it. Then each report is asked in process, as the admin screen asks it
(`app.desk.reports.report`), once to warm the caches and `--repeat` times timed; the median
is printed, with, from the same run: the same year computed from the chats as before the
roll-up (bench.reports_from_chats), the same report over the last month, and merely reading
the year's chats (a count over the requested_at index). Ratios of one run are what a busy
machine moves less than the times. The two computations' figures are compared too: count
figures that differ (none expected) and the largest gap of a duration (within the roll-up's
steps, docs/domain.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import large_desk  # noqa: E402

TARGET_SECONDS = 0.5  # "well under a second": the year's report, median
YEAR_CASES = [("agent", "day"), ("agent", "week"), ("agent", "month"), ("queue", "day"),
              ("queue", "month")]


def _median_seconds(ask, repeat: int, db) -> float:  # noqa: ANN001
    ask()  # warm-up
    db.session.rollback()
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        ask()
        seconds.append(time.perf_counter() - started)
        db.session.rollback()
    return statistics.median(seconds)


def _largest_gaps(new: dict, old: dict) -> tuple[int, float]:
    """How far the roll-up's figures are from the chats' own: the count figures that differ,
    and the largest gap of a duration relative to its value."""
    counts = sum(new[k] != old[k] for k in ("requested", "accepted", "abandoned", "handled",
                                             "csat_count", "srs_resolved") if k in new)
    gap = 0.0
    for key in ("median_wait_seconds", "p90_wait_seconds", "median_first_response_seconds",
                "median_handle_seconds"):
        if new[key] is not None and old[key]:
            gap = max(gap, abs(new[key] - old[key]) / old[key])
    return counts, gap


def time_reports(url: str, repeat: int) -> list[dict]:
    from app import create_app
    from app.desk import reports
    from app.extensions import db
    from app.models import Chat
    from bench import reports_from_chats

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, DESK_TIMEZONE="UTC")
    today = datetime.now(UTC).date()
    rows = []
    with app.app_context():
        start = datetime.combine(today - timedelta(days=364), datetime.min.time(), tzinfo=UTC)
        scan = (sa.select(sa.func.count(), sa.func.max(Chat.requested_at))
                .where(Chat.requested_at >= start))
        scan_s = _median_seconds(lambda: db.session.execute(scan).all(), repeat, db)
        for by, period in YEAR_CASES:
            medians = {}
            for label, days in (("year", 365), ("month", 30)):
                query = reports.ReportQuery(today - timedelta(days=days - 1), today, by, period)
                medians[label] = _median_seconds(lambda q=query: reports.report(q), repeat, db)
                if label == "year":
                    result = reports.report(query)
                    medians["before"] = _median_seconds(
                        lambda q=query: reports_from_chats.report(q, tz=UTC), repeat, db)
                    before = reports_from_chats.report(query, tz=UTC)
                    db.session.rollback()
                    pairs = [(result["totals"], before["totals"]),
                             *zip(result["by_group"], before["by_group"], strict=True),
                             *zip(result["by_period"], before["by_period"], strict=True)]
                    gaps = [_largest_gaps(new, old) for new, old in pairs]
            rows.append({"by": by, "period": period, "chats": result["totals"]["requested"],
                         "groups": len(result["groups"]), "year_s": medians["year"],
                         "before_s": medians["before"], "month_s": medians["month"],
                         "scan_s": scan_s, "counts_differ": sum(c for c, _ in gaps),
                         "largest_gap": max(g for _, g in gaps)})
        db.session.remove()
        db.engine.dispose()
    return rows


def run(kind: str, url: str, sizes: large_desk.Sizes | None, repeat: int) -> list[dict]:
    if sizes is not None:
        print(f"\n## {kind}: filling a year ({sizes.srs:,} chats)", flush=True)
        seconds = large_desk.fill(url, sizes)
        print(f"filled in {seconds:.0f} s", flush=True)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    rows = time_reports(url, repeat)
    print(f"\n| {kind}: report over the year | chats | rows | roll-up (median) | from the "
          "chats (before) | before / roll-up | last month (roll-up) | roll-up / reading the "
          "year's chats | counts that differ | largest duration gap |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| by {row['by']}, per {row['period']} | {row['chats']:,} | {row['groups']} | "
              f"{row['year_s'] * 1000:.0f} ms | {row['before_s'] * 1000:.0f} ms | "
              f"{row['before_s'] / row['year_s']:.1f} | {row['month_s'] * 1000:.0f} ms | "
              f"{row['year_s'] / row['scan_s']:.1f} | {row['counts_differ']} | "
              f"{row['largest_gap'] * 100:.1f} % |", flush=True)
    print(f"(reading the year's chats alone: {rows[0]['scan_s'] * 1000:.0f} ms)")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", help="admin URL: a database is created there and dropped")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--chats", type=int, default=333_000, help="chats in the year")
    parser.add_argument("--messages", type=int, default=10, help="messages per chat")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each report")
    parser.add_argument("--filled", action="append", default=[], metavar="URL",
                        help="time a database filled before (by this or bench.large_desk "
                             "--years 1) instead of filling one; may be repeated")
    args = parser.parse_args(argv)
    sizes = large_desk.Sizes(srs=args.chats, years=1, messages_per_chat=args.messages,
                             persons=max(100, args.chats // 5), cis=1000, assets=1000)
    results = {}
    for url in args.filled:
        results[sa.make_url(url).get_backend_name()] = run(
            sa.make_url(url).get_backend_name(), url, None, args.repeat)
    if not args.no_sqlite and not args.filled:
        with tempfile.TemporaryDirectory() as folder:
            results["SQLite"] = run("SQLite", f"sqlite:///{folder}/year.sqlite3", sizes,
                                    args.repeat)
    if args.postgres and not args.filled:
        name = f"desk_reports_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            url = sa.make_url(args.postgres).set(database=name).render_as_string(
                hide_password=False)
            results["PostgreSQL"] = run("PostgreSQL", url, sizes, args.repeat)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    worst = max((row["year_s"], kind, row["by"], row["period"])
                for kind, rows in results.items() for row in rows)
    met = worst[0] < TARGET_SECONDS
    print(f"\nslowest year: {worst[0] * 1000:.0f} ms ({worst[1]}, by {worst[2]}, per "
          f"{worst[3]}); target under {TARGET_SECONDS} s: {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
