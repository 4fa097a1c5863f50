"""SRs in the admin go through the desk: history, outbox, version check, filters, bulk."""

from __future__ import annotations

import re

from sqlalchemy import select

from app import create_app
from app.desk import requests
from app.extensions import db
from app.models import OutboxMessage, ServiceRequest, SRStatus, StatusHistory, WorkLogEntry
from tests.admin.conftest import hidden_inputs, open_chat_sr
from tests.support.accounts import sign_in


def _sr(sr_id: int) -> ServiceRequest:
    db.session.expire_all()
    return db.session.get(ServiceRequest, sr_id)


def _edit_data(sr: ServiceRequest, **overrides) -> dict:
    """What the edit form posts when the manager changes only `overrides`."""
    data = {
        "version": str(sr.version), "summary": sr.summary, "details": sr.details or "",
        "status": sr.status.value, "memo": "",
        "owner_group": str(sr.owner_group_id) if sr.owner_group_id else "__None",
        "reported_priority": str(sr.reported_priority or ""), "impact": str(sr.impact or ""),
        "urgency": str(sr.urgency or ""), "classification": sr.classification or "",
        "ci": str(sr.ci_id) if sr.ci_id else "__None",
        "asset": str(sr.asset_id) if sr.asset_id else "__None", "solution": sr.solution or "",
    }
    data.update(overrides)
    return data


def _flashes(html: str) -> str:
    return " ".join(re.sub(r"\s+", " ", m) for m in re.findall(
        r'<div class="alert[^"]*"[^>]*>(.*?)</div>', html, re.S))


def _numbers_in_list(html: str) -> set[str]:
    return set(re.findall(r'class="sr-number" href="[^"]*">(SR\d+)</a>', html))


def test_status_offers_only_the_allowed_transitions(manager):
    sr = open_chat_sr().sr
    page = manager.get(f"/admin/servicerequest/edit/?id={sr.id}").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*id="status".*?</select>', page, re.S).group(0)
    offered = re.findall(r'<option[^>]*value="([A-Z]+)"', select_html)
    assert offered == ["QUEUED", "INPROGRESS", "RESOLVED", "CANCELLED"]
    assert "CLOSED" not in offered


def test_resolving_from_admin_writes_history_and_the_resolution_mail(manager, desk):
    sr = open_chat_sr(email="eve@example.com").sr
    response = manager.post(
        f"/admin/servicerequest/edit/?id={sr.id}",
        data=_edit_data(sr, status="RESOLVED", solution="Reinstalled the VPN client.",
                        memo="Fixed on the phone", impact="2"),
        follow_redirects=True)
    assert response.status_code == 200
    after = _sr(sr.id)
    assert after.status == SRStatus.RESOLVED
    assert after.impact == 2
    assert after.changed_by_id == desk.maria.id
    last = db.session.scalars(select(StatusHistory).where(StatusHistory.sr_id == sr.id)
                              .order_by(StatusHistory.id.desc())).first()
    assert (last.from_status, last.to_status) == (SRStatus.QUEUED, SRStatus.RESOLVED)
    assert last.changed_by_id == desk.maria.id and last.memo == "Fixed on the phone"
    mail = db.session.scalars(select(OutboxMessage).where(OutboxMessage.sr_id == sr.id)).all()
    assert [(m.kind, m.to_address) for m in mail] == [("resolution", "eve@example.com")]
    assert "Reinstalled the VPN client." in mail[0].body_text
    # The manager sees the new state on the SR screen.
    page = manager.get(f"/admin/servicerequest/edit/?id={sr.id}").get_data(as_text=True)
    assert 'data-status="RESOLVED"' in page and "Fixed on the phone" in page


def test_resolving_without_a_solution_is_refused_and_writes_nothing(manager):
    sr = open_chat_sr().sr
    response = manager.post(f"/admin/servicerequest/edit/?id={sr.id}",
                            data=_edit_data(sr, status="RESOLVED", summary="Changed too"))
    assert response.status_code == 200
    assert "A solution is required to resolve the SR." in _flashes(response.get_data(as_text=True))
    after = _sr(sr.id)
    assert after.status == SRStatus.QUEUED and after.summary == sr.summary
    assert after.version == sr.version
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_a_stale_edit_is_refused_with_a_clear_message_and_nothing_written(manager, desk):
    sr = open_chat_sr().sr
    opened = _edit_data(sr, summary="Manager's summary", impact="4")
    # Meanwhile an agent moves the SR on, through the same service layer.
    requests.update_service_request(sr.id, actor=desk.bob, expected_version=sr.version,
                                    status=SRStatus.INPROGRESS)
    response = manager.post(f"/admin/servicerequest/edit/?id={sr.id}", data=opened)
    assert response.status_code == 200
    message = _flashes(response.get_data(as_text=True))
    assert f"{sr.number} was changed by someone else since you opened it" in message
    after = _sr(sr.id)
    assert after.summary != "Manager's summary" and after.impact is None
    assert after.status == SRStatus.INPROGRESS


