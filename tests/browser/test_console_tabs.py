"""Several live chats at once: tabs with unread badges, and a transfer to another queue."""

from __future__ import annotations

import os
import re

from playwright.sync_api import expect

from tests.agent.live import Visitor
from tests.browser.conftest import login

# The machine is shared and busy: give live updates time, never a fixed sleep.
expect.set_options(timeout=15_000)
SHOTS = os.environ.get("CONSOLE_SCREENSHOTS")


def accept(page, visitor: Visitor) -> None:
    page.locator(f".waiting-item[data-chat-id='{visitor.chat_id}'] .accept-button").click()
    visitor.wait_for("agent_joined")


def test_tabs_with_unread_badges_and_transfer(new_context, sqlite_live_server):
    base = sqlite_live_server.url
    alice = new_context().new_page()
    login(alice, base, "alice")
    bob = new_context().new_page()
    login(bob, base, "bob")
    bob.goto(base + "/my-work")
    first = Visitor(base, queue="Hardware", question="Docking station is dead", name="Ann Lee",
                    email="ann@example.com")
    second = Visitor(base, queue="Software", question="VPN client <img src=x onerror=alert(1)>",
                     name="Ben Ode", email="ben@example.com")
    try:
        alice.goto(base + "/")
        waiting = alice.locator(".waiting-item .waiting-name")
        expect(waiting).to_have_text(["Ann Lee", "Ben Ode"])  # oldest first
        accept(alice, first)
        accept(alice, second)
        tabs = alice.locator(".chat-tab")
        expect(tabs).to_have_count(2)
        expect(alice.locator(".chat-tab[aria-selected=true] .tab-name")).to_have_text("Ben Ode")
        expect(alice.locator(f"#chat-pane-{second.chat_id} .msg-body").first).to_have_text(
            "VPN client <img src=x onerror=alert(1)>")
        assert alice.locator("img[src=x]").count() == 0

        # A message in the chat that is not on screen shows as an unread badge on its tab.
        first.send("Are you still there?", "ann-1")
        first.send("It has no lights at all", "ann-2")
        ann_tab = alice.locator(f"#chat-tab-{first.chat_id}")
        expect(ann_tab.locator(".unread-badge")).to_have_text("2")
        if SHOTS:
            alice.screenshot(path=os.path.join(SHOTS, "console-tabs.png"), animations="disabled")
        ann_tab.click()
        expect(ann_tab.locator(".unread-badge")).to_have_count(0)
        expect(alice.locator(f"#chat-pane-{first.chat_id}")).to_be_visible()
        expect(alice.locator(f"#chat-pane-{first.chat_id} .msg-body").last).to_have_text(
            "It has no lights at all")

        # Transfer Ben's chat to Network: it leaves alice's tabs and waits for bob there.
        alice.locator(f"#chat-tab-{second.chat_id}").click()
        alice.locator(f"#chat-pane-{second.chat_id} .transfer-button").click()
        dialog = alice.locator("#transfer-dialog")
        expect(dialog.locator("#transfer-queue option")).to_have_text(["Hardware", "Network"])
        dialog.locator("#transfer-queue").select_option(label="Network")
        dialog.locator("button[value=confirm]").click()
        expect(tabs).to_have_count(1)
        expect(alice.locator(".toast").filter(has_text="transferred to Network")).to_have_count(1)
        second.wait_for("chat_transferred", lambda d: d["to_queue"]["name"] == "Network")
        indicator = bob.locator("#chat-queue-indicator")
        expect(indicator).to_have_attribute("data-count", "1")
        bob.goto(base + "/")
        item = bob.locator(f".waiting-item[data-chat-id='{second.chat_id}']")
        expect(item.locator(".queue-chip")).to_have_text("Network")
        expect(item.locator(".waiting-name")).to_have_text("Ben Ode")
        # The end user ends the other chat: the agent is told and the SR stays beside it.
        ack = first.sio.call("close", {"chat_id": first.chat_id}, namespace="/chat", timeout=10)
        assert ack["ok"], ack
        ann_pane = alice.locator(f"#chat-pane-{first.chat_id}")
        expect(ann_pane.locator(".msg-note")).to_have_text("The end user closed the chat.")
        expect(ann_pane.locator("textarea[name=body]")).to_be_disabled()
        expect(ann_tab.locator(".tab-dot")).to_have_class(re.compile("is-closed"))
        expect(ann_pane.locator(".sr-panel .transcript-text")).to_contain_text(
            "It has no lights at all")
        bob.goto(f"{base}/sr/{second.sr_number}")
        expect(bob.locator("#sr-form-root .history-list li").first).to_contain_text(
            re.compile(r"Network"))
    finally:
        first.leave()
        second.leave()


SPY = """
window.__notes = [];
window.__tones = 0;
window.Notification = class {
  static permission = 'granted';
  static requestPermission() { return Promise.resolve('granted'); }
  constructor(title, options) { window.__notes.push({ title, body: options.body }); }
};
const make = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.__tones += 1; return make.call(this); };
"""


def test_agent_turns_on_desktop_notification_and_sound(new_context, sqlite_live_server):
    base = sqlite_live_server.url
    context = new_context()
    context.add_init_script(SPY)  # stands in for the OS notification centre, records calls
    page = context.new_page()
    login(page, base, "bob")
    page.goto(base + "/my-work")
    indicator = page.locator("#chat-queue-indicator")
    expect(indicator).to_have_attribute("data-state", "idle")
    quiet = Visitor(base, queue="Network", question="Wi-Fi drops", name="Quiet Quinn",
                    email="quinn@example.com")
    quiet.leave()
    expect(indicator).to_have_attribute("data-count", "1")
    assert page.evaluate("window.__notes.length") == 0  # off by default

    page.locator(".prefs-menu summary").click()
    page.locator("input[name=notify_desktop]").check()
    expect(page.locator(".toast").filter(has_text="Setting saved")).to_have_count(1)
    page.locator("input[name=notify_sound]").check()
    expect(page.locator(".toast").filter(has_text="Setting saved")).to_have_count(2)
    page.reload()  # the choice is stored on the user, not in the page
    expect(page.locator("input[name=notify_desktop]")).to_be_checked()
    expect(indicator).to_have_attribute("data-count", "1")
    tones = page.evaluate("window.__tones")
    loud = Visitor(base, queue="Network", question="VPN refuses my token", name="Loud Lou",
                   email="lou@example.com")
    loud.leave()
    expect(indicator).to_have_attribute("data-count", "2")
    page.wait_for_function("window.__notes.length === 1")
    note = page.evaluate("window.__notes[0]")
    assert note == {"title": "New chat in Network", "body": "Loud Lou: VPN refuses my token"}
    assert page.evaluate("window.__tones") > tones
