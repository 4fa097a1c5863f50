"""Handing a live chat to another agent from the console's Transfer dialog, in real browsers.

alice, in a chat of Software, opens Transfer, chooses "To an agent of this queue" and sees
who can take it now (bob, with his seats); she hands it to him. Her tab closes with a
confirmation, bob's console opens the chat with its history and the SR, and the end user
in the widget is told Bob joined, without ever seeing the chat wait again. When nobody else
can take it (bob away), the dialog says so.
"""

from __future__ import annotations

import os
import re

from playwright.sync_api import expect

from tests.browser.pages import Console, console_page, end_user_asks
from tests.support.server import wait_until

expect.set_options(timeout=15_000)
SHOTS = os.environ.get("CONSOLE_SCREENSHOTS")


def open_console(new_context, desk, username: str):
    page = console_page(new_context, desk.server.url, username)
    expect(page.locator("#status-switch")).to_have_attribute("data-status", "available")
    return page


def stored_status(desk, username: str) -> str:
    [(status,)] = desk.query(f"select status from user_account where username = '{username}'")
    return status


def test_an_agent_hands_a_live_chat_to_a_colleague(widget_desk, new_context):
    desk = widget_desk
    widget, chat_id, frames = end_user_asks(
        new_context, desk.site.url, name="Hana Hope", email="hana@example.com",
        topic="Applications and accounts", question="Excel will not open")
    sr_number = widget.sr_number()

    bob = open_console(new_context, desk, "bob")
    alice = open_console(new_context, desk, "alice")
    chat = Console(alice).accept(chat_id)
    expect(widget.root.locator(".log")).to_contain_text("Alice Agent has joined the chat.")
    widget.send("It says the licence expired")

    # bob steps away: nobody else can take it now, and the dialog says so. (His switch shows
    # it at once; the dialog is opened once the server has it.)
    bob.get_by_role("radio", name="Away").click()
    expect(bob.locator("#status-switch")).to_have_attribute("data-status", "away")
    assert wait_until(lambda: stored_status(desk, "bob") == "away")
    chat.root.locator(".transfer-button").click()
    dialog = alice.locator("#transfer-dialog")
    dialog.get_by_label("To an agent of this queue").check()
    expect(dialog.locator(".transfer-nobody")).to_be_visible()
    expect(dialog.locator("#transfer-agent")).to_be_disabled()
    dialog.get_by_role("button", name="Cancel").click()

    # bob is back: he is offered in the dialog with his seats, and alice hands him the chat.
    bob.get_by_role("radio", name="Available").click()
    expect(bob.locator("#status-switch")).to_have_attribute("data-status", "available")
    assert wait_until(lambda: stored_status(desk, "bob") == "available")
    chat.root.locator(".transfer-button").click()
    dialog.get_by_label("To an agent of this queue").check()
    expect(dialog.locator(".transfer-to-queue")).to_be_hidden()
    choice = dialog.locator("#transfer-agent option")
    expect(choice).to_have_text([re.compile(r"^Bob Builder · 0 of \d+ chats$")])
    if SHOTS:
        alice.screenshot(path=os.path.join(SHOTS, "console-hand-over.png"))
    dialog.get_by_role("button", name="Transfer").click()

    expect(alice.locator(".toast-success")).to_contain_text(
        "Chat with Hana Hope handed to Bob Builder.")
    expect(alice.locator(f'.chat-pane[data-chat-id="{chat_id}"]')).to_have_count(0)
    taken = Console(bob).chat(chat_id)
    expect(taken.root.locator(".end-user-name")).to_have_text("Hana Hope")
    expect(taken.messages()).to_contain_text(["It says the licence expired"])
    expect(taken.root).to_contain_text(sr_number)
    expect(widget.root.locator(".log")).to_contain_text("Bob Builder has joined the chat.")
    # The end user's chat stayed live all along (never told it waits again), and bob
    # answers in it.
    expect(widget.root.locator(".waiting-card")).to_be_hidden()
    assert not [frame for frame in frames if "chat_transferred" in frame]
    taken.send("Hi Hana, I will renew the licence now.")
    expect(widget.last_from_desk().locator(".bubble")).to_have_text(
        "Hi Hana, I will renew the licence now.")
