"""The console when things go wrong: two agents race for one chat, the server goes away,
and SR edits that were never saved."""

from __future__ import annotations

import os
import re

import pytest
import requests
from playwright.sync_api import expect

from tests.agent.live import Visitor, screenshot_around, set_indicator_style
from tests.browser.conftest import login

# The machine is shared and busy: give live updates time, never a fixed sleep.
expect.set_options(timeout=15_000)
SHOTS = os.environ.get("CONSOLE_SCREENSHOTS")


def shot(target, name: str, around: bool = False) -> None:
    if SHOTS and around:
        screenshot_around(target, os.path.join(SHOTS, name))
    elif SHOTS:
        target.screenshot(path=os.path.join(SHOTS, name), animations="disabled")


@pytest.fixture
def console(agent_console):
    return agent_console


def test_two_agents_see_one_chat_and_only_one_can_accept(console, sqlite_live_server):
    alice, bob = console("alice"), console("bob")  # both are in Software
    visitor = Visitor(sqlite_live_server.url, queue="Software", question="Teams will not start")
    try:
        selector = f".waiting-item[data-chat-id='{visitor.chat_id}'] .accept-button"
        for page in (alice, bob):
            expect(page.locator(selector)).to_be_visible()
            expect(page.locator("#chat-queue-indicator")).to_have_attribute("data-count", "1")
        # Both click at (nearly) the same moment.
        click = "sel => document.querySelector(sel)?.click()"
        alice.evaluate(click, selector)
        bob.evaluate(click, selector)
        joined = visitor.wait_for("agent_joined")
        winner, loser = (alice, bob) if joined["agent"] == "Alice Agent" else (bob, alice)
        expect(winner.locator(".chat-tab")).to_have_count(1)
        expect(winner.locator(".end-user-name")).to_have_text("Jane Doe")
        expect(loser.locator(selector)).to_have_count(0)
        expect(loser.locator(".chat-tab")).to_have_count(0)
        told = re.compile("Another agent has already accepted this chat|"
                          "Alice Agent took a waiting chat|Bob Builder took a waiting chat")
        expect(loser.locator(".toast").filter(has_text=told)).to_have_count(1)
        for page in (alice, bob):
            expect(page.locator("#chat-queue-indicator")).to_have_attribute("data-count", "0")
        assert len(visitor.events("agent_joined")) == 1
    finally:
        visitor.leave()


def test_indicator_shows_the_error_mark_while_the_server_is_away(console, sqlite_live_server):
    base = sqlite_live_server.url
    set_indicator_style(base, "bob", "bubble")
    text, bubble = console("alice", "/my-work"), console("bob", "/my-work")
    text_indicator = text.locator("#chat-queue-indicator")
    bubble_indicator = bubble.locator("#chat-queue-indicator")
    expect(bubble_indicator).to_have_attribute("data-style", "bubble")
    visitor = Visitor(base, queue="Software", question="Outlook asks for my password")
    visitor.leave()
    expect(bubble_indicator.locator(".cq-badge")).to_have_text("1")
    expect(bubble_indicator).to_have_attribute("data-state", "waiting")
    assert bubble_indicator.locator(".cq-badge").evaluate(
        "e => getComputedStyle(e).animationName") == "cq-blink"
    shot(bubble.locator(".bar-right"), "indicator-bubble-waiting.png", around=True)

    sqlite_live_server.stop()
    expect(text_indicator).to_have_attribute("data-state", "unknown")
    expect(text_indicator).to_have_text("Chat Queue (?)")
    expect(text_indicator).to_have_attribute("data-count", "")
    expect(bubble_indicator).to_have_attribute("data-state", "unknown")
    expect(bubble_indicator.locator(".cq-badge")).to_have_text("?")
    shot(text.locator(".bar-right"), "indicator-text-disconnected.png", around=True)
    shot(bubble.locator(".bar-right"), "indicator-bubble-disconnected.png", around=True)

    try:
        sqlite_live_server.start()
    except RuntimeError as exc:  # say why, in the failure itself (the log may not survive)
        log = sqlite_live_server.log_path.read_text(errors="replace")[-3000:]
        raise AssertionError(f"{exc}\n--- server log ---\n{log}") from exc
    # Back on the same port: both recover with the count, without a reload.
    expect(text_indicator).to_have_attribute("data-state", "waiting", timeout=20_000)
    expect(text_indicator).to_have_text("Chat Queue (1)")
    expect(bubble_indicator).to_have_attribute("data-state", "waiting", timeout=20_000)
    expect(bubble_indicator.locator(".cq-badge")).to_have_text("1")
    second = Visitor(base, queue="Software", question="And my calendar is empty")
    second.leave()
    expect(text_indicator).to_have_text("Chat Queue (2)")
    expect(bubble_indicator.locator(".cq-badge")).to_have_text("2")


