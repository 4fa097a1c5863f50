"""Agent and queue reports, checked against a small desk whose figures are worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from app.desk import chats, report_rollup, reports, requests
from app.desk.chats import Sender
from app.desk.errors import ValidationError
from app.extensions import db
from app.models import Chat, ChatMessage, SenderRole

DAY_A = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
DAY_B = DAY_A + timedelta(days=1)


@dataclass
class Story:
    """One chat's life, in seconds after its request."""

    queue: str
    requested: datetime
    agent: str | None = None
    wait: int | None = None  # accepted this long after the request
    replies: tuple[int, ...] = ()  # the agent's messages, seconds after acceptance
    visitor_lines: int = 0  # messages of the end user besides the question
    handle: int | None = None  # closed this long after acceptance
    rating: int | None = None
    resolve: bool = False  # the agent resolves the SR during the chat
    abandon_after: int | None = None


def live(desk, story: Story) -> int:
    """The chat of the story, made through the desk's use cases, its times then set (behind
    the desk's back, so the roll-up is told to count the chat again)."""
    chat_id = chats.request_chat(name="Eve End-User", email="eve@example.com",
                                 queue=story.queue, question="My VPN drops").chat.id
    times = {"requested_at": story.requested}
    if story.agent:
        agent = getattr(desk, story.agent)
        chats.accept_chat(chat_id, agent)  # the queue greets the end user in his name
        accepted = story.requested + timedelta(seconds=story.wait)
        times["accepted_at"] = accepted
        for n, after in enumerate(story.replies):
            message, _ = chats.post_message(chat_id, Sender.agent(agent), f"Reply {n}", f"a{n}")
            db.session.execute(update(ChatMessage).where(ChatMessage.id == message["id"])
                               .values(sent_at=accepted + timedelta(seconds=after)))
            db.session.commit()  # before the next message, which commits on its own
        for n in range(story.visitor_lines):
            chat = db.session.get(Chat, chat_id)
            chats.post_message(chat_id, Sender.visitor(chat), f"Line {n}", f"v{n}")
        if story.resolve:
            sr = db.session.get(Chat, chat_id).service_request
            requests.update_service_request(sr.id, actor=agent, expected_version=sr.version,
                                            changes={"solution": "Reset the VPN profile."},
                                            status="RESOLVED")
    db.session.execute(update(Chat).where(Chat.id == chat_id).values(**times))
    report_rollup.touch(chat_id)
    db.session.commit()
    if story.handle is not None:
        chats.close_chat(chat_id, by=SenderRole.AGENT, agent=getattr(desk, story.agent))
        db.session.execute(update(Chat).where(Chat.id == chat_id).values(
            closed_at=times["accepted_at"] + timedelta(seconds=story.handle)))
        report_rollup.touch(chat_id)
        db.session.commit()
        if story.rating:
            chats.rate_chat(chat_id, story.rating)
    if story.abandon_after is not None:
        chats.abandon_chat(chat_id)
        db.session.execute(update(Chat).where(Chat.id == chat_id).values(
            closed_at=story.requested + timedelta(seconds=story.abandon_after)))
        report_rollup.touch(chat_id)
        db.session.commit()
    return chat_id


def at(day: datetime, hour: int) -> datetime:
    return day + timedelta(hours=hour)


STORIES = [
    # bob: waits 10, 30, 100, 50 (the last one still live); alice: 20
    Story("Network", at(DAY_A, 10), "bob", wait=10, replies=(20, 25), visitor_lines=2,
          handle=300, rating=5, resolve=True),
    Story("Network", at(DAY_A, 11), "bob", wait=30, replies=(40,), handle=600, rating=3),
    Story("Software", at(DAY_A, 12), "alice", wait=20, replies=(10, 50), visitor_lines=1,
          handle=100),
    Story("Network", at(DAY_A, 13), abandon_after=300),
    Story("Software", at(DAY_B, 9), "bob", wait=100, replies=(60,), handle=900, rating=4),
    Story("Software", at(DAY_B, 10)),  # still waiting
    Story("Network", at(DAY_B, 11), "bob", wait=50, replies=(5,)),  # still live
]


@pytest.fixture
def story_desk(desk):
    for story in STORIES:
        live(desk, story)
    return desk


def ask(detail: bool = False, **args) -> dict:
    query = reports.parse_query({"from": "2026-11-02", "to": "2026-11-03", **args},
                                today=date(2026, 11, 29))
    return reports.report(query, detail=detail)


def by_name(result: dict) -> dict[str, dict]:
    return {g["name"]: row for g, row in zip(result["groups"], result["by_group"], strict=True)}


