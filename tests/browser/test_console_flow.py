"""The seed's procedure in a real browser: request, indicator, accept, chat, close, finish the SR.

An end user asks for a chat over the HTTP API and talks on the real /chat wire (a sync
python-socketio client); the agent uses the console in headless Chromium.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.agent.live import Visitor, screenshot_around
from tests.browser.pages import Console, SRForm

TZ = "America/New_York"
# The machine is shared and busy: give live updates time, never a fixed sleep.
expect.set_options(timeout=15_000)
SHOTS = os.environ.get("CONSOLE_SCREENSHOTS")  # a folder: write the README's screenshots


def shot(target, name: str, around: bool = False) -> None:
    if SHOTS and around:
        screenshot_around(target, os.path.join(SHOTS, name))
    elif SHOTS:
        target.screenshot(path=os.path.join(SHOTS, name), animations="disabled")


def local_clock(iso: str) -> str:
    """How Chromium (en-US) shows an ISO-UTC time in the agent's time zone: 04:05 PM."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(ZoneInfo(TZ))
    return moment.strftime("%I:%M %p")


@pytest.fixture
def agent_page(agent_console):
    def open_console(username: str, path: str = "/"):
        return agent_console(username, path, timezone_id=TZ)
    return open_console


@pytest.mark.parametrize("outcome", ["QUEUED", "INPROGRESS", "RESOLVED"])
def test_agent_answers_a_chat_and_finishes_the_sr(outcome, agent_page, sqlite_live_server):
    base = sqlite_live_server.url
    page = agent_page("alice", "/my-work")
    console = Console(page)
    console.expect_queue(0, "idle")
    expect(console.indicator).to_have_text("Chat Queue (0)")

    # 1-2. An end user asks; the indicator counts up live and blinks as an underlined link.
    visitor = Visitor(base, queue="Hardware", question="My laptop shows a black screen <b>now</b>")
    try:
        console.expect_queue(1, "waiting")
        expect(console.indicator).to_have_text("Chat Queue (1)")
        expect(page).to_have_title("(1) My work · Service Desk")  # seen from other tabs too
        label = console.indicator.locator(".cq-label")
        assert label.evaluate("e => getComputedStyle(e).animationName") == "cq-blink"
        assert "underline" in label.evaluate("e => getComputedStyle(e).textDecorationLine")
        assert console.indicator.locator(".cq-icon").evaluate(
            "e => getComputedStyle(e).animationName") == "cq-blink"
        if outcome == "QUEUED":
            shot(page.locator(".bar-right"), "indicator-text-waiting.png", around=True)

        # 3. The indicator opens the chat window; the waiting chat shows who, where, what.
        console.open_waiting_list()
        item = console.waiting(visitor.chat_id)
        expect(item.locator(".queue-chip")).to_have_text("Hardware")
        expect(item.locator(".waiting-name")).to_have_text("Jane Doe")
        expect(item.locator(".waiting-question")).to_have_text(
            "My laptop shows a black screen <b>now</b>")
        expect(item.locator(".wait-time")).to_have_text(re.compile(r"^\d+ s$"))
        chat = console.accept(visitor.chat_id)

        assert visitor.wait_for("agent_joined")["agent"] == "Alice Agent"
        console.expect_queue(0)
        expect(chat.sr_link).to_have_text(visitor.sr_number)
        expect(chat.sr_link).to_have_attribute("href", f"/sr/{visitor.sr_number}")
        chat.expect_end_user("Jane Doe", "+1 555 0199", "jane.doe@example.com")
        expect(chat.root.locator(".msg-agent .msg-body").first).to_have_text(
            "Hello, this is Alice Agent from the Hardware desk. How can I help you today?")

        # 4. Messages both ways, with sender and local time stamps; typing; delivery state.
        sent = visitor.send("It went black after <i>the</i> update", "v-1")
        from_user = chat.message(sent["id"])
        expect(from_user.locator(".msg-body")).to_have_text(
            "It went black after <i>the</i> update")
        expect(from_user.locator(".msg-sender")).to_have_text("Jane Doe")
        expect(from_user.locator("time")).to_have_text(local_clock(sent["sent_at"]))
        visitor.typing(True)
        expect(chat.typing).to_have_text("Jane Doe is typing…")
        visitor.typing(False)
        expect(chat.typing).to_have_text("")
        chat.send("Please hold the power button for ten seconds.")
        reply = visitor.wait_for("message", lambda m: m["sender"]["role"] == "AGENT"
                                 and m["body"].startswith("Please hold"))
        assert reply["sender"]["name"] == "Alice Agent" and reply["sent_at"].endswith("Z")
        mine = chat.message(reply["id"])
        expect(mine.locator(".msg-state")).to_have_attribute("data-state", "stored")
        expect(mine.locator("time")).to_have_text(local_clock(reply["sent_at"]))
        expect(mine.locator(".msg-sender")).to_have_text("Alice Agent")
        if outcome == "QUEUED":
            shot(page, "console-chat-window.png")
            # The SR link opens the SR form on its own page while the chat goes on.
            with page.context.expect_page() as opened:
                chat.sr_link.click()
            sr_tab = SRForm.on_page(opened.value)
            expect(sr_tab.root.locator(".sr-number")).to_have_text(visitor.sr_number)
            expect(sr_tab.badge).to_have_text("QUEUED")
            expect(sr_tab.root.locator(".sr-transcript")).to_contain_text(
                "attached when the chat closes")
            opened.value.close()

        # 5. Close, with confirmation; the end user is told.
        chat.close()
        assert visitor.wait_for("chat_closed")["closed_by"] == "AGENT"
        expect(chat.composer).to_be_disabled()
    finally:
        visitor.leave()

    # 6. Finish the SR in the side panel, which stays after the chat.
    form = chat.sr_form()
    expect(form.root.locator(".transcript-text")).to_contain_text("It went black after")
    assert form.status_choices() == ["", "QUEUED", "INPROGRESS", "RESOLVED", "CANCELLED"]
    if outcome == "QUEUED":
        form.status.select_option("QUEUED")
        expect(form.root.locator(".queue-to")).to_contain_text("Own group: Hardware")
    form.choose_status(outcome, other_group="Network" if outcome == "QUEUED" else None)
    form.set_ranks(priority="2", impact="3")
    form.pick("ci", "erp", "ERP-PROD")
    form.pick("asset", "1002", "LT-1002")
    form.write_solution("Reset the display driver.")
    form.save()
    expect(form.badge).to_have_text(outcome)
    form.add_work_log("Called the end user back", "Screen works <again>.")

    # The ended chat keeps its tab (and SR) across a reload until the agent removes it.
    page.reload()
    chat = console.chat(visitor.chat_id)
    expect(chat.messages().last).to_have_text("Please hold the power button for ten seconds.")
    expect(chat.composer).to_be_disabled()
    expect(chat.sr_form().badge).to_have_text(outcome)
    chat.root.locator(".dismiss-button").click()
    expect(page.locator(".chat-tab")).to_have_count(0)
    page.reload()
    expect(page.locator("#chat-empty")).to_be_visible()
    expect(page.locator(".chat-tab")).to_have_count(0)

    # After a reload, the SR page shows everything that was saved.
    sr_page = page.context.new_page()
    sr_page.goto(f"{base}/sr/{visitor.sr_number}")
    form = SRForm.on_page(sr_page)
    expect(form.badge).to_have_text(outcome)
    expect(form.root.locator("select[name=reported_priority]")).to_have_value("2")
    expect(form.root.locator("select[name=impact]")).to_have_value("3")
    expect(form.root.locator("input[name=ci]")).to_have_value("ERP-PROD")
    expect(form.root.locator("input[name=asset]")).to_have_value(re.compile("^LT-1002"))
    expect(form.root.locator("textarea[name=solution]")).to_have_value(
        "Reset the display driver.")
    expect(form.root.locator(".work-log-list")).to_contain_text("Screen works <again>.")
    latest = form.root.locator(".history-list li").first
    expect(latest).to_contain_text(f"QUEUED → {outcome}")
    expect(latest).to_contain_text("Network" if outcome == "QUEUED" else "Hardware")
    expect(form.root.locator(".transcript-text")).to_contain_text("Please hold the power button")
    expect(form.root.locator(".sr-owner")).to_have_text(
        "—" if outcome == "QUEUED" else "Alice Agent")
    if outcome == "INPROGRESS":
        shot(sr_page, "sr-form-page.png")


