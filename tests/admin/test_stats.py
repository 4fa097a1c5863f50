"""The dashboard figures, checked against data whose answer is known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from app.desk import chats, requests, stats
from app.extensions import db
from app.models import AgentPresence, Chat, ServiceRequest, SRStatus

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _chat(desk, queue="Network", *, requested, accepted=None, agent=None, abandoned=None):
    result = chats.request_chat(name="Eve End-User", email="eve@example.com",
                                queue=queue, question="My VPN drops")
    chat_id, sr_id = result.chat.id, result.sr.id
    if accepted is not None:
        chats.accept_chat(chat_id, agent or desk.bob)
    if abandoned is not None:
        chats.abandon_chat(chat_id)
    values = {"requested_at": requested}
    if accepted is not None:
        values["accepted_at"] = accepted
    if abandoned is not None:
        values["closed_at"] = abandoned
    db.session.execute(update(Chat).where(Chat.id == chat_id).values(**values))
    db.session.execute(update(ServiceRequest).where(ServiceRequest.id == sr_id)
                       .values(created_at=requested, version=ServiceRequest.version))
    db.session.commit()
    return chat_id, sr_id


def test_median_and_p90_wait_are_interpolated_between_ranks(desk):
    for wait in (40, 10, 100, 30, 20):  # any order: ranking is the database's job
        start = NOW - timedelta(hours=2)
        _chat(desk, requested=start, accepted=start + timedelta(seconds=wait))
    figures = stats.dashboard(now=NOW, tz=UTC)
    assert figures["today"]["accepted"] == 5
    assert figures["today"]["median_wait_seconds"] == 30.0
    # p90: position 0.9 * 4 = 3.6 -> 40 + 0.6 * (100 - 40)
    assert figures["today"]["p90_wait_seconds"] == 76.0


def test_today_and_last_seven_days_count_requested_accepted_abandoned(desk):
    three_days_ago = NOW - timedelta(days=3)
    _chat(desk, requested=three_days_ago, accepted=three_days_ago + timedelta(seconds=600))
    _chat(desk, requested=NOW - timedelta(minutes=30),
          accepted=NOW - timedelta(minutes=30) + timedelta(seconds=60))
    _chat(desk, requested=NOW - timedelta(minutes=10), abandoned=NOW - timedelta(minutes=5))
    _chat(desk, requested=NOW - timedelta(days=9))  # outside the window, still waiting
    _chat(desk, requested=NOW - timedelta(minutes=1))  # waiting now

    figures = stats.dashboard(now=NOW, tz=UTC)

    today, week = figures["today"], figures["last_7_days"]
    assert (today["requested"], today["accepted"], today["abandoned"]) == (3, 1, 1)
    assert (week["requested"], week["accepted"], week["abandoned"]) == (4, 2, 1)
    assert today["median_wait_seconds"] == 60.0
    assert week["median_wait_seconds"] == 330.0  # between 60 and 600
    daily = {day["date"]: day for day in figures["daily"]}
    assert list(daily) == [f"2026-11-{d}" for d in range(19, 26)]
    assert daily["2026-11-22"]["accepted"] == 1
    assert daily["2026-11-22"]["median_wait_seconds"] == 600.0
    assert daily["2026-11-23"]["requested"] == 0
    assert daily["2026-11-23"]["median_wait_seconds"] is None
    network = next(q for q in figures["queues"] if q["name"] == "Network")
    assert network["waiting"] == 2
    assert figures["waiting_total"] == 2
    # SRs opened today, by their status now: all three are still QUEUED.
    assert today["srs_by_status"]["QUEUED"] == 3
    assert week["srs_by_status"]["QUEUED"] == 4
    assert figures["srs_by_status_all"]["QUEUED"] == 5


def test_days_follow_the_desk_timezone(desk):
    # 23:30 UTC on the 24th is already the 25th in Berlin (UTC+1).
    _chat(desk, requested=datetime(2026, 11, 24, 23, 30, tzinfo=UTC))
    utc_days = {d["date"]: d["requested"] for d in stats.dashboard(now=NOW, tz=UTC)["daily"]}
    berlin = stats.dashboard(now=NOW, tz=ZoneInfo("Europe/Berlin"))
    berlin_days = {d["date"]: d["requested"] for d in berlin["daily"]}
    assert utc_days["2026-11-24"] == 1 and utc_days["2026-11-25"] == 0
    assert berlin_days["2026-11-24"] == 0 and berlin_days["2026-11-25"] == 1
    assert berlin["timezone"] == "Europe/Berlin"


def test_agents_online_per_queue_and_in_total(desk):
    for sid, user in (("s1", desk.bob), ("s2", desk.bob), ("s3", desk.alice)):
        db.session.add(AgentPresence(sid=sid, user_id=user.id, node="n1"))
    db.session.commit()
    figures = stats.dashboard(now=NOW, tz=UTC)
    online = {q["name"]: q["agents_online"] for q in figures["queues"]}
    assert online == {"Hardware": 1, "Network": 1, "Software": 2}
    assert figures["agents_online"] == 2


def test_srs_by_status_counts_current_status(desk):
    _, sr_id = _chat(desk, requested=NOW - timedelta(hours=1))
    sr = db.session.get(ServiceRequest, sr_id)
    requests.update_service_request(sr_id, actor=desk.maria, expected_version=sr.version,
                                    status=SRStatus.CANCELLED)
    db.session.execute(update(ServiceRequest).where(ServiceRequest.id == sr_id)
                       .values(created_at=NOW - timedelta(hours=1)))
    db.session.commit()
    by_status = stats.dashboard(now=NOW, tz=UTC)["today"]["srs_by_status"]
    assert by_status["CANCELLED"] == 1
    assert by_status["QUEUED"] == 0
    assert set(by_status) == {s.value for s in SRStatus}


def test_all_time_counts_follow_every_status_change_and_folding_keeps_them(desk):
    from sqlalchemy import func, select

    from app.models import StatusTally

    def direct() -> dict[str, int]:
        counts = dict.fromkeys((s.value for s in SRStatus), 0)
        for status, count in db.session.execute(
                select(ServiceRequest.status, func.count()).group_by(ServiceRequest.status)):
            counts[SRStatus(status).value] = count
        return counts

    ids = [_chat(desk, requested=NOW - timedelta(days=d))[1] for d in (1, 40, 400)]
    for sr_id, status in ((ids[0], SRStatus.INPROGRESS), (ids[1], SRStatus.CANCELLED)):
        sr = db.session.get(ServiceRequest, sr_id)
        requests.update_service_request(sr_id, actor=desk.maria, expected_version=sr.version,
                                        status=status)
    assert stats.srs_by_status_all() == direct()
    assert direct()["QUEUED"] == 1 and direct()["CANCELLED"] == 1

    assert stats.fold_status_tally() == 3  # one row per status that has SRs
    assert db.session.scalar(select(func.count()).select_from(StatusTally)) == 3
    assert stats.srs_by_status_all() == direct()
    assert stats.fold_status_tally() == 3  # folded already
    sr = db.session.get(ServiceRequest, ids[0])
    requests.update_service_request(ids[0], actor=desk.maria, expected_version=sr.version,
                                    status=SRStatus.QUEUED)
    assert stats.srs_by_status_all() == direct()
