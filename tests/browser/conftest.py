"""Headless Chromium (Debian's build) driven by Playwright's sync API."""

from __future__ import annotations

import re

import pytest

from tests.support.chromium import CHROMIUM, LAUNCH_ARGS  # noqa: F401  (page helpers import them from here)


def login(page, base_url: str, username: str, password: str = "demo") -> None:
    """Log in through the real form, as a person would."""
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture
def agent_console(new_context, sqlite_live_server):
    """Open an agent's console, logged in, once its queue indicator is live:
    `agent_console("alice", "/my-work", timezone_id="America/New_York")`."""
    from playwright.sync_api import expect

    def open_console(username: str, path: str = "/", **context_options):
        page = new_context(**context_options).new_page()
        login(page, sqlite_live_server.url, username)
        page.goto(sqlite_live_server.url + path)
        expect(page.locator("#chat-queue-indicator")).to_have_attribute(
            "data-state", re.compile("idle|waiting"))
        return page
    return open_console


@pytest.fixture
def widget_desk(tmp_path):
    """The desk (on SQLite) and a customer page embedding its widget, both live; a module
    may define its own (e.g. on each database)."""
    from tests.conftest import seeded_database
    from tests.widget.support import start_widget_desk

    desk = start_widget_desk(seeded_database("sqlite", tmp_path), tmp_path)
    yield desk
    desk.site.stop()
    desk.server.stop()
