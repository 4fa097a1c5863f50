"""The admin's Reports screen and its CSV: managers only, the service layer's figures, clear
refusals of bad ranges."""

from __future__ import annotations

import csv
import io

from app.extensions import db
from app.models import Person
from tests.desk.test_reports import STORIES, live

RANGE = "from=2026-11-02&to=2026-11-03"


def _rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_agent_is_refused_the_report_and_its_csv(agent):
    assert agent.get(f"/admin/reports/?{RANGE}").status_code == 403
    response = agent.get(f"/admin/reports/report.csv?{RANGE}")
    assert response.status_code == 403
    assert response.mimetype != "text/csv"


def test_manager_reads_figures_per_agent_in_the_table(manager, desk):
    for story in STORIES:
        live(desk, story)
    page = manager.get(f"/admin/reports/?{RANGE}&by=agent&period=day")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    bob = html[html.index('data-group="Bob Builder"'):]
    bob = bob[:bob.index("</tr>")]
    assert '<td class="text-right" data-figure="median_wait_seconds">40s</td>' in bob
    assert '<td class="text-right" data-figure="median_handle_seconds">10m 0s</td>' in bob
    assert '<td class="text-right" data-figure="csat_average">4.00</td>' in bob
    assert '<td class="text-right" data-figure="requested">—</td>' in bob
    total = html[html.index('data-group="total"'):]
    assert '<th class="text-right" data-figure="abandoned_share">14.3 %</th>' in total
    assert 'href="/admin/reports/report.csv?' in html


def test_csv_holds_every_figure_per_agent_and_day_and_the_totals(manager, desk):
    for story in STORIES:
        live(desk, story)
    response = manager.get(f"/admin/reports/report.csv?{RANGE}&by=agent&period=day")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="desk-report-by-agent-per-day-2026-11-02-2026-11-03.csv"')
    rows = _rows(response)
    keyed = {(row["period"], row["agent"]): row for row in rows}
    assert list(keyed) == [
        ("2026-11-02", "Alice Agent"), ("2026-11-02", "Bob Builder"), ("2026-11-02", "All agents"),
        ("2026-11-03", "Bob Builder"), ("2026-11-03", "All agents"),
        ("total", "Alice Agent"), ("total", "Bob Builder"), ("total", "All agents")]
    bob = keyed["total", "Bob Builder"]
    assert (bob["first_day"], bob["last_day"]) == ("2026-11-02", "2026-11-03")
    assert (bob["accepted"], bob["median_wait_seconds"], bob["p90_wait_seconds"]) == (
        "4", "40.0", "85.0")
    assert (bob["median_first_response_seconds"], bob["median_handle_seconds"]) == (
        "40.0", "600.0")
    assert (bob["csat_average"], bob["csat_count"], bob["srs_resolved"]) == ("4.0", "3", "1")
    assert bob["requested"] == "" and bob["abandoned_share"] == ""
    desk_total = keyed["total", "All agents"]
    assert (desk_total["requested"], desk_total["abandoned"]) == ("7", "1")
    assert desk_total["abandoned_share"] == "0.1429"
    monday = keyed["2026-11-02", "All agents"]
    assert (monday["requested"], monday["median_wait_seconds"]) == ("4", "20.0")


def test_csv_names_cannot_become_spreadsheet_formulas(manager, desk):
    live(desk, STORIES[0])
    db.session.get(Person, desk.bob.person_id).display_name = "=HYPERLINK(\"x\")"
    db.session.commit()
    rows = _rows(manager.get(f"/admin/reports/report.csv?{RANGE}"))
    assert rows[0]["agent"] == "'=HYPERLINK(\"x\")"


def test_bad_ranges_are_refused_on_the_page_and_in_the_csv(manager, desk):
    page = manager.get("/admin/reports/?from=2026-11-10&to=2026-11-01")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'data-code="reversed_range"' in html
    assert "The range ends (2026-11-01) before it starts (2026-11-10)." in html
    assert 'id="report-table"' not in html
    response = manager.get("/admin/reports/report.csv?from=2020-01-01&to=2026-11-01")
    assert response.status_code == 400
    assert response.get_data(as_text=True).startswith("range_too_long:")
    assert manager.get("/admin/reports/?by=customer").status_code == 400
    assert manager.get("/admin/reports/report.csv?from=<script>").status_code == 400
