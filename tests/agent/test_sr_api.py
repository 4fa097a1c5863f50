"""The SR form's JSON endpoints: read, save with a version, work log, access and bad input."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Asset, ConfigurationItem, ServiceRequest, SRStatus
from tests.agent.conftest import new_chat


def sr_row(number):
    db.session.expire_all()
    return db.session.scalars(select(ServiceRequest).where(ServiceRequest.number == number)).one()


def ids():
    ci = db.session.scalars(select(ConfigurationItem).where(ConfigurationItem.name == "ERP-PROD")).one()
    asset = db.session.scalars(select(Asset).where(Asset.tag == "LT-1002")).one()
    return ci.id, asset.id


def test_sr_endpoints_need_a_login(client, desk, finished_chat):
    response = client.get(f"/agent/api/sr/{finished_chat}")
    assert response.status_code == 401
    assert response.get_json()["error"] == "login_required"


def test_agent_reads_sr_with_version_transitions_and_transcript(alice, finished_chat):
    data = alice.get(f"/agent/api/sr/{finished_chat}").get_json()
    sr = data["sr"]
    assert sr["number"] == finished_chat and sr["status"] == "QUEUED"
    assert sr["allowed_transitions"] == ["QUEUED", "INPROGRESS", "RESOLVED", "CANCELLED"]
    assert sr["owner"]["name"] == "Alice Agent" and sr["owner_group"]["name"] == "Software"
    assert sr["reported_by"] == {"id": sr["reported_by"]["id"], "name": "Eve End-User",
                                 "email": "eve@example.com", "phone": "+1 555 0100"}
    assert isinstance(sr["version"], int)
    assert "Excel crashes on start" in sr["transcripts"][0]["details"]
    assert [h["to"] for h in sr["history"]] == ["QUEUED"]


def test_agent_cannot_see_sr_of_a_group_he_is_not_in(alice, bob, desk):
    number = new_chat("Network").sr.number  # bob is in Network, alice is not
    response = alice.get(f"/agent/api/sr/{number}")
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"
    assert alice.post(f"/agent/api/sr/{number}", json={"version": 1, "changes": {"impact": 2}}
                      ).status_code == 403
    assert alice.post(f"/agent/api/sr/{number}/worklog", json={"summary": "x"}).status_code == 403
    assert sr_row(number).impact is None and sr_row(number).work_log == []
    assert alice.get(f"/sr/{number}").status_code == 403
    assert bob.get(f"/agent/api/sr/{number}").status_code == 200
    assert alice.get("/agent/api/sr/SR99999").status_code == 404


def test_save_in_progress_with_every_field(alice, finished_chat):
    ci_id, asset_id = ids()
    version = sr_row(finished_chat).version
    response = alice.post(f"/agent/api/sr/{finished_chat}", json={
        "version": version, "status": "INPROGRESS", "memo": "Looking at the add-ins",
        "changes": {"reported_priority": 2, "impact": 3, "ci_id": ci_id, "asset_id": asset_id,
                    "solution": "Disable the broken add-in"}})
    assert response.status_code == 200, response.get_json()
    sr = response.get_json()["sr"]
    assert sr["status"] == "INPROGRESS" and sr["version"] == version + 1
    assert (sr["reported_priority"], sr["impact"]) == (2, 3)
    assert sr["ci"]["label"] == "ERP-PROD" and sr["asset"]["label"].startswith("LT-1002")
    assert sr["history"][-1]["memo"] == "Looking at the add-ins"
    row = sr_row(finished_chat)
    assert row.status == SRStatus.INPROGRESS and row.solution == "Disable the broken add-in"


def test_queue_to_another_group_keeps_the_sr_reachable_for_the_chatting_agent(alice, desk,
                                                                            finished_chat):
    version = sr_row(finished_chat).version
    response = alice.post(f"/agent/api/sr/{finished_chat}", json={
        "version": version, "status": "QUEUED", "changes": {"owner_group_id": desk.network.id}})
    assert response.status_code == 200
    row = sr_row(finished_chat)
    assert row.owner_group.name == "Network" and row.owner is None
    # alice is not in Network, but she chatted about this SR: she can still open it.
    assert alice.get(f"/agent/api/sr/{finished_chat}").status_code == 200


def test_stale_version_is_a_conflict_and_changes_nothing(alice, bob, finished_chat):
    version = sr_row(finished_chat).version
    first = bob.post(f"/agent/api/sr/{finished_chat}", json={"version": version,
                                                             "changes": {"impact": 1}})
    assert first.status_code == 200
    late = alice.post(f"/agent/api/sr/{finished_chat}", json={"version": version,
                                                              "changes": {"impact": 5}})
    assert late.status_code == 409
    body = late.get_json()
    assert body["error"] == "stale" and body["field"] == "version"
    assert "changed by someone else" in body["message"]
    assert sr_row(finished_chat).impact == 1


def test_bad_input_gets_a_clear_error_and_changes_nothing(alice, finished_chat):
    before = sr_row(finished_chat)
    version, url = before.version, f"/agent/api/sr/{finished_chat}"
    cases = [
        ({"version": version, "changes": {"reported_priority": 9}}, "reported_priority"),
        ({"version": version, "changes": {"impact": "high"}}, "impact"),
        ({"version": version, "changes": {"ci_id": 99999}}, "ci_id"),
        ({"version": version, "changes": {"owner_id": 1}}, "owner_id"),
        ({"version": version, "changes": ["impact"]}, "changes"),
        ({"version": version, "status": "FIXED"}, "status"),
        ({"version": version, "status": "CLOSED"}, "status"),  # QUEUED cannot go to CLOSED
        ({"version": version, "status": "RESOLVED"}, "solution"),
        ({"version": "abc", "changes": {"impact": 2}}, "version"),
        ({"version": version, "changes": {"impact": 2}, "admin": True}, "admin"),
    ]
    for body, field in cases:
        response = alice.post(url, json=body)
        assert response.status_code == 400, (body, response.get_json())
        assert response.get_json()["field"] == field, (body, response.get_json())
        assert response.get_json()["message"]
    not_json = alice.post(url, data="impact=2", content_type="application/x-www-form-urlencoded")
    assert not_json.status_code == 400
    after = sr_row(finished_chat)
    assert (after.version, after.status, after.impact, after.reported_priority) == (
        version, SRStatus.QUEUED, None, None)


def test_resolve_with_solution(alice, finished_chat):
    version = sr_row(finished_chat).version
    response = alice.post(f"/agent/api/sr/{finished_chat}", json={
        "version": version, "status": "RESOLVED",
        "changes": {"solution": "Reinstalled Office <b>cleanly</b>"}})
    assert response.status_code == 200
    sr = response.get_json()["sr"]
    assert sr["status"] == "RESOLVED" and sr["solution"] == "Reinstalled Office <b>cleanly</b>"
    assert sr["allowed_transitions"] == ["INPROGRESS", "CLOSED"]


def test_work_log_add_and_list(alice, finished_chat):
    url = f"/agent/api/sr/{finished_chat}/worklog"
    added = alice.post(url, json={"summary": "Called the user", "details": "No answer",
                                  "client_visible": True})
    assert added.status_code == 201
    entry = added.get_json()["entry"]
    assert entry["author"] == "Alice Agent" and entry["client_visible"] is True
    listed = alice.get(url).get_json()["work_log"]
    assert [e["summary"] for e in listed] == [listed[0]["summary"], "Called the user"]
    assert listed[0]["type"] == "TRANSCRIPT"
    sr = alice.get(f"/agent/api/sr/{finished_chat}").get_json()["sr"]
    assert [e["summary"] for e in sr["work_log"]] == ["Called the user"]


def test_work_log_bad_input(alice, finished_chat):
    url = f"/agent/api/sr/{finished_chat}/worklog"
    for body, field in [({"summary": "  "}, "summary"), ({"summary": "x" * 201}, "summary"),
                        ({"summary": "ok", "log_type": "TRANSCRIPT"}, "log_type"),
                        ({"summary": "ok", "log_type": "GOSSIP"}, "log_type"),
                        ({"summary": "ok", "author": "bob"}, "author")]:
        response = alice.post(url, json=body)
        assert response.status_code == 400, body
        assert response.get_json()["field"] == field
    assert len(alice.get(url).get_json()["work_log"]) == 1  # only the transcript
