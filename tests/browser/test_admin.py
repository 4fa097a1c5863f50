"""The manager's screens in a real browser: a new chat queue, an agent in it, a chat in it.

The manager creates the chat queue "Network Ops" with bob in it; an end user asks for a chat
in that queue over the HTTP API; bob's Welcome-bar indicator counts it, and the manager's
dashboard, open all along, shows it waiting without a reload. With ADMIN_SCREENSHOTS set to
a folder, the SR list, SR edit and dashboard screenshots are written there.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
import requests
from playwright.sync_api import expect
from sqlalchemy import select, update

from tests.browser.conftest import login

SHOTS = os.environ.get("ADMIN_SCREENSHOTS")
TZ = "Europe/Berlin"

END_USERS = [
    ("Ada Lovelace", "ada@example.com", "Hardware", "Laptop does not wake from sleep"),
    ("Grace Hopper", "grace@example.com", "Software", "Excel crashes when opening macros"),
    ("Linus Berg", "linus@example.com", "Network", "VPN disconnects every ten minutes"),
    ("Margaret Ode", "margaret@example.com", "Software", "Need a licence for the design tool"),
    ("Alan Tuer", "alan@example.com", "Hardware", "Second monitor flickers"),
    ("Katherine J.", "katherine@example.com", "Network", "Wi-Fi on floor 3 is very slow"),
    ("Dennis Rich", "dennis@example.com", "Software", "Outlook keeps asking for my password"),
]


def shot(page, name: str, full_page: bool = False) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=full_page,
                        animations="disabled")


def seed_a_week(database_url: str) -> None:
    """A desk that has been busy for a week, made through the service layer (then back-dated),
    so the dashboard and the SR list have something to show."""
    from app import create_app
    from app.desk import chats
    from app.desk import requests as sr_rules
    from app.extensions import db
    from app.models import (
        Chat,
        ChatMessage,
        SenderRole,
        ServiceRequest,
        SRStatus,
        StatusHistory,
        User,
        WorkLogEntry,
        utcnow,
    )

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        now = utcnow()
        for index in range(24):
            name, email, queue, question = END_USERS[index % len(END_USERS)]
            result = chats.request_chat(name=name, email=email, queue=queue, question=question)
            chat_id, sr_id = result.chat.id, result.sr.id
            requested = now - timedelta(days=index % 7, hours=1 + index % 5, minutes=index * 7)
            values = {"requested_at": requested, "last_activity_at": requested}
            if index % 6 == 5:
                chats.abandon_chat(chat_id)
                values["closed_at"] = requested + timedelta(minutes=2)
            else:
                agent = users["alice"] if queue == "Hardware" else users["bob"]
                chats.accept_chat(chat_id, agent)
                chats.post_message(chat_id, chats.Sender.agent(agent), "Let me have a look.",
                                   f"seed-{index}")
                wait = 15 + (index * 37) % 240
                for offset, message_id in enumerate(db.session.scalars(
                        select(ChatMessage.id).where(ChatMessage.chat_id == chat_id)
                        .order_by(ChatMessage.id))):  # back-date before the transcript is made
                    db.session.execute(update(ChatMessage).where(ChatMessage.id == message_id)
                                       .values(sent_at=requested + timedelta(
                                           seconds=wait * min(offset, 1) + 20 * offset)))
                db.session.commit()
                chats.close_chat(chat_id, by=SenderRole.AGENT, agent=agent)
                values.update(accepted_at=requested + timedelta(seconds=wait),
                              closed_at=requested + timedelta(seconds=wait, minutes=6))
                sr = db.session.get(ServiceRequest, sr_id)
                outcome = [SRStatus.INPROGRESS, SRStatus.RESOLVED, None, SRStatus.QUEUED][index % 4]
                if outcome == SRStatus.RESOLVED:
                    sr_rules.update_service_request(
                        sr_id, actor=agent, expected_version=sr.version, status=outcome,
                        changes={"solution": "Walked the user through the fix.",
                                 "reported_priority": 3, "impact": 3})
                elif outcome is not None:
                    sr_rules.update_service_request(
                        sr_id, actor=agent, expected_version=sr.version, status=outcome,
                        changes={"reported_priority": 2 + index % 3, "impact": 2})
            db.session.execute(update(Chat).where(Chat.id == chat_id).values(**values))
            db.session.execute(update(ServiceRequest).where(ServiceRequest.id == sr_id)
                               .values(created_at=requested, changed_at=requested + timedelta(
                                   minutes=9), version=ServiceRequest.version))
            for step, row_id in enumerate(db.session.scalars(
                    select(StatusHistory.id).where(StatusHistory.sr_id == sr_id)
                    .order_by(StatusHistory.id))):
                db.session.execute(update(StatusHistory).where(StatusHistory.id == row_id)
                                   .values(changed_at=requested + timedelta(minutes=9 * step)))
            db.session.execute(update(WorkLogEntry).where(WorkLogEntry.sr_id == sr_id)
                               .values(created_at=requested + timedelta(minutes=7)))
            db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def desk_server(sqlite_live_server):
    seed_a_week(sqlite_live_server.database_url)
    return sqlite_live_server


def test_manager_opens_network_ops_and_bob_sees_its_chat(new_context, desk_server):
    base = desk_server.url
    manager = new_context(timezone_id=TZ).new_page()
    script_errors = []
    manager.on("pageerror", lambda error: script_errors.append(str(error)))
    manager.on("console", lambda msg: msg.type == "error"
               and script_errors.append(f"{msg.text} {msg.location['url']}"))
    login(manager, base, "maria")

    # The manager creates the chat queue "Network Ops" with bob as member.
    manager.goto(f"{base}/admin/persongroup/new/")
    manager.fill("#name", "Network Ops")
    manager.fill("#description", "Core network and firewall changes.")
    manager.check("#is_chat_queue")
    manager.fill("#greeting", "Hi, {agent} from Network Ops here. What can I do for you?")
    manager.locator(".select2-container", has=manager.locator("input")).last.click()
    manager.keyboard.type("Bob")
    manager.locator(".select2-results li", has_text="Bob Builder").first.click()
    manager.get_by_role("button", name="Save", exact=True).click()
    expect(manager.locator(".alert-success")).to_contain_text("successfully")
    row = manager.locator("table.model-list tr", has_text="Network Ops")
    expect(row).to_contain_text("Bob Builder")
    expect(row.locator('[data-figure="waiting"]')).to_have_text("0")

    # The dashboard stays open on the manager's screen.
    manager.goto(f"{base}/admin/")
    queue_row = manager.locator('#queue-table tr[data-queue="Network Ops"]')
    expect(queue_row.locator(".waiting")).to_have_text("0")
    waiting_before = int(manager.locator('[data-kpi="waiting_total"]').inner_text())

    # bob opens his console: his queues now include Network Ops.
    bob = new_context(timezone_id=TZ).new_page()
    login(bob, base, "bob")
    bob.goto(f"{base}/")
    indicator = bob.locator("#chat-queue-indicator")
    expect(indicator).to_have_attribute("data-state", re.compile("idle|waiting"))
    count_before = int(indicator.get_attribute("data-count"))

    # An end user asks for a chat in Network Ops.
    response = requests.post(f"{base}/api/chat-requests", json={
        "name": "Nora Network", "email": "nora@example.com", "phone": "+49 30 1234",
        "queue": "Network Ops", "question": "The firewall blocks our new partner's VPN."},
        timeout=10)
    assert response.status_code == 201, response.text
    sr_number = response.json()["sr_number"]

    expect(indicator).to_have_attribute("data-count", str(count_before + 1))
    expect(indicator).to_have_attribute("data-state", "waiting")
    # The dashboard shows the waiting chat without a reload (it polls every few seconds).
    expect(queue_row.locator(".waiting")).to_have_text("1", timeout=15_000)
    expect(manager.locator('[data-kpi="waiting_total"]')).to_have_text(str(waiting_before + 1))
    expect(queue_row).to_have_class(re.compile("has-waiting"))
    expect(manager.locator("#live-state")).to_have_attribute("data-state", "live")
    manager.wait_for_timeout(600)  # let the charts finish their animation
    shot(manager, "admin-dashboard.png", full_page=True)
    assert manager.evaluate("Chart.getChart('chart-chats').data.labels.length") == 7

    # The SR list finds the new SR by the end user's name; its edit screen shows it all.
    manager.goto(f"{base}/admin/servicerequest/")
    shot(manager, "admin-sr-list.png")
    manager.fill("input[name=search]", "Nora")
    manager.keyboard.press("Enter")
    link = manager.locator("a.sr-number", has_text=sr_number)
    expect(link).to_have_count(1)
    expect(manager.locator("a.sr-number")).to_have_count(1)
    link.click()
    expect(manager.locator(".sr-header")).to_contain_text(sr_number)
    expect(manager.locator("#end-user")).to_contain_text("nora@example.com")
    expect(manager.locator("#status-history")).to_contain_text("QUEUED")
    options = manager.locator("#status option").all_inner_texts()
    assert options == ["QUEUED (current)", "INPROGRESS", "RESOLVED", "CANCELLED"]
    expect(manager.locator("#transcripts")).to_contain_text("The firewall blocks")

    # A resolved SR from the week: its transcript, history, and a work-log entry added here.
    manager.goto(f"{base}/admin/servicerequest/?flt0_status_equals=RESOLVED")
    manager.locator("a.sr-number").first.click()
    manager.fill("#work-log input[name=summary]", "Checked with the user a day later")
    manager.fill("#work-log textarea[name=details]", "Still working fine. <b>Closing soon</b>.")
    manager.get_by_role("button", name="Add to work log").click()
    expect(manager.locator(".alert-success")).to_contain_text("Work log added")
    expect(manager.locator("#work-log .log-entry").first).to_contain_text(
        "Still working fine. <b>Closing soon</b>.")
    expect(manager.locator("#transcripts pre.transcript")).to_contain_text("Let me have a look.")
    expect(manager.locator("#status-history")).to_contain_text("RESOLVED")
    shot(manager, "admin-sr-edit.png", full_page=True)
    assert script_errors == []
