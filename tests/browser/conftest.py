"""Headless Chromium (Debian's build) driven by Playwright's sync API."""

from __future__ import annotations

import os
import re

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               "--disable-quic"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        raise RuntimeError(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def new_context(browser):
    """Make isolated browser contexts (one per person); all closed after the test."""
    contexts = []

    def make(**kwargs):
        kwargs.setdefault("viewport", {"width": 1360, "height": 860})
        kwargs.setdefault("locale", "en-US")
        context = browser.new_context(**kwargs)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


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
