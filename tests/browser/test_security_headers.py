"""The console, the admin and the login page run under a strict Content-Security-Policy with
nothing refused, no other site can frame them, and a logged-out console goes to the login page
(in real Chromium)."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.live]

FRAMING_PAGE = """<!doctype html><title>evil</title>
<iframe id="target" src="{url}" width="800" height="600"></iframe>"""


def watch_csp(page) -> list[str]:
    """Every Content-Security-Policy refusal the page reports, as it happens."""
    refused: list[str] = []
    page.on("console", lambda msg: refused.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    return refused


def test_headers_on_pages_scripts_and_api(sqlite_live_server):
    base = sqlite_live_server.url
    for path in ("/login", "/admin/", "/"):
        reply = requests.get(base + path, timeout=10)
        policy = reply.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert re.search(r"script-src 'self' 'nonce-[\w-]+'(;|$)", policy), policy
        assert "unsafe-inline" not in policy.split("style-src")[0]
        assert reply.headers["X-Frame-Options"] == "DENY"
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["Referrer-Policy"] == "same-origin"
    for path in ("/widget.js", "/healthz"):
        assert requests.get(base + path, timeout=10).headers["X-Content-Type-Options"] == \
            "nosniff"
    cookies = requests.get(base + "/login", timeout=10).headers["Set-Cookie"]
    assert "HttpOnly" in cookies and "SameSite=Lax" in cookies and "Secure" not in cookies


def test_console_admin_and_login_run_with_nothing_refused(new_context, sqlite_live_server):
    base = sqlite_live_server.url
    page = new_context().new_page()
    refused = watch_csp(page)
    login(page, base, "alice")
    expect(page.locator("#chat-queue-indicator")).to_have_attribute(
        "data-state", re.compile("idle|waiting"))
    page.goto(base + "/my-work")
    page.select_option("#status-filter", "ALL")  # the filter's script (was inline)
    page.wait_for_url(re.compile(r"status=ALL"))
    manager = new_context().new_page()
    refused_in_admin = watch_csp(manager)
    login(manager, base, "maria")
    expect(manager.locator("#dashboard")).to_be_visible()
    for path in ("/admin/servicerequest/", "/admin/user/edit/?id=1", "/admin/persongroup/",
                 "/admin/outbox/", "/admin/chat/"):
        manager.goto(base + path)
        manager.wait_for_load_state("networkidle")
    manager.goto(base + "/admin/user/new/")
    expect(manager.locator(".select2-container").first).to_be_visible()  # admin's scripts ran
    assert refused == [] and refused_in_admin == []


def test_no_other_site_can_frame_the_console(new_context, sqlite_live_server):
    from app.widget.demo_host import DemoHost

    page = new_context().new_page()
    login(page, sqlite_live_server.url, "alice")
    host = DemoHost(sqlite_live_server.url).start()
    try:
        def evil_page(route):
            route.fulfill(content_type="text/html",
                          body=FRAMING_PAGE.format(url=sqlite_live_server.url + "/"))
        page.route(host.url + "/evil", evil_page)
        page.goto(host.url + "/evil")
        page.wait_for_timeout(1000)
        frame = page.frame_locator("#target")
        assert frame.locator("#chat-queue-indicator").count() == 0
        assert frame.locator("form").count() == 0  # not even the login page
    finally:
        host.stop()


def test_a_console_whose_session_ends_goes_to_the_login_page(agent_console,
                                                             sqlite_live_server):
    page = agent_console("alice", "/my-work")
    other_tab = page.context.new_page()
    other_tab.goto(sqlite_live_server.url + "/")
    other_tab.locator(".logout-form").evaluate("form => form.requestSubmit()")  # log out there
    page.wait_for_url(re.compile(r"/login\?next=%2Fmy-work"))
