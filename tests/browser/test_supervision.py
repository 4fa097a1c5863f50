"""Internal notes and live supervision in real browsers: the end user in the widget on a
customer page, the agent in the console, the manager watching from the admin.

The agent writes an internal note; the manager opens the chat from the admin's dashboard,
watches it live (typing too), whispers to the agent, joins and writes; the widget shows the
join and never a note or a whisper: every WebSocket frame it receives is recorded and
searched. A manager also takes a chat over from its agent.
"""

from __future__ import annotations

import os

from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.pages import Console, console_page, end_user_asks

expect.set_options(timeout=15_000)
SHOTS = os.environ.get("CONSOLE_SCREENSHOTS")
NOTE = "Caller is the CFO: keep it short"
WHISPER = "Offer the loan laptop from the shelf"


def test_agent_notes_manager_watches_whispers_and_joins(widget_desk, new_context):
    desk = widget_desk
    widget, chat_id, frames = end_user_asks(
        new_context, desk.site.url, name="Frank First", email="frank@example.com",
        topic="Laptop, printer or phone", question="My laptop will not start")
    agent = console_page(new_context, desk.server.url, "alice")
    chat = Console(agent).accept(chat_id)
    expect(widget.root.locator(".log")).to_contain_text("Alice Agent has joined the chat.")
    widget.send("It beeps three times")
    chat.send("Three beeps means memory. Let me check.")
    expect(widget.last_from_desk().locator(".bubble")).to_have_text(
        "Three beeps means memory. Let me check.")

    # An internal note, with its own look; the reply box returns to replies afterwards.
    chat.root.locator(".mode-button[data-mode=note]").click()
    expect(chat.root.locator(".composer")).to_have_class("composer is-note")
    chat.composer.fill(NOTE)
    chat.composer.press("Enter")
    note = chat.root.locator(".msg-internal[data-kind=NOTE]")
    expect(note.locator(".msg-body")).to_have_text(NOTE)
    expect(note.locator(".internal-badge")).to_have_text("Internal")
    chat.root.locator(".mode-button[data-mode=reply]").click()

    # The manager opens the chat from the admin dashboard and watches: history, notes, typing.
    manager = new_context(viewport={"width": 1280, "height": 860}).new_page()
    login(manager, desk.server.url, "maria")
    manager.goto(desk.server.url + "/admin/")
    manager.locator(f"#live-chats tr[data-chat-id='{chat_id}'] .watch-link").click()
    stream = manager.locator("#messages")
    expect(stream).to_contain_text("It beeps three times")
    expect(stream.locator(".msg-internal")).to_contain_text(NOTE)
    expect(manager.locator("#watch-state")).to_have_text("Watching · the end user is not told")
    widget.composer.fill("Is it the RAM?")
    expect(manager.locator("#typing")).to_have_text("Frank First is typing…")
    widget.send("Is it the RAM?")
    expect(stream).to_contain_text("Is it the RAM?")

    # A whisper: highlighted in the agent's chat, nowhere in the widget.
    box = manager.locator("#composer textarea")
    box.fill(WHISPER)
    box.press("Enter")
    whisper = chat.root.locator(".msg-whisper")
    expect(whisper.locator(".msg-body")).to_have_text(WHISPER)
    expect(whisper.locator(".msg-sender")).to_have_text("Whisper from Maria Manager")
    if SHOTS:
        agent.screenshot(path=os.path.join(SHOTS, "console-note.png"), animations="disabled")

    # Join: the end user is told; the manager then writes to him.
    manager.locator("#join-button").click()
    expect(manager.locator("#watch-state")).to_have_text(
        "Joined · the end user knows you are here")
    expect(widget.root.locator(".log")).to_contain_text(
        "Maria Manager (supervisor) joined the chat.")
    box.fill("Maria here: we will swap the memory today.")
    box.press("Enter")
    expect(widget.last_from_desk().locator(".bubble")).to_have_text(
        "Maria here: we will swap the memory today.")
    expect(chat.root.locator(".msg-agent .msg-body").last).to_have_text(
        "Maria here: we will swap the memory today.")
    if SHOTS:
        manager.screenshot(path=os.path.join(SHOTS, "supervision-watch.png"),
                           animations="disabled")

    # The widget never showed, nor received, a note or a whisper.
    text = widget.root.inner_text()
    assert NOTE not in text and WHISPER not in text
    assert frames, "the widget's socket frames were recorded"
    for frame in frames:
        assert NOTE not in frame and WHISPER not in frame
        assert not frame.startswith('42/chat,["note"')


def test_a_manager_takes_a_chat_over_from_its_agent(widget_desk, new_context):
    """From the watch page, for himself: the agent's tab ends with who took it, the end user
    is told who joined, and the chat opens in the manager's own Chats window."""
    desk = widget_desk
    widget, chat_id, _ = end_user_asks(
        new_context, desk.site.url, name="Gina Green", email="gina@example.com",
        topic="Laptop, printer or phone", question="The dock is dead")
    agent = console_page(new_context, desk.server.url, "alice")
    chat = Console(agent).accept(chat_id)
    expect(widget.root.locator(".log")).to_contain_text("Alice Agent has joined the chat.")

    manager = new_context(viewport={"width": 1280, "height": 860}).new_page()
    login(manager, desk.server.url, "maria")
    manager.goto(f"{desk.server.url}/supervise/{chat_id}")
    expect(manager.locator("#chat-agent")).to_have_text("Alice Agent")
    manager.locator("#take-over-agent").select_option(label="Me")
    manager.get_by_role("button", name="Take over").click()
    expect(manager.locator(".toast-success")).to_contain_text("You have the chat now")
    expect(manager.locator("#chat-agent")).to_have_text("Maria Manager")

    expect(chat.root.locator(".msg-note").last).to_have_text("Maria Manager took over this chat.")
    expect(agent.locator(".toast").filter(has_text="took over your chat with Gina Green")
           ).to_have_count(1)
    expect(widget.root.locator(".log")).to_contain_text("Maria Manager has joined the chat.")

    manager.goto(desk.server.url + "/")
    mine = Console(manager).chat(chat_id)
    expect(mine.root.locator(".end-user-name")).to_have_text("Gina Green")
    mine.send("Maria here: a new dock is on its way.")
    expect(widget.last_from_desk().locator(".bubble")).to_have_text(
        "Maria here: a new dock is on its way.")
