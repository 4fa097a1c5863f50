"""Verified identity in real Chromium: the demo customer page's signed-in employee chats as
herself (agents see *verified*) and then about her open request; an anonymous visitor who
types her address is only what he typed (agents see *not verified*)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login
from tests.browser.pages import Console, Widget
from tests.conftest import seeded_database
from tests.widget.support import start_widget_desk

pytestmark = [pytest.mark.browser, pytest.mark.live]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
EMPLOYEE = "erin.employee@northwind.example"
expect.set_options(timeout=10_000)


@pytest.fixture
def identity_desk(tmp_path):
    desk = start_widget_desk(seeded_database("sqlite", tmp_path), tmp_path,
                             identity_secret="the intranet's identity secret")
    yield desk
    desk.site.stop()
    desk.server.stop()


def alices_console(desk, new_context) -> Console:
    page = new_context().new_page()
    login(page, desk.server.url, "alice")
    page.goto(desk.server.url + "/")
    return Console(page)


def shot(page, name: str, tmp_path) -> None:
    folder = SCREENSHOTS if os.environ.get("WIDGET_SCREENSHOTS") == "1" else tmp_path
    page.wait_for_timeout(350)
    page.screenshot(path=str(folder / name))


def test_signed_in_employee_is_verified_and_chats_about_her_open_request(
        identity_desk, new_context, tmp_path):
    console = alices_console(identity_desk, new_context)

    page = new_context().new_page()
    page.goto(identity_desk.site.url + "/?user=erin")  # Erin, signed in to the intranet
    expect(page.locator("#account")).to_contain_text("Signed in as Erin Employee")
    widget = Widget(page).open()
    expect(widget.root.locator(".who-line")).to_have_text(
        re.compile(rf"Signed in as Erin Employee \({re.escape(EMPLOYEE)}\)"))
    expect(widget.root.locator(".name-field")).to_be_hidden()
    expect(widget.root.locator(".email-field")).to_be_hidden()
    expect(widget.root.locator(".about-field")).to_be_hidden()  # no open request yet
    page.get_by_label("Topic").select_option(label="Applications and accounts")
    page.get_by_label("How can we help?").fill("My laptop does not see the docking station.")
    page.get_by_role("button", name="Start chat").click()
    first_sr = widget.sr_number()
    first_chat = widget.stored_chat()["chatId"]

    waiting = console.waiting(first_chat)
    expect(waiting.locator(".identity-mark")).to_have_text("verified")
    pane = console.accept(first_chat)
    expect(pane.root.locator(".identity-mark")).to_have_text("verified")
    expect(pane.root.locator(".end-user-name")).to_have_text("Erin Employee")
    pane.close()
    expect(widget.root.locator(".closed-card")).to_be_visible()

    # Back on the form: her open request is offered; she chats about it.
    page.get_by_role("button", name="Start a new chat").click()
    about = page.get_by_label("About")
    expect(about).to_be_visible()
    expect(about.locator("option")).to_have_count(2)
    about.select_option(first_sr)
    page.get_by_label("How can we help?").fill("Still no docking, after the update too.")
    shot(page, "widget-verified-identity.png", tmp_path)
    page.get_by_role("button", name="Start chat").click()
    page.wait_for_function("""(first) => {
        const key = Object.keys(localStorage).find(k => k.startsWith('sdc-widget:'));
        const stored = key && JSON.parse(localStorage.getItem(key));
        return stored && stored.chatId && stored.chatId !== first;
    }""", arg=first_chat)
    expect(widget.root.locator(".sr-line")).to_have_text(f"Your request {first_sr} is open.")
    second_chat = widget.stored_chat()["chatId"]
    expect(console.waiting(second_chat)).to_contain_text(first_sr)
    shot(console.page, "console-verified-identity.png", tmp_path)


def test_anonymous_visitor_typing_her_address_is_not_verified(identity_desk, new_context):
    console = alices_console(identity_desk, new_context)

    page = new_context().new_page()
    page.goto(identity_desk.site.url + "/")
    expect(page.locator("#account")).to_contain_text("Not signed in")
    widget = Widget(page).open()
    expect(widget.root.locator(".who-line")).to_be_hidden()
    widget.request_chat(name="Mallory", email=EMPLOYEE)
    widget.sr_number()
    chat_id = widget.stored_chat()["chatId"]
    waiting = console.waiting(chat_id)
    expect(waiting.locator(".waiting-name")).to_contain_text("Mallory")
    expect(waiting.locator(".identity-mark")).to_have_text("not verified")
    pane = console.accept(chat_id)
    pane.expect_end_user("Mallory", "no phone", EMPLOYEE)
    expect(pane.root.locator(".identity-mark")).to_have_text("not verified")
