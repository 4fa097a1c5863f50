"""Canned responses in a real browser: a manager writes one for a queue in the admin (with
its live preview), an agent writes his own, then picks one with `/` in a chat and edits it
before sending; nothing is sent by picking."""

from __future__ import annotations

import os

from playwright.sync_api import expect

from tests.agent.live import Visitor
from tests.browser.conftest import login
from tests.browser.pages import Console

expect.set_options(timeout=15_000)
SHOTS = os.environ.get("CONSOLE_SCREENSHOTS")


def test_agent_inserts_a_canned_response_with_slash_and_edits_it(agent_console, new_context,
                                                                   sqlite_live_server):
    base = sqlite_live_server.url
    admin = new_context(viewport={"width": 1280, "height": 860}).new_page()
    login(admin, base, "maria")
    admin.goto(f"{base}/admin/cannedresponse/new/")
    admin.select_option("#queue", label="Hardware")
    admin.fill("#title", "Power cycle")
    admin.fill("#shortcut", "power")
    body = admin.locator("#body")
    body.fill("Hi {end_user_name}, please hold the power button for {seconds} seconds.")
    preview = admin.locator("[data-canned-preview]")
    expect(preview.locator(".preview-problem")).to_contain_text("Unknown placeholder {seconds}")
    body.fill("Hi {end_user_name}, please hold the power button for ten seconds. "
              "I am noting it on {sr_number}.")
    expect(preview.locator(".preview-text")).to_have_text(
        "Hi Eve End-User, please hold the power button for ten seconds. "
        "I am noting it on SR1001.")
    expect(preview.locator(".preview-problem")).to_be_hidden()
    if SHOTS:
        admin.screenshot(path=os.path.join(SHOTS, "admin-canned.png"), animations="disabled")
    admin.locator("input[type=submit][value=Save]").click()
    expect(admin.locator(".alert-danger")).to_have_count(0)

    page = agent_console("alice", "/settings/canned-responses")
    page.fill("input[name=title]", "Sign-off")
    page.fill("input[name=shortcut]", "bye")
    page.fill("textarea[name=body]", "Thanks {end_user_name}, {agent_name} signing off.")
    expect(page.locator(".preview-text")).to_have_text(
        "Thanks Eve End-User, Alice Agent signing off.")
    page.click("#canned-form button[type=submit]")
    expect(page.locator("#canned-table")).to_contain_text("/bye")

    visitor = Visitor(base, queue="Hardware", question="My laptop will not start")
    try:
        page.goto(base + "/")
        console = Console(page)
        chat = console.accept(visitor.chat_id)
        visitor.wait_for("agent_joined")
        picker = chat.root.locator(".canned-picker")
        chat.composer.click()
        chat.composer.press("/")
        expect(picker.locator(".canned-option")).to_have_count(2)
        chat.composer.press_sequentially("pow")
        expect(picker.locator(".canned-option")).to_have_count(1)
        chat.composer.press("Backspace")
        chat.composer.press("Backspace")
        chat.composer.press("Backspace")
        expect(picker.locator(".canned-option")).to_have_count(2)
        chat.composer.press("ArrowDown")
        expect(picker.locator("[aria-selected=true]")).to_have_attribute("data-shortcut",
                                                                          "power")
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, "console-canned.png"), animations="disabled")
        chat.composer.press("Enter")
        expect(picker).to_be_hidden()
        filled = ("Hi Jane Doe, please hold the power button for ten seconds. "
                  f"I am noting it on {visitor.sr_number}.")
        expect(chat.composer).to_have_value(filled)
        # Inserted for editing, never sent by itself.
        assert [m for m in visitor.events("message") if m["body"] == filled] == []
        chat.composer.press("End")
        chat.composer.press_sequentially(" Then tell me what you see.")
        chat.composer.press("Escape")
        chat.composer.press("Enter")
        sent = visitor.wait_for("message", lambda m: m["body"].startswith("Hi Jane Doe"))
        assert sent["body"] == filled + " Then tell me what you see."
        expect(chat.composer).to_have_value("")
    finally:
        visitor.leave()