def test_an_illegal_status_posted_by_hand_is_refused(manager):
    sr = open_chat_sr().sr
    response = manager.post(f"/admin/servicerequest/edit/?id={sr.id}",
                            data=_edit_data(sr, status="CLOSED"))
    assert response.status_code == 200
    assert _sr(sr.id).status == SRStatus.QUEUED


def test_moving_a_queued_sr_to_another_group_requeues_it_with_history(manager, desk):
    sr = open_chat_sr(queue="Network").sr
    manager.post(f"/admin/servicerequest/edit/?id={sr.id}",
                 data=_edit_data(sr, owner_group=str(desk.hardware.id)))
    after = _sr(sr.id)
    assert after.owner_group_id == desk.hardware.id and after.status == SRStatus.QUEUED
    rows = db.session.scalars(select(StatusHistory).where(StatusHistory.sr_id == sr.id)).all()
    assert rows[-1].owner_group_id == desk.hardware.id and len(rows) == 2


def test_manager_creates_an_sr_through_the_desk(manager, desk):
    response = manager.post("/admin/servicerequest/new/", data={
        "summary": "Printer jams", "details": "Floor 2", "reported_by": str(desk.bob.person_id),
        "owner_group": str(desk.hardware.id), "source": "PHONE", "reported_priority": "2",
        "impact": "", "urgency": "", "ci": "__None", "asset": "__None"},
        follow_redirects=True)
    assert response.status_code == 200
    sr = db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.summary == "Printer jams")).one()
    assert re.fullmatch(r"SR\d{4,}", sr.number)
    assert sr.status == SRStatus.QUEUED and sr.reported_priority == 2
    assert sr.history[0].to_status == SRStatus.QUEUED
    assert f"{sr.number} opened (QUEUED)." in _flashes(response.get_data(as_text=True))


def test_creating_an_sr_needs_the_reporting_person(manager, desk):
    response = manager.post("/admin/servicerequest/new/", data={
        "summary": "Nobody", "reported_by": "__None", "owner_group": "__None",
        "source": "PHONE", "ci": "__None", "asset": "__None"})
    assert "Choose who reported it." in response.get_data(as_text=True)
    assert db.session.scalars(select(ServiceRequest)).all() == []


def test_work_log_added_from_the_edit_screen(manager, desk):
    sr = open_chat_sr().sr
    response = manager.post(f"/admin/servicerequest/work-log/{sr.id}", data={
        "summary": "Called the user", "details": "<b>no answer</b>", "log_type": "NOTE"},
        follow_redirects=True)
    page = response.get_data(as_text=True)
    entry = db.session.scalars(select(WorkLogEntry).where(WorkLogEntry.sr_id == sr.id)).one()
    assert entry.summary == "Called the user" and entry.author_id == desk.maria.person_id
    assert "&lt;b&gt;no answer&lt;/b&gt;" in page and "<b>no answer</b>" not in page
    empty = manager.post(f"/admin/servicerequest/work-log/{sr.id}", data={"summary": ""},
                         follow_redirects=True)
    assert "Work log not added." in _flashes(empty.get_data(as_text=True))


def test_user_text_is_shown_as_text_on_list_and_edit(manager):
    sr = open_chat_sr(name="<img src=x onerror=alert(1)>",
                      question="<script>alert('x')</script>").sr
    for url in ("/admin/servicerequest/", f"/admin/servicerequest/edit/?id={sr.id}",
                "/admin/chat/", "/admin/person/"):
        page = manager.get(url).get_data(as_text=True)
        assert "<script>alert('x')</script>" not in page
        assert "<img src=x onerror" not in page


def test_filters_and_search_return_the_right_rows(manager, desk):
    network = open_chat_sr(queue="Network", name="Nina Network", email="nina@example.com").sr
    hardware = open_chat_sr(queue="Hardware", name="Hugo Hardware", email="hugo@example.com",
                            question="Screen is dark").sr
    software = open_chat_sr(queue="Software", name="Sam Soft", email="sam@example.com").sr
    requests.update_service_request(software.id, actor=desk.bob,
                                    expected_version=software.version,
                                    status=SRStatus.INPROGRESS,
                                    changes={"reported_priority": 1})

    def listed(query: str) -> set[str]:
        return _numbers_in_list(manager.get(f"/admin/servicerequest/?{query}")
                                .get_data(as_text=True))

    everything = {network.number, hardware.number, software.number}
    assert listed("") == everything
    assert listed("flt0_status_equals=INPROGRESS") == {software.number}
    assert listed("flt0_status_equals=QUEUED") == {network.number, hardware.number}
    assert listed("flt0_owner_group_equals=Hardware") == {hardware.number}
    assert listed("flt0_owner_equals=Bob+Builder") == {software.number}
    assert listed("flt0_priority_equals=1") == {software.number}
    assert listed("flt0_source_equals=CHAT") == everything
    assert listed("flt0_source_equals=PHONE") == set()
    assert listed("flt0_created_greater_than=2000-01-01+00:00:00") == everything
    assert listed("flt0_created_smaller_than=2000-01-01+00:00:00") == set()
    assert listed("search=Hugo") == {hardware.number}
    assert listed("search=nina@example") == {network.number}
    assert listed(f"search={software.number}") == {software.number}
    assert listed("search=dark") == {hardware.number}


