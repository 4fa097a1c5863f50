"""The manager's Reports screen in a real browser: a month of chats, figures per agent per week,
the CSV downloaded, and a reversed range refused. With ADMIN_SCREENSHOTS set to a folder, the
screen is written there as admin-reports.png."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import login
from tests.browser.test_admin import shot
from tests.desk.test_reports import Story, live

QUEUES = {"alice": ["Hardware", "Software"], "bob": ["Software", "Network"]}


def seed_a_month(database_url: str) -> str:
    """Four weeks of chats through the desk's use cases (then back-dated): accepted by alice
    and bob with varied waits, replies, handle times and ratings, some abandoned, a few
    still waiting. Returns the first day of the range."""
    from app import create_app
    from app.extensions import db
    from app.models import User, utcnow

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        desk = SimpleNamespace(alice=users["alice"], bob=users["bob"])
        today = utcnow().replace(hour=8, minute=0, second=0, microsecond=0)
        for index in range(56):
            agent = "alice" if index % 5 in (0, 3) else "bob"
            queue = QUEUES[agent][index % 2]
            requested = today - timedelta(days=27 - index // 2, hours=-(index % 9))
            if index % 9 == 4:
                live(desk, Story(queue, requested, abandon_after=120 + index))
                continue
            live(desk, Story(queue, requested, agent, wait=12 + (index * 37) % 200,
                             replies=(8 + index % 50, 90), visitor_lines=1 + index % 3,
                             handle=240 + (index * 53) % 900,
                             rating=[5, 4, None, 5, 3, 4][index % 6],
                             resolve=index % 3 == 0))
        first = (today - timedelta(days=27)).date().isoformat()
        db.session.remove()
        db.engine.dispose()
    return first


@pytest.fixture
def month_server(sqlite_live_server):
    first = seed_a_month(sqlite_live_server.database_url)
    return sqlite_live_server, first


def test_manager_reads_the_weekly_report_and_downloads_its_csv(new_context, month_server):
    server, first = month_server
    page = new_context(timezone_id="Europe/Berlin", accept_downloads=True,
                       viewport={"width": 1440, "height": 1100}).new_page()
    script_errors = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    login(page, server.url, "maria")
    page.goto(f"{server.url}/admin/")
    page.locator(".navbar a", has_text="Reports").click()
    expect(page.locator("h1.desk-title")).to_have_text("Reports")

    page.fill("#report-from", first)
    page.select_option("#report-by", "agent")
    page.select_option("#report-period", "week")
    page.click("#report-show")
    expect(page.locator("#report-table")).to_have_attribute("data-charts", "drawn")
    bob = page.locator('#report-table tr[data-group="Bob Builder"]')
    alice = page.locator('#report-table tr[data-group="Alice Agent"]')
    expect(bob).to_be_visible()
    expect(alice).to_be_visible()
    weeks = page.evaluate("Chart.getChart('chart-report-chats').data.labels.length")
    assert weeks in (4, 5)  # four weeks and a day, cut at the range's ends
    accepted = {name: int(row.locator('[data-figure="accepted"]').inner_text())
                for name, row in (("Bob Builder", bob), ("Alice Agent", alice))}
    total = page.locator('#report-table tr[data-group="total"]')
    assert int(total.locator('[data-figure="accepted"]').inner_text()) == sum(accepted.values())
    page.wait_for_timeout(600)  # let the charts finish their animation
    shot(page, "admin-reports.png", full_page=True)

    with page.expect_download() as download_info:
        page.click("#report-csv")
    download = download_info.value
    assert download.suggested_filename.startswith(f"desk-report-by-agent-per-week-{first}-")
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    totals = {row["agent"]: row for row in rows if row["period"] == "total"}
    assert {name: int(totals[name]["accepted"]) for name in accepted} == accepted
    assert totals["All agents"]["median_wait_seconds"] != ""
    assert len({row["period"] for row in rows}) == weeks + 1

    # A range that ends before it starts is refused with its reason, and nothing is shown.
    page.fill("#report-from", "2026-11-20")
    page.fill("#report-to", "2026-11-10")
    page.click("#report-show")
    expect(page.locator("#report-error")).to_contain_text("ends (2026-11-10) before it starts")
    expect(page.locator("#report-table")).to_have_count(0)
    assert script_errors == []
