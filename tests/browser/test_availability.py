"""Availability, capacity and auto routing in real browsers.

bob switches himself away from the Welcome bar (kept across a reload); Software routes
automatically, so a new chat is offered to alice alone, with a countdown and a sound; she
accepts it and is full (1 of 1 chats). An end user who asks now is told honestly that no
agent is available, and learns it live when bob comes back. alice, full, is refused a second
chat with a clear message. maria's agent board on the dashboard follows every change without
a reload. With ROUTING_SCREENSHOTS=1 the screenshots go to docs/screenshots/.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.pages import Widget
from tests.conftest import seeded_database
from tests.widget.support import start_widget_desk

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
expect.set_options(timeout=10_000)
pytestmark = pytest.mark.browser


@pytest.fixture
def desk(tmp_path):
    url = seeded_database("sqlite", tmp_path)
    engine = sa.create_engine(url)
    with engine.begin() as connection:  # set by a manager in the admin
        connection.execute(sa.text("UPDATE person_group SET routing = 'auto' "
                                   "WHERE name = 'Software'"))
        connection.execute(sa.text("UPDATE user_account SET max_chats = 1 "
                                   "WHERE username = 'alice'"))
    engine.dispose()
    desk = start_widget_desk(url, tmp_path, CHAT_OFFER_TIMEOUT="45", AGENT_OFFLINE_GRACE="3",
                             CHAT_MAX_PER_AGENT="3")
    yield desk
    desk.site.stop()
    desk.server.stop()


@pytest.fixture
def shoot(tmp_path):
    folder = SCREENSHOTS if os.environ.get("ROUTING_SCREENSHOTS") == "1" else tmp_path

    def save(page, name: str, **options) -> None:
        page.wait_for_timeout(400)
        page.screenshot(path=str(folder / f"{name}.png"), **options)

    return save


def console(new_context, desk, username: str):
    page = new_context().new_page()
    login(page, desk.server.url, username)
    page.goto(desk.server.url + "/")
    expect(page.locator("#chat-queue-indicator")).to_have_attribute(
        "data-state", re.compile("idle|waiting"))
    return page


def test_status_offers_capacity_and_the_managers_board(desk, new_context, shoot):
    server = desk.server.url
    bob = console(new_context, desk, "bob")
    switch = bob.locator("#status-switch")
    expect(switch).to_have_attribute("data-status", "available")
    bob.get_by_role("radio", name="Away").click()
    expect(switch).to_have_attribute("data-status", "away")
    bob.reload()  # kept on his account
    expect(bob.locator("#status-switch")).to_have_attribute("data-status", "away")
    expect(bob.get_by_role("radio", name="Away")).to_have_attribute("aria-checked", "true")

    maria = new_context(viewport={"width": 1360, "height": 900}).new_page()
    login(maria, server, "maria")
    maria.goto(server + "/admin/")
    board = maria.locator("#agent-board")
    expect(board.locator('tr[data-agent="bob"] .status-pill')).to_have_text("Away")
    expect(board.locator('tr[data-agent="alice"] .status-pill')).to_have_text("Offline")

    alice = console(new_context, desk, "alice")
    alice.evaluate("window.deskSounds = []")
    expect(alice.locator("#my-seats")).to_have_text("0 of 1 chats")
    expect(board.locator('tr[data-agent="alice"] .status-pill')).to_have_text("Available")
    shoot(alice, "console-status", clip={"x": 560, "y": 0, "width": 800, "height": 56})

    # An end user asks in Software: offered to alice alone, with a countdown and a sound.
    first = desk.request_chat("Grace Hopper", "grace@example.com", "Software",
                              "Excel crashes when I open a file with macros.")
    card = alice.locator(f'.offer-card[data-chat-id="{first["chat_id"]}"]')
    expect(card).to_be_visible()
    expect(card.locator(".offer-who")).to_contain_text("Grace Hopper")
    left = card.locator(".offer-left")
    expect(left).to_have_text(re.compile(r"^4\d s$"))
    expect(left).not_to_have_text(left.inner_text())  # it counts down
    assert "offer" in alice.evaluate("window.deskSounds")
    assert re.search(r"Chat offered", alice.title())
    shoot(alice, "console-offer")
    # bob, away, saw nothing offered.
    expect(bob.locator(".offer-card")).to_have_count(0)

    card.get_by_role("button", name="Accept").click()
    pane = alice.locator(f'.chat-pane[data-chat-id="{first["chat_id"]}"]')
    expect(pane.locator(".end-user-name")).to_have_text("Grace Hopper")
    expect(card).to_have_count(0)
    expect(alice.locator("#my-seats")).to_have_text("1 of 1 chats")
    expect(board.locator('tr[data-agent="alice"] .seats')).to_contain_text("1 of 1")

    # alice is full and bob away: the end user is told nobody is available right now...
    page = new_context().new_page()
    page.goto(desk.site.url)
    widget = Widget(page).open()
    widget.request_chat(name="Alan Tuer", email="alan@example.com")
    agents = widget.root.locator(".agents")
    expect(agents).to_contain_text("No agent is available right now.")
    waiting_id = widget.stored_chat()["chatId"]

    # ... and alice, full, is refused that chat with a clear message.
    alice.locator(f'.waiting-item[data-chat-id="{waiting_id}"] .accept-button').click()
    expect(alice.locator(".toast-error")).to_contain_text("already has 1 of 1 chats")

    # bob comes back: the waiting end user learns it live, and bob is offered the chat.
    bob.get_by_role("radio", name="Available").click()
    expect(agents).to_have_text("1 agent is available.")
    expect(bob.locator(f'.offer-card[data-chat-id="{waiting_id}"]')).to_be_visible()
    expect(board.locator('tr[data-agent="bob"] .status-pill')).to_have_text("Available")
    expect(maria.locator("#board-summary")).to_contain_text("Software: 1 available")
    shoot(maria, "admin-agent-board", clip={"x": 0, "y": 0, "width": 1360, "height": 520})