def test_my_work_lists_the_agents_srs_filtered_by_status(agent_page, sqlite_live_server):
    base = sqlite_live_server.url
    mine = Visitor(base, queue="Software", question="Excel macro error", name="Mo Mine",
                   email="mo@example.com")
    other = Visitor(base, queue="Network", question="Switch is blinking", name="Nia Net",
                    email="nia@example.com")
    mine.leave()
    other.leave()
    page = agent_page("alice", "/my-work")
    rows = page.locator("#work-table tbody tr")
    expect(rows).to_have_count(1)  # Software is alice's group; Network is not
    expect(rows.first).to_have_attribute("data-number", mine.sr_number)
    expect(rows.first).to_contain_text("Excel macro error")
    expect(rows.first.locator(".status-badge")).to_have_text("QUEUED")
    page.locator(f"a[href='/sr/{mine.sr_number}']").click()
    form = page.locator("#sr-form-root")
    form.locator("select[name=status]").select_option("INPROGRESS")
    form.locator(".save-button").click()
    expect(form.locator(".status-badge")).to_have_text("INPROGRESS")
    expect(form.locator(".sr-owner")).to_have_text("Alice Agent")  # picking it up owns it
    page.goto(base + "/my-work")
    page.locator("#status-filter").select_option("QUEUED")
    page.wait_for_url(re.compile(r"status=QUEUED"))
    expect(page.locator(".empty-page")).to_contain_text("No service requests match")
    page.locator("#status-filter").select_option("INPROGRESS")
    page.wait_for_url(re.compile(r"status=INPROGRESS"))
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td").nth(4)).to_have_text("You")
    expect(page.locator("#chat-queue-indicator")).to_have_attribute("data-state", "waiting")
    shot(page, "console-my-work.png")
