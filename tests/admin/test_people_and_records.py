"""Groups and queues, users, persons, CIs, assets, chats and the outbox, as a manager uses them."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.desk import chats, people
from app.extensions import db
from app.mail import compose as mail
from app.models import (
    AgentPresence,
    Asset,
    ConfigurationItem,
    OutboxMessage,
    OutboxStatus,
    Person,
    PersonGroup,
    Role,
    SenderRole,
    User,
    utcnow,
)
from tests.admin.conftest import open_chat_sr
from tests.support.accounts import sign_in


def _flashes(response) -> str:
    html = response.get_data(as_text=True)
    return " ".join(re.sub(r"\s+", " ", m) for m in re.findall(
        r'<div class="alert[^"]*"[^>]*>(.*?)</div>', html, re.S))


def _fresh(model, key):
    db.session.expire_all()
    return db.session.get(model, key)


# --- person groups and chat queues ---------------------------------------------------------

def test_manager_creates_a_chat_queue_with_members_and_agents_get_it(manager, desk):
    response = manager.post("/admin/persongroup/new/", data={
        "name": "Network Ops", "description": "Core network", "is_chat_queue": "y",
        "greeting": "Hi, {agent} here.", "members": [str(desk.bob.person_id)]},
        follow_redirects=True)
    assert response.status_code == 200
    group = db.session.scalars(select(PersonGroup).where(PersonGroup.name == "Network Ops")).one()
    assert group.is_chat_queue and [p.id for p in group.members] == [desk.bob.person_id]
    # The desk now routes chats of that queue to bob, and not to alice.
    assert group.id in people.agent_queue_ids(desk.bob)
    assert group.id not in people.agent_queue_ids(desk.alice)
    result = chats.request_chat(name="Nora", email="nora@example.com", queue="Network Ops",
                                question="Firewall")
    state = {q["name"]: q["waiting"] for q in chats.queue_state(desk.bob)["queues"]}
    assert state["Network Ops"] == 1
    assert result.chat.queue_id == group.id


def test_group_list_shows_live_figures_per_queue(manager, desk):
    open_chat_sr(queue="Network")
    open_chat_sr(queue="Network", email="second@example.com")
    db.session.add(AgentPresence(sid="sid-bob", user_id=desk.bob.id, node="n1"))
    db.session.commit()
    page = manager.get("/admin/persongroup/").get_data(as_text=True)
    assert f'data-queue-id="{desk.network.id}" data-figure="waiting">2<' in page
    assert f'data-queue-id="{desk.network.id}" data-figure="agents_online">1<' in page
    assert f'data-queue-id="{desk.hardware.id}" data-figure="agents_online">0<' in page


def test_a_queue_with_waiting_chats_cannot_stop_being_a_queue(manager, desk):
    open_chat_sr(queue="Network")
    form = {"name": "Network", "description": "", "greeting": "",
            "members": [str(desk.bob.person_id)]}  # is_chat_queue unchecked
    response = manager.post(f"/admin/persongroup/edit/?id={desk.network.id}", data=form)
    assert "1 chat(s) still wait in Network" in _flashes(response)
    assert _fresh(PersonGroup, desk.network.id).is_chat_queue is True
    response = manager.post(f"/admin/persongroup/edit/?id={desk.hardware.id}",
                            data={**form, "name": "Hardware"})
    assert _fresh(PersonGroup, desk.hardware.id).is_chat_queue is False


def test_a_duplicate_group_name_is_refused(manager, desk):
    response = manager.post("/admin/persongroup/new/", data={"name": "Network"},
                            follow_redirects=True)
    assert "Already exists." in response.get_data(as_text=True)
    assert db.session.scalars(select(PersonGroup).where(PersonGroup.name == "Network")).all() \
        .__len__() == 1


# --- users ----------------------------------------------------------------------------------

def test_manager_creates_a_user_who_can_log_in(manager, desk, other_browser):
    response = manager.post("/admin/user/new/", data={
        "username": "carol", "password": "s3cret-passphrase", "display_name": "Carol Agent",
        "email": "carol@example.com", "phone": "", "role": "AGENT",
        "groups": [str(desk.hardware.id)]}, follow_redirects=True)
    assert "User carol created." in _flashes(response)
    carol = db.session.scalars(select(User).where(User.username == "carol")).one()
    assert carol.role == Role.AGENT and [g.name for g in carol.person.groups] == ["Hardware"]
    assert carol.password_hash != "s3cret-passphrase"
    details = manager.get(f"/admin/user/details/?id={carol.id}").get_data(as_text=True)
    assert "carol" in details and carol.password_hash not in details
    sign_in(other_browser(), "carol", "s3cret-passphrase")


def test_a_short_password_is_refused_when_creating_or_changing_a_login(manager, desk):
    response = manager.post("/admin/user/new/", data={
        "username": "dave", "password": "short-pw", "display_name": "Dave", "role": "AGENT"})
    assert "password must have at least 12 characters." in _flashes(response)
    assert "At least 12 characters." in manager.get("/admin/user/new/").get_data(as_text=True)
    response = manager.post(f"/admin/user/edit/?id={desk.bob.id}", data={
        "role": "AGENT", "is_enabled": "y", "new_password": "short-pw", "indicator_style": ""})
    assert "password must have at least 12 characters." in _flashes(response)
    assert _fresh(User, desk.bob.id).check_password("demo")
    assert db.session.scalar(select(db.func.count(User.id))) == 3


def test_a_taken_username_is_refused_with_the_desk_message(manager, desk):
    response = manager.post("/admin/user/new/", data={
        "username": "BOB", "password": "whatever-it-is", "display_name": "Bob Two",
        "role": "AGENT"})
    assert "username BOB is taken." in _flashes(response)
    assert db.session.scalar(select(db.func.count(User.id))) == 3


def test_manager_sets_a_password_and_disables_a_user(manager, desk, other_browser):
    response = manager.post(f"/admin/user/edit/?id={desk.bob.id}", data={
        "role": "AGENT", "is_enabled": "y", "new_password": "new-long-passphrase", "indicator_style": "bubble"},
        follow_redirects=True)
    assert "Password of bob changed." in _flashes(response)
    assert _fresh(User, desk.bob.id).indicator_style == "bubble"
    bob_client = other_browser()
    sign_in(bob_client, "bob", "new-long-passphrase")
    assert bob_client.get("/").status_code == 200

    manager.post(f"/admin/user/edit/?id={desk.bob.id}", data={
        "role": "AGENT", "new_password": "", "indicator_style": ""})  # unchecked: disabled
    assert _fresh(User, desk.bob.id).is_enabled is False
    assert bob_client.get("/").status_code == 302  # his session is over
    refused = other_browser().post("/login", data={"username": "bob", "password": "new-long-passphrase"})
    assert refused.status_code == 401


def test_a_manager_changing_his_own_password_stays_signed_in_here_only(manager, desk,
                                                                      other_browser):
    elsewhere = other_browser()
    sign_in(elsewhere, "maria")
    response = manager.post(f"/admin/user/edit/?id={desk.maria.id}", data={
        "role": "MANAGER", "is_enabled": "y", "new_password": "a fresh passphrase",
        "indicator_style": ""}, follow_redirects=True)
    assert "Password of maria changed." in _flashes(response)
    assert manager.get("/admin/").status_code == 200
    assert elsewhere.get("/admin/").status_code == 302


def test_manager_cannot_lock_himself_out(manager, desk):
    response = manager.post(f"/admin/user/edit/?id={desk.maria.id}", data={
        "role": "AGENT", "is_enabled": "y", "indicator_style": ""})
    assert "You cannot remove your own manager access." in _flashes(response)
    assert _fresh(User, desk.maria.id).role == Role.MANAGER


def test_promoting_an_agent_opens_the_admin_to_him(manager, desk, other_browser):
    manager.post(f"/admin/user/edit/?id={desk.alice.id}", data={
        "role": "MANAGER", "is_enabled": "y", "indicator_style": ""})
    alice = other_browser()
    sign_in(alice, "alice")
    assert alice.get("/admin/").status_code == 200
    manager.post(f"/admin/user/edit/?id={desk.alice.id}", data={
        "role": "AGENT", "is_enabled": "y", "indicator_style": ""})
    assert alice.get("/admin/").status_code == 403


# --- persons, CIs, assets -------------------------------------------------------------------

def test_person_edit_applies_the_desk_cleaning_rules(manager, desk):
    person = desk.bob.person
    response = manager.post(f"/admin/person/edit/?id={person.id}", data={
        "display_name": "Bob B.", "email": "not-an-address", "phone": ""}, follow_redirects=True)
    assert "e-mail" in _flashes(response).lower()
    assert _fresh(Person, person.id).email == "bob@example.com"
    manager.post(f"/admin/person/edit/?id={person.id}", data={
        "display_name": "Bob B.", "email": "bob.b@example.com", "phone": "+1 555 0199"})
    changed = _fresh(Person, person.id)
    assert (changed.display_name, changed.email, changed.phone) == \
        ("Bob B.", "bob.b@example.com", "+1 555 0199")


def test_ci_and_asset_crud_and_a_used_ci_cannot_be_deleted(manager, desk):
    manager.post("/admin/ci/new/", data={"name": "FW-EDGE-01", "classification": "Network",
                                         "description": "Edge firewall"})
    ci = db.session.scalars(select(ConfigurationItem).where(
        ConfigurationItem.name == "FW-EDGE-01")).one()
    manager.post("/admin/asset/new/", data={"tag": "FW-9001", "description": "Firewall box",
                                            "location": "DC1"})
    asset = db.session.scalars(select(Asset).where(Asset.tag == "FW-9001")).one()
    assert asset.location == "DC1"

    sr = open_chat_sr().sr
    from app.desk import requests

    requests.update_service_request(sr.id, actor=desk.maria, expected_version=sr.version,
                                    changes={"ci_id": ci.id})
    response = manager.post("/admin/ci/delete/", data={"id": str(ci.id)}, follow_redirects=True)
    assert "is used by 1 service request(s)" in _flashes(response)
    assert _fresh(ConfigurationItem, ci.id) is not None
    manager.post("/admin/asset/delete/", data={"id": str(asset.id)})
    assert _fresh(Asset, asset.id) is None


# --- chats and outbox -----------------------------------------------------------------------

def test_chats_are_read_only_with_their_transcript_as_text(manager, desk):
    result = open_chat_sr(question="<script>alert(1)</script> help")
    chats.accept_chat(result.chat.id, desk.bob)
    chats.post_message(result.chat.id, chats.Sender.agent(desk.bob), "On it <b>now</b>", "c1")
    chats.close_chat(result.chat.id, by=SenderRole.AGENT, agent=desk.bob)
    page = manager.get(f"/admin/chat/details/?id={result.chat.id}").get_data(as_text=True)
    assert "On it &lt;b&gt;now&lt;/b&gt;" in page and "<b>now</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; help" in page
    assert result.chat.visitor_key not in page  # the secret behind the end user's token
    assert manager.get(f"/admin/chat/edit/?id={result.chat.id}").status_code == 302
    assert manager.get("/admin/chat/new/").status_code == 302
    manager.post("/admin/chat/delete/", data={"id": str(result.chat.id)})
    assert chats.get_chat(result.chat.id) is not None


def test_outbox_lists_attempts_and_errors_and_retry_puts_mail_back_in_line(manager, desk):
    result = open_chat_sr(email="eve@example.com")
    row = mail.queue_transcript(result.chat)
    db.session.commit()
    row.status = OutboxStatus.FAILED
    row.attempts = 8
    row.last_error = "SMTP 451: try again <later>"
    row.next_attempt_at = utcnow() + timedelta(hours=3)
    db.session.commit()
    page = manager.get("/admin/outbox/").get_data(as_text=True)
    assert "SMTP 451: try again &lt;later&gt;" in page and 'data-status="FAILED"' in page
    assert "eve@example.com" in page

    response = manager.post("/admin/outbox/action/", data={
        "action": "retry", "rowid": [str(row.id)]}, follow_redirects=True)
    assert "1 mail(s) scheduled to be sent again now." in _flashes(response)
    again = _fresh(OutboxMessage, row.id)
    assert again.status == OutboxStatus.PENDING and again.next_attempt_at <= utcnow()
    assert again.attempts == 8 and again.last_error  # kept for the record
    assert manager.get(f"/admin/outbox/edit/?id={row.id}").status_code == 302


# --- dashboard ------------------------------------------------------------------------------

def test_dashboard_json_counts_a_waiting_chat(manager, desk):
    before = manager.get("/admin/dashboard.json").get_json()
    open_chat_sr(queue="Hardware")
    after = manager.get("/admin/dashboard.json").get_json()
    assert after["waiting_total"] == before["waiting_total"] + 1
    hardware = next(q for q in after["queues"] if q["name"] == "Hardware")
    assert hardware["waiting"] == 1 and hardware["oldest_wait_seconds"] is not None
    assert after["today"]["requested"] == before["today"]["requested"] + 1
    page = manager.get("/admin/").get_data(as_text=True)
    assert '<tr data-queue="Hardware" class="has-waiting">' in page
    assert "/vendor/chart.umd.min.js" in page


def test_dashboard_json_is_for_managers_only(other_browser, desk):
    browser = other_browser()
    assert browser.get("/admin/dashboard.json").status_code == 302
    sign_in(browser, "alice")
    assert browser.get("/admin/dashboard.json").status_code == 403
