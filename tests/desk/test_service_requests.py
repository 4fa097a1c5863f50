"""Finishing the SR after the chat: statuses, fields, version check, work log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.desk import chats, requests
from app.desk.errors import Conflict, ValidationError
from app.extensions import db
from app.models import (
    Asset,
    ConfigurationItem,
    OutboxMessage,
    SenderRole,
    ServiceRequest,
    SRStatus,
    StatusHistory,
    WorkLogType,
)


@pytest.fixture
def finished_chat(desk):
    """A chat that alice accepted and closed: the SR is QUEUED and owned by alice."""
    result = chats.request_chat(name="Eve End-User", email="eve@example.com", queue="Software",
                                question="Excel crashes on start")
    chat = chats.accept_chat(result.chat.id, desk.alice)
    chats.close_chat(chat.id, by=SenderRole.AGENT, agent=desk.alice)
    return chat.service_request


def ci(name):
    return db.session.scalars(select(ConfigurationItem).where(ConfigurationItem.name == name)).one()


def asset(tag):
    return db.session.scalars(select(Asset).where(Asset.tag == tag)).one()


def outbox():
    return list(db.session.scalars(select(OutboxMessage)))


def test_queue_to_another_group_clears_owner_and_writes_history(desk, finished_chat):
    sr = finished_chat
    change = requests.update_service_request(
        sr.id, actor=desk.alice, expected_version=sr.version,
        changes={"owner_group_id": desk.network.id, "reported_priority": 2, "impact": 3},
        status="QUEUED", memo="Needs the network team")
    assert change.status_changed
    sr = db.session.get(ServiceRequest, sr.id)
    assert sr.status == SRStatus.QUEUED
    assert sr.owner_group.name == "Network" and sr.owner is None
    assert (sr.reported_priority, sr.impact) == (2, 3)
    last = sr.history[-1]
    assert (last.from_status, last.to_status) == (SRStatus.QUEUED, SRStatus.QUEUED)
    assert last.owner_group.name == "Network"
    assert last.changed_by.username == "alice" and last.memo == "Needs the network team"
    assert outbox() == []


def test_queue_to_own_group(desk, finished_chat):
    sr = finished_chat
    requests.update_service_request(sr.id, actor=desk.alice, expected_version=sr.version,
                                    changes={"owner_group_id": desk.software.id},
                                    status="QUEUED")
    sr = db.session.get(ServiceRequest, sr.id)
    assert sr.owner_group.name == "Software" and sr.owner is None
    assert len(sr.history) == 2


def test_inprogress_with_all_fields(desk, finished_chat):
    sr = finished_chat
    requests.update_service_request(
        sr.id, actor=desk.alice, expected_version=sr.version, status="INPROGRESS",
        changes={"reported_priority": 1, "impact": 2, "urgency": 2, "ci_id": ci("ERP-PROD").id,
                 "asset_id": asset("LT-1001").id, "classification": "Application"})
    sr = db.session.get(ServiceRequest, sr.id)
    assert sr.status == SRStatus.INPROGRESS
    assert sr.owner.display_name == "Alice Agent"
    assert sr.ci.name == "ERP-PROD" and sr.asset.tag == "LT-1001"
    assert [h.to_status for h in sr.history] == [SRStatus.QUEUED, SRStatus.INPROGRESS]
    assert outbox() == []


def test_resolved_needs_a_solution_and_mails_the_end_user_in_the_same_transaction(
        desk, finished_chat):
    sr = finished_chat
    with pytest.raises(ValidationError) as err:
        requests.update_service_request(sr.id, actor=desk.alice, expected_version=sr.version,
                                        status="RESOLVED")
    assert err.value.field == "solution"
    assert db.session.get(ServiceRequest, sr.id).status == SRStatus.QUEUED
    requests.update_service_request(
        sr.id, actor=desk.alice, expected_version=sr.version, status="RESOLVED",
        changes={"solution": "Repaired the Office installation."})
    sr = db.session.get(ServiceRequest, sr.id)
    assert sr.status == SRStatus.RESOLVED
    [mail] = outbox()
    assert mail.kind == "resolution" and mail.to_address == "eve@example.com"
    assert mail.to_name == "Eve End-User"
    assert sr.number in mail.subject
    assert "Repaired the Office installation." in mail.body_text
    assert "Repaired the Office installation." in mail.body_html


def test_inprogress_to_resolved_later_also_mails(desk, finished_chat):
    sr = finished_chat
    sr = requests.change_status(sr.id, "INPROGRESS", actor=desk.alice)
    requests.update_service_request(sr.id, actor=desk.alice, expected_version=sr.version,
                                    changes={"solution": "Done"}, status="RESOLVED")
    assert len(outbox()) == 1
    history = db.session.scalars(select(StatusHistory).where(StatusHistory.sr_id == sr.id)
                                 .order_by(StatusHistory.id))
    assert [h.to_status for h in history] == [SRStatus.QUEUED, SRStatus.INPROGRESS,
                                              SRStatus.RESOLVED]


def test_illegal_transition_is_refused_and_changes_nothing(desk, finished_chat):
    sr = requests.change_status(finished_chat.id, "CANCELLED", actor=desk.alice)
    with pytest.raises(ValidationError) as err:
        requests.update_service_request(sr.id, actor=desk.alice, expected_version=sr.version,
                                        changes={"impact": 1}, status="INPROGRESS")
    assert err.value.code == "illegal_transition"
    assert "CANCELLED" in err.value.message
    db.session.rollback()
    sr = db.session.get(ServiceRequest, sr.id)
    assert sr.status == SRStatus.CANCELLED and sr.impact is None


def test_allowed_transitions_are_what_the_screens_offer():
    assert requests.allowed_transitions(SRStatus.QUEUED) == [
        SRStatus.QUEUED, SRStatus.INPROGRESS, SRStatus.RESOLVED, SRStatus.CANCELLED]
    assert requests.allowed_transitions(SRStatus.RESOLVED) == [SRStatus.INPROGRESS,
                                                               SRStatus.CLOSED]
    assert requests.allowed_transitions(SRStatus.CLOSED) == []


def test_stale_edit_is_refused_never_silently_overwrites(desk, finished_chat):
    sr = finished_chat
    opened_version = sr.version
    requests.update_service_request(sr.id, actor=desk.bob, expected_version=opened_version,
                                    changes={"impact": 1})
    with pytest.raises(Conflict) as err:
        requests.update_service_request(sr.id, actor=desk.alice, expected_version=opened_version,
                                        changes={"impact": 5, "solution": "mine"})
    assert err.value.code == "stale"
    db.session.rollback()
    sr = db.session.get(ServiceRequest, sr.id)
    assert sr.impact == 1 and sr.solution is None


def test_concurrent_commit_between_read_and_write_is_detected(app, desk, finished_chat):
    """Two sessions read the same version; the second commit loses with a Conflict."""
    from sqlalchemy.orm import Session

    sr_id, version = finished_chat.id, finished_chat.version
    with Session(db.engine) as other:
        theirs = other.get(ServiceRequest, sr_id)
        mine = requests.get_service_request(sr_id)
        assert mine.version == theirs.version == version
        theirs.impact = 4
        other.commit()
    with pytest.raises(Conflict):
        requests.update_service_request(sr_id, actor=desk.alice, expected_version=version,
                                        changes={"impact": 2})
    db.session.rollback()
    assert db.session.get(ServiceRequest, sr_id).impact == 4


def test_work_log_entries_are_listed_in_order(desk, finished_chat):
    sr = finished_chat
    requests.add_work_log(sr.id, author=desk.alice.person, summary="Called the user",
                          details="Reinstalled Office remotely")
    requests.add_work_log(sr.id, author=desk.alice.person, summary="Client note",
                          log_type="CLIENTNOTE", client_visible=True)
    sr = db.session.get(ServiceRequest, sr.id)
    entries = [(w.log_type, w.summary) for w in sr.work_log]
    assert entries == [(WorkLogType.TRANSCRIPT, "Chat transcript (2 messages)"),
                       (WorkLogType.WORK, "Called the user"),
                       (WorkLogType.CLIENTNOTE, "Client note")]
    assert sr.work_log[1].author.display_name == "Alice Agent"


@pytest.mark.parametrize("log_type", ["TRANSCRIPT", "transcript", "SECRET", None])
def test_work_log_refuses_hand_written_transcripts_and_unknown_types(desk, finished_chat,
                                                                    log_type):
    sr_id = finished_chat.id
    before = len(finished_chat.work_log)
    with pytest.raises(ValidationError) as err:
        requests.add_work_log(sr_id, author=desk.alice.person, summary="Forged transcript",
                              log_type=log_type)
    assert (err.value.code, err.value.field) == ("invalid", "log_type")
    db.session.rollback()
    assert len(db.session.get(ServiceRequest, sr_id).work_log) == before


@pytest.mark.parametrize("changes, field", [
    ({"reported_priority": 9}, "reported_priority"),
    ({"impact": "high"}, "impact"),
    ({"owner_group_id": 424242}, "owner_group_id"),
    ({"ci_id": 424242}, "ci_id"),
    ({"asset_id": "x"}, "asset_id"),
    ({"summary": ""}, "summary"),
    ({"summary": "x" * 201}, "summary"),
    ({"status_hack": 1}, "status_hack"),
])
def test_bad_field_values_name_the_field_and_change_nothing(desk, finished_chat, changes, field):
    sr = finished_chat
    before = (sr.version, sr.summary, sr.impact, sr.owner_group_id)
    with pytest.raises(ValidationError) as err:
        requests.update_service_request(sr.id, actor=desk.alice, expected_version=sr.version,
                                        changes=changes)
    assert err.value.field == field
    db.session.rollback()
    sr = db.session.get(ServiceRequest, sr.id)
    assert (sr.version, sr.summary, sr.impact, sr.owner_group_id) == before


def test_unknown_status_is_refused(desk, finished_chat):
    with pytest.raises(ValidationError) as err:
        requests.change_status(finished_chat.id, "DONE", actor=desk.alice)
    assert err.value.field == "status"


def test_moving_a_queued_sr_to_another_group_requeues_it_there(desk, finished_chat):
    sr = finished_chat
    change = requests.update_service_request(sr.id, actor=desk.alice, expected_version=sr.version,
                                             changes={"owner_group_id": desk.hardware.id})
    assert change.status_changed
    sr = db.session.get(ServiceRequest, sr.id)
    assert sr.owner is None and sr.owner_group.name == "Hardware"
    assert sr.history[-1].owner_group.name == "Hardware"
