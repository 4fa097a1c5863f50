"""The reports' roll-up, kept by the desk's use cases, always equals a count from the chats."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, update

from app.desk import chats, handover, presence, report_rollup, reports, requests, supervision
from app.desk.chats import Sender
from app.desk.stats import desk_timezone
from app.extensions import db
from app.models import Chat, ChatReportDay, SenderRole, User
from tests.desk.test_concurrency import run_at_once


def ask(queue: str = "Network") -> int:
    return chats.request_chat(name="Eve End-User", email="eve@example.com", queue=queue,
                              question="My VPN drops").chat.id


def fresh(user: User) -> User:
    return db.session.get(User, user.id, populate_existing=True)


def counted() -> dict:
    return {key: cell.row() for key, cell in report_rollup.stored(db.session.connection()).items()}


def recounted() -> dict:
    cells = report_rollup.recompute(db.session.connection(), desk_timezone())
    return {key: cell.row() for key, cell in cells.items()}


def test_roll_up_equals_a_count_from_the_chats_after_every_kind_of_change(desk):
    presence.heartbeat("node-a")
    presence.agent_connected("sid-alice", desk.alice, "node-a")
    presence.agent_connected("sid-bob", desk.bob, "node-a")
    # A chat asked yesterday (its time set behind the desk's back) and answered today.
    old = ask()
    db.session.execute(update(Chat).where(Chat.id == old).values(
        requested_at=datetime.now(UTC) - timedelta(days=1)))
    report_rollup.touch(old)
    db.session.commit()
    chats.accept_chat(old, fresh(desk.bob))
    chats.post_message(old, Sender.agent(fresh(desk.bob)), "On it", "a1")
    sr = db.session.get(Chat, old).service_request
    requests.update_service_request(sr.id, actor=fresh(desk.bob), expected_version=sr.version,
                                    changes={"solution": "New profile."}, status="RESOLVED")
    chats.close_chat(old, by=SenderRole.AGENT, agent=fresh(desk.bob))
    chats.rate_chat(old, 4)
    assert counted() == recounted()

    chats.abandon_chat(ask("Software"))
    chats.close_chat(ask(), by=SenderRole.VISITOR)  # left before anyone accepted it
    moved = ask()
    chats.accept_chat(moved, fresh(desk.bob))
    chats.transfer_chat(moved, fresh(desk.bob), "Software")  # waits again, counted there
    chats.accept_chat(moved, fresh(desk.alice))
    handed = ask("Software")
    chats.accept_chat(handed, fresh(desk.alice))
    handover.hand_over(handed, fresh(desk.alice), "bob")
    taken = ask()
    chats.accept_chat(taken, fresh(desk.bob))
    supervision.take_over(taken, desk.maria)
    chats.close_chat(handed, by=SenderRole.AGENT, agent=fresh(desk.bob))
    ask("Hardware")  # still waiting
    assert counted() == recounted()
    # The report reads what the chats say now: the transferred chat's first acceptance is
    # gone (it waited again), the handed and the taken-over chats count once.
    today = datetime.now(desk_timezone()).date()
    query = reports.parse_query({"from": (today - timedelta(days=1)).isoformat(),
                                 "to": today.isoformat(), "by": "queue"}, today=today)
    totals = reports.report(query)["totals"]
    assert (totals["requested"], totals["accepted"], totals["abandoned"]) == (7, 4, 1)
    assert (totals["handled"], totals["csat_count"], totals["srs_resolved"]) == (2, 1, 1)

    # Folding merges the rows of each key into one and changes no sum.
    before = counted()
    assert db.session.scalar(select(func.count()).select_from(ChatReportDay)) > len(before)
    report_rollup.fold()
    db.session.commit()
    assert counted() == before
    rows = db.session.scalar(select(func.count()).select_from(ChatReportDay))
    assert rows == len(before)


def test_roll_up_stays_equal_to_the_chats_when_agents_race(app, desk):
    asked = [ask("Software") for _ in range(8)]
    agents = [desk.alice.id, desk.bob.id]
    db.session.remove()

    def race(chat_id: int, user_id: int):
        def job():
            chats.accept_chat(chat_id, db.session.get(User, user_id))
            chats.close_chat(chat_id, by=SenderRole.AGENT, agent=db.session.get(User, user_id))
        return job

    # Both agents go for every chat at once: one wins each, the other is refused.
    run_at_once(app, *(race(chat_id, user_id) for chat_id in asked for user_id in agents))
    assert counted() == recounted()
    today = datetime.now(desk_timezone()).date()
    row = counted()[("queue", "day", today, desk.software.id)]
    assert (row["requested"], row["accepted"], row["handled"]) == (8, 8, 8)


def test_counting_a_chat_again_that_did_not_change_adds_nothing(desk):
    chat_id = ask()
    before = counted()
    report_rollup.touch(chat_id)
    db.session.commit()
    assert counted() == before
    assert before[("queue", "day", datetime.now(desk_timezone()).date(),
                   desk.network.id)]["requested"] == 1


def test_a_year_is_read_as_its_months_and_the_days_the_range_cuts():
    rows = reports.cover(date(2025, 11, 30), date(2026, 11, 29))
    assert rows[0] == ("day", date(2025, 11, 30), 1)
    months = [day for span, day, sign in rows if span == "month"]
    assert months == [date(2025, 12, 1)] + [date(2026, m, 1) for m in range(1, 12)]
    # November 2026 is its month less its last day
    assert rows[-1] == ("day", date(2026, 11, 30), -1)
    assert len(rows) == 14
    assert reports.cover(date(2026, 3, 2), date(2026, 3, 8)) == [
        ("day", date(2026, 3, d), 1) for d in range(2, 9)]


def test_durations_are_counted_in_the_documented_steps():
    assert [report_rollup.bucket(s) for s in (0.4, 59.9, 119.9, 247.8, 601, 3725, 91000)] == [
        0, 59, 119, 245, 600, 3600, 90000]


def test_percentiles_of_a_histogram_interpolate_between_ranks():
    assert reports.percentiles({10: 1, 30: 1, 50: 1, 100: 1}, (0.5, 0.9)) == [40.0, 85.0]
    # 10 10 20: the median is the second value, the 90th percentile 10 + 0.8 * 10
    assert reports.percentiles({10: 2, 20: 1, 99: 0}, (0.5, 0.9)) == [10.0, 18.0]
    assert reports.percentiles({}, (0.5,)) == [None]