def test_unsaved_sr_edits_survive_a_reload_and_closing_warns(console, sqlite_live_server):
    base = sqlite_live_server.url
    page = console("alice")
    visitor = Visitor(base, queue="Software", question="Excel freezes when saving")
    try:
        page.locator(f".waiting-item[data-chat-id='{visitor.chat_id}'] .accept-button").click()
        visitor.wait_for("agent_joined")
        panel = page.locator(f".chat-pane[data-chat-id='{visitor.chat_id}'] .sr-panel")
        panel.locator("select[name=impact]").select_option("2")
        panel.locator("textarea[name=solution]").fill("Repair the Office installation")
        panel.locator("input[name=worklog_summary]").fill("Half-written note")
        expect(panel.locator(".save-state")).to_contain_text("Unsaved changes")
        expect(page.locator(".chat-tab .tab-unsaved")).to_be_visible()

        # Leaving the page with unsaved edits asks first.
        dialogs = []

        def on_dialog(dialog):
            dialogs.append(dialog.type)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.close(run_before_unload=True)
        page.wait_for_timeout(500)
        assert dialogs == ["beforeunload"] and not page.is_closed()
        page.remove_listener("dialog", on_dialog)
        page.on("dialog", lambda dialog: dialog.accept())

        # A reload brings the chat back with the draft still in its SR form.
        page.reload()
        panel = page.locator(f".chat-pane[data-chat-id='{visitor.chat_id}'] .sr-panel")
        expect(panel.locator("select[name=impact]")).to_have_value("2")
        expect(panel.locator("textarea[name=solution]")).to_have_value(
            "Repair the Office installation")
        expect(panel.locator(".banner-draft")).to_contain_text("Restored your unsaved changes")
        expect(panel.locator("input[name=worklog_summary]")).to_have_value("Half-written note")

        # Closing the chat with unsaved edits warns in the confirmation.
        page.locator(".close-button").click()
        dialog = page.locator("#close-dialog")
        expect(dialog.locator(".close-unsaved")).to_be_visible()
        expect(dialog.locator(".close-unsaved")).to_contain_text(
            f"unsaved changes to {visitor.sr_number}")
        dialog.locator("button[value=cancel]").click()
        expect(page.locator(".close-button")).to_be_visible()
        assert visitor.events("chat_closed") == []

        # Someone else saves first: the conflict shows, and the agent's edits stay.
        bob = console("bob", f"/sr/{visitor.sr_number}")
        bob.locator("#sr-form-root select[name=reported_priority]").select_option("1")
        bob.locator("#sr-form-root .save-button").click()
        expect(bob.locator("#sr-form-root .save-state")).to_have_text("All changes saved")
        panel.locator(".save-button").click()
        expect(panel.locator(".banner-conflict")).to_contain_text("changed by someone else")
        expect(panel.locator("textarea[name=solution]")).to_have_value(
            "Repair the Office installation")
        shot(panel, "sr-form-conflict.png")
        panel.locator(".banner-conflict button").click()
        expect(panel.locator("select[name=reported_priority]")).to_have_value("1")
        expect(panel.locator("select[name=impact]")).to_have_value("2")
        panel.locator(".save-button").click()
        expect(panel.locator(".save-state")).to_have_text("All changes saved")
        saved = requests.get(f"{base}/healthz", timeout=5)
        assert saved.ok
        page.reload()
        panel = page.locator(f".chat-pane[data-chat-id='{visitor.chat_id}'] .sr-panel")
        expect(panel.locator("select[name=impact]")).to_have_value("2")
        expect(panel.locator("select[name=reported_priority]")).to_have_value("1")
        expect(panel.locator(".banner-draft")).to_be_hidden()
    finally:
        visitor.leave()


def test_indicator_error_marks_and_reduced_motion(new_context, sqlite_live_server):
    """`!` when the server reports an error, in both styles; no blinking for reduced motion."""
    base = sqlite_live_server.url
    page = new_context(reduced_motion="reduce").new_page()
    login(page, base, "alice")
    page.goto(base + "/my-work")
    indicator = page.locator("#chat-queue-indicator")
    expect(indicator).to_have_attribute("data-state", "idle")
    visitor = Visitor(base, queue="Hardware", question="Printer on fire")
    visitor.leave()
    expect(indicator).to_have_attribute("data-state", "waiting")
    assert indicator.locator(".cq-label").evaluate(
        "e => getComputedStyle(e).animationName") == "none"
    # The rendering the Welcome bar uses when queue_state carries an error (the live link is
    # closed first, so that no fresh queue_state repaints it meanwhile).
    page.evaluate("async () => (await import('/static/agent/queue-link.js')).queueSocket.disconnect()")
    expect(indicator).to_have_attribute("data-state", "unknown")
    render = """async ([style]) => {
        const { renderIndicator } = await import('/static/agent/indicator.js');
        const el = document.getElementById('chat-queue-indicator');
        el.dataset.style = style;
        renderIndicator(el, { state: 'error', count: 3, detail: 'The chat queue reports an error.' });
    }"""
    page.evaluate(render, ["text"])
    expect(indicator).to_have_text("Chat Queue (!)")
    expect(indicator).to_have_attribute("data-state", "error")
    expect(indicator).to_have_attribute("data-count", "")
    shot(page.locator(".bar-right"), "indicator-text-error.png", around=True)
    page.evaluate(render, ["bubble"])
    expect(indicator.locator(".cq-badge")).to_have_text("!")
    shot(page.locator(".bar-right"), "indicator-bubble-error.png", around=True)