def test_agent_figures_over_the_range_are_worked_out_from_each_chat(story_desk):
    result = ask(by="agent", period="day")
    agents = by_name(result)
    assert list(agents) == ["Alice Agent", "Bob Builder"]
    bob = agents["Bob Builder"]
    assert bob["accepted"] == 4
    assert bob["median_wait_seconds"] == 40.0  # waits 10 30 50 100
    assert bob["p90_wait_seconds"] == 85.0  # rank 2.7: 50 + 0.7 * 50
    assert bob["handled"] == 3  # the live chat is not over yet
    assert bob["median_first_response_seconds"] == 40.0  # 20 40 60: the greeting is no reply
    assert bob["median_handle_seconds"] == 600.0  # 300 600 900
    # question + 2 lines + 2 replies, question + 1 reply, question + 1 reply
    assert bob["messages_per_chat"] == round(9 / 3, 2)
    assert (bob["csat_average"], bob["csat_count"]) == (4.0, 3)
    assert bob["srs_resolved"] == 1
    # end users ask a queue, never an agent
    assert (bob["requested"], bob["abandoned"], bob["abandoned_share"]) == (None, None, None)
    alice = agents["Alice Agent"]
    assert (alice["accepted"], alice["median_wait_seconds"], alice["handled"]) == (1, 20.0, 1)
    assert alice["median_first_response_seconds"] == 10.0
    assert alice["messages_per_chat"] == 4.0
    assert (alice["csat_average"], alice["csat_count"], alice["srs_resolved"]) == (None, 0, 0)


def test_desk_totals_and_periods(story_desk):
    result = ask(by="agent", period="day")
    totals = result["totals"]
    assert (totals["requested"], totals["accepted"], totals["abandoned"]) == (7, 5, 1)
    assert totals["abandoned_share"] == round(1 / 7, 4)
    assert totals["median_wait_seconds"] == 30.0  # 10 20 30 50 100
    assert totals["p90_wait_seconds"] == 80.0  # rank 3.6: 50 + 0.6 * 50
    assert totals["median_first_response_seconds"] == 30.0  # 10 20 40 60
    assert totals["median_handle_seconds"] == 450.0  # 100 300 600 900
    assert totals["csat_average"] == 4.0 and totals["srs_resolved"] == 1
    assert [p["key"] for p in result["periods"]] == ["2026-11-02", "2026-11-03"]
    monday, tuesday = result["by_period"]
    assert (monday["requested"], monday["accepted"], monday["abandoned"]) == (4, 3, 1)
    assert monday["abandoned_share"] == 0.25
    assert monday["median_wait_seconds"] == 20.0
    assert monday["p90_wait_seconds"] == 28.0  # 10 20 30, rank 1.8
    assert monday["median_handle_seconds"] == 300.0
    assert (tuesday["requested"], tuesday["accepted"], tuesday["handled"]) == (3, 2, 1)
    assert tuesday["median_wait_seconds"] == 75.0
    assert tuesday["p90_wait_seconds"] == 95.0


def test_cells_per_agent_and_day(story_desk):
    assert ask(by="agent", period="day")["cells"] == []  # the screen needs none
    result = ask(by="agent", period="day", detail=True)
    names = [g["name"] for g in result["groups"]]
    cells = {(result["periods"][c["period"]]["key"], names[c["group"]]): c
             for c in result["cells"]}
    assert set(cells) == {("2026-11-02", "Bob Builder"), ("2026-11-02", "Alice Agent"),
                          ("2026-11-03", "Bob Builder")}
    bob_tuesday = cells["2026-11-03", "Bob Builder"]
    assert (bob_tuesday["accepted"], bob_tuesday["median_wait_seconds"]) == (2, 75.0)
    assert bob_tuesday["median_handle_seconds"] == 900.0
    assert bob_tuesday["csat_average"] == 4.0


def test_queue_figures_count_requests_and_abandoned_share(story_desk):
    queues = by_name(ask(by="queue", period="week"))
    assert list(queues) == ["Network", "Software"]
    network, software = queues["Network"], queues["Software"]
    assert (network["requested"], network["accepted"], network["abandoned"]) == (4, 3, 1)
    assert network["abandoned_share"] == 0.25
    assert network["median_wait_seconds"] == 30.0
    assert (software["requested"], software["accepted"], software["abandoned"]) == (3, 2, 0)
    assert software["abandoned_share"] == 0.0
    assert software["median_wait_seconds"] == 60.0