def test_list_pages_and_sorts_by_number(manager):
    numbers = [open_chat_sr(email=f"user{i}@example.com").sr.number for i in range(23)]
    first = _numbers_in_list(manager.get("/admin/servicerequest/?sort=0").get_data(as_text=True))
    second = _numbers_in_list(manager.get("/admin/servicerequest/?sort=0&page=1")
                              .get_data(as_text=True))
    assert len(first) == 20 and len(second) == 3
    assert first | second == set(numbers)
    assert first == set(numbers[:20])  # by number, i.e. in order of opening
    page = manager.get("/admin/servicerequest/?sort=0&desc=1").get_data(as_text=True)
    assert re.findall(r'class="sr-number" href="[^"]*">(SR\d+)</a>', page)[0] == numbers[-1]


def test_bulk_status_change_checks_each_sr_and_reports_failures(manager, desk):
    first = open_chat_sr().sr
    second = open_chat_sr(email="other@example.com").sr
    requests.update_service_request(second.id, actor=desk.bob, expected_version=second.version,
                                    status=SRStatus.CANCELLED)
    ids = f"{first.id},{second.id}"
    page = manager.get(f"/admin/servicerequest/bulk/?op=status&ids={ids}")
    assert first.number.encode() in page.data and second.number.encode() in page.data
    response = manager.post("/admin/servicerequest/bulk/?op=status", data={
        "ids": ids, "target": "INPROGRESS", "memo": "Bulk"}, follow_redirects=True)
    text = _flashes(response.get_data(as_text=True))
    assert f"Changed status of 1 SR(s): {first.number}." in text
    assert f"{second.number} cannot go from CANCELLED to INPROGRESS" in text
    assert _sr(first.id).status == SRStatus.INPROGRESS
    assert _sr(second.id).status == SRStatus.CANCELLED


def test_bulk_owner_group_requeues_queued_srs(manager, desk):
    sr = open_chat_sr(queue="Network").sr
    response = manager.post("/admin/servicerequest/bulk/?op=group", data={
        "ids": str(sr.id), "target": str(desk.software.id), "memo": ""}, follow_redirects=True)
    assert f"Changed owner group of 1 SR(s): {sr.number}." in _flashes(
        response.get_data(as_text=True))
    assert _sr(sr.id).owner_group_id == desk.software.id


def test_bulk_actions_start_from_the_list_selection(manager):
    sr = open_chat_sr().sr
    response = manager.post("/admin/servicerequest/action/", data={
        "action": "set_status", "rowid": [str(sr.id)]})
    assert response.status_code == 302
    assert f"/admin/servicerequest/bulk/?op=status&ids={sr.id}" in response.headers["Location"]


def test_a_form_without_its_csrf_token_is_refused(app, desk, database_url):
    secure = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, WTF_CSRF_ENABLED=True)
    client = secure.test_client()
    sign_in(client, "maria")
    sr = open_chat_sr().sr
    page = client.get(f"/admin/servicerequest/edit/?id={sr.id}")
    hidden = hidden_inputs(page.data)
    assert len(hidden["csrf_token"]) == 1 and hidden["version"] == [str(sr.version)]

    refused = client.post(f"/admin/servicerequest/edit/?id={sr.id}",
                          data=_edit_data(sr, summary="Without token"))
    assert refused.status_code == 200
    assert "security token is missing or expired" in _flashes(refused.get_data(as_text=True))
    assert _sr(sr.id).summary == sr.summary
    refused_log = client.post(f"/admin/servicerequest/work-log/{sr.id}",
                              data={"summary": "sneaky", "log_type": "WORK"})
    assert refused_log.status_code == 302
    refused_action = client.post("/admin/servicerequest/bulk/?op=status",
                                 data={"ids": str(sr.id), "target": "CANCELLED"})
    assert refused_action.status_code == 200
    assert "security token is missing or expired" in _flashes(
        refused_action.get_data(as_text=True))
    refused_list_action = client.post("/admin/servicerequest/action/",
                                      data={"action": "set_status", "rowid": [str(sr.id)]})
    assert "/bulk/" not in refused_list_action.headers["Location"]
    assert _sr(sr.id).status == SRStatus.QUEUED
    assert db.session.scalars(select(WorkLogEntry)).all() == []

    accepted = client.post(f"/admin/servicerequest/edit/?id={sr.id}",
                           data={**_edit_data(sr, summary="With token"), **hidden})
    assert accepted.status_code == 302
    assert _sr(sr.id).summary == "With token"
    with secure.app_context():
        db.session.remove()
        db.engine.dispose()
