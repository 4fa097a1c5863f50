"""An agent manages his API tokens in the console; the API's reference page runs under the
strict CSP. With CONSOLE_SCREENSHOTS set to a folder, their screenshots are written there."""

from __future__ import annotations

import os

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.test_security_headers import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.live]
SHOTS = os.environ.get("CONSOLE_SCREENSHOTS")


def test_an_agent_creates_uses_and_revokes_a_token(agent_console, sqlite_live_server):
    base = sqlite_live_server.url
    page = agent_console("alice", "/my-work")
    refused = watch_csp(page)
    page.click(".prefs-menu summary")
    page.click("text=API tokens")
    expect(page.locator("h1")).to_have_text("API tokens")
    expect(page.locator("#token-table")).to_have_count(0)

    page.fill("#token-name", "CMDB sync <script>")
    page.click("#token-form button[type=submit]")
    secret = page.locator("#token-secret").input_value()
    assert secret.startswith("sdc_")
    row = page.locator("#token-table tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").first).to_have_text("CMDB sync <script>")  # text, not HTML
    expect(row.locator("td").nth(3)).to_have_text("never")

    me = requests.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {secret}"},
                      timeout=10)
    assert me.status_code == 200 and me.json()["username"] == "alice"
    page.fill("#token-name", "Reporting warehouse")
    page.click("#token-form button[type=submit]")
    page.goto(f"{base}/settings/api-tokens")  # the list again: no secret any more
    expect(page.locator("#token-secret")).to_have_count(0)
    expect(page.locator("#token-table tbody tr")).to_have_count(2)
    assert secret not in page.content()
    expect(page.locator("#token-table tbody tr").nth(1).locator("td").nth(3)).not_to_have_text(
        "never")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "console-api-tokens.png"),
                        animations="disabled")

    page.locator("#token-table tbody tr", has_text="CMDB sync").locator(
        "button", has_text="Revoke").click()
    expect(page.locator("#token-table tbody tr")).to_have_count(1)
    gone = requests.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {secret}"},
                        timeout=10)
    assert gone.status_code == 401
    assert refused == []


def test_the_api_reference_page_shows_every_resource(new_context, sqlite_live_server):
    page = new_context().new_page()
    refused = watch_csp(page)
    page.goto(f"{sqlite_live_server.url}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Service Desk Chat API")
    for tag in ("Service requests", "Chats", "Directory"):
        expect(page.locator(f"#operations-tag-{tag.replace(' ', '_')}")).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/service-requests/{number}"
                        ).first).to_be_visible()
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "api-docs.png"), animations="disabled")
    assert refused == []