def test_weeks_and_months_are_calendar_periods_cut_to_the_range():
    query = reports.parse_query({"from": "2026-01-28", "to": "2026-03-03", "period": "week"},
                                today=date(2026, 11, 29))
    weeks = reports.periods(query)
    assert [(w.key, w.first.isoformat(), w.last.isoformat()) for w in weeks[:2]] == [
        ("2026-W05", "2026-01-28", "2026-02-01"), ("2026-W06", "2026-02-02", "2026-02-08")]
    assert weeks[-1].key == "2026-W10" and weeks[-1].last == date(2026, 3, 3)
    months = reports.periods(reports.ReportQuery(date(2026, 12, 15), date(2027, 2, 3),
                                                 period="month"))
    assert [(m.key, m.first.day, m.last.day) for m in months] == [
        ("2026-12", 15, 31), ("2027-01", 1, 31), ("2027-02", 1, 3)]


def test_days_follow_the_desk_timezone(app, desk):
    # 23:30 UTC on Monday is already Tuesday in Berlin
    live(desk, Story("Network", at(DAY_A, 23) + timedelta(minutes=30)))
    query = reports.parse_query({"from": "2026-11-02", "to": "2026-11-03", "by": "queue"},
                                today=date(2026, 11, 29))
    utc = [p["requested"] for p in reports.report(query)["by_period"]]
    app.config["DESK_TIMEZONE"] = "Europe/Berlin"
    report_rollup.recount()  # what an operator runs after changing DESK_TIMEZONE
    berlin = reports.report(query)
    assert (utc, [p["requested"] for p in berlin["by_period"]]) == ([1, 0], [0, 1])
    assert berlin["timezone"] == "Europe/Berlin"


def test_an_empty_range_has_no_rows_and_no_figures(desk):
    result = ask(by="queue", period="month")
    assert result["groups"] == [] and result["cells"] == []
    assert result["totals"]["requested"] == 0
    assert result["totals"]["median_wait_seconds"] is None
    assert result["totals"]["abandoned_share"] is None


def test_resolving_after_the_wrap_up_does_not_count(desk):
    chat_id = live(desk, Story("Network", at(DAY_A, 10), "bob", wait=10, replies=(5,),
                               handle=60))
    db.session.execute(update(Chat).where(Chat.id == chat_id).values(
        closed_at=datetime.now(UTC) - requests.WRAP_UP - timedelta(minutes=1)))
    db.session.commit()
    sr = db.session.get(Chat, chat_id).service_request
    requests.update_service_request(sr.id, actor=desk.bob, expected_version=sr.version,
                                    changes={"solution": "Later, by phone."}, status="RESOLVED")
    assert db.session.get(Chat, chat_id, populate_existing=True).sr_resolved_at is None


def test_resolving_in_the_wrap_up_counts(desk):
    chat_id = live(desk, Story("Network", at(DAY_A, 10), "bob", wait=10, replies=(5,)))
    chats.close_chat(chat_id, by=SenderRole.AGENT, agent=desk.bob)
    sr = db.session.get(Chat, chat_id).service_request
    requests.update_service_request(sr.id, actor=desk.bob, expected_version=sr.version,
                                    changes={"solution": "Reset the profile."},
                                    status="RESOLVED")
    assert db.session.get(Chat, chat_id, populate_existing=True).sr_resolved_at is not None


@pytest.mark.parametrize(("args", "code", "field"), [
    ({"from": "2026-11-10", "to": "2026-11-01"}, "reversed_range", "to"),
    ({"from": "2023-01-01", "to": "2026-11-01"}, "range_too_long", "from"),
    ({"from": "yesterday"}, "invalid_date", "from"),
    ({"to": "2026-02-30"}, "invalid_date", "to"),
    ({"to": ["2026-02-01"]}, "invalid_date", "to"),
    ({"from": "1999-12-31", "to": "2000-01-02"}, "out_of_range", "from"),
    ({"from": "9999-12-30", "to": "9999-12-31"}, "out_of_range", "from"),
    ({"by": "customer"}, "unknown_grouping", "by"),
    ({"period": "hour"}, "unknown_period", "period"),
])
def test_bad_report_requests_are_refused_with_a_clear_code(args, code, field):
    with pytest.raises(ValidationError) as refused:
        reports.parse_query(args, today=date(2026, 11, 29))
    assert (refused.value.code, refused.value.field) == (code, field)


def test_defaults_are_the_last_thirty_days_by_agent_per_day():
    query = reports.parse_query({}, today=date(2026, 11, 29))
    assert query == reports.ReportQuery(date(2026, 10, 31), date(2026, 11, 29), "agent", "day")
    two_years = reports.parse_query({"from": "2024-11-29", "to": "2026-11-29"},
                                    today=date(2026, 11, 29))
    assert (two_years.last - two_years.first).days == 730
