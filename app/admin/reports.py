"""The admin's Reports screen: the desk's chat figures per agent or queue over a range, as
charts, a table and a CSV download. The figures come from app.desk.reports."""

from __future__ import annotations

import csv
import io

from flask import Response, request
from flask_admin import BaseView, expose

from app.admin.formatting import duration
from app.admin.security import ManagerOnly
from app.desk import reports
from app.desk.errors import DeskError

# The table's and the CSV's columns: (figure, short heading, full name, kind).
COLUMNS = [
    ("requested", "Requested", "Chats requested", "count"),
    ("accepted", "Accepted", "Chats accepted", "count"),
    ("abandoned", "Abandoned", "Chats abandoned", "count"),
    ("abandoned_share", "Share", "Abandoned share of requested", "share"),
    ("median_wait_seconds", "Wait", "Median wait to accept", "duration"),
    ("p90_wait_seconds", "P90 wait", "90% were accepted within", "duration"),
    ("handled", "Handled", "Chats handled (ended after accepting)", "count"),
    ("median_first_response_seconds", "1st response", "Median first response", "duration"),
    ("median_handle_seconds", "Handle time", "Median handle time", "duration"),
    ("messages_per_chat", "Msgs/chat", "Messages per handled chat", "number"),
    ("csat_average", "CSAT", "CSAT average (1-5)", "number"),
    ("csat_count", "Ratings", "Ratings given", "count"),
    ("srs_resolved", "Resolved", "SRs resolved in the chat", "count"),
]
# Text a spreadsheet would run as a formula if a cell started with it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ReportsView(ManagerOnly, BaseView):
    """/admin/reports/: pick a range, a grouping and a period; read or download the figures."""

    def __init__(self) -> None:
        super().__init__(name="Reports", endpoint="reports", url="/admin/reports",
                         menu_icon_type="fa", menu_icon_value="fa-bar-chart")

    @expose("/")
    def index(self):
        try:
            query = reports.parse_query(request.args)
        except DeskError as exc:
            return self.render("admin/desk/reports.html", error=exc, args=request.args,
                               result=None, columns=COLUMNS, cell=cell), exc.status
        return self.render("admin/desk/reports.html", error=None, args=request.args,
                           result=reports.report(query), columns=COLUMNS, cell=cell)

    @expose("/report.csv")
    def download(self):
        try:
            query = reports.parse_query(request.args)
        except DeskError as exc:
            return Response(f"{exc.code}: {exc.message}\n", status=exc.status,
                            mimetype="text/plain")
        result = reports.report(query, detail=True)
        name = f"desk-report-by-{query.by}-per-{query.period}-{query.first}-{query.last}.csv"
        return Response(report_csv(result), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store"})


def cell(value: object, kind: str) -> str:
    """A figure as the table shows it: — when there is none."""
    if value is None:
        return "—"
    if kind == "duration":
        return duration(value)
    if kind == "share":
        return f"{value * 100:.1f} %"
    if kind == "number":
        return f"{value:.2f}"
    return str(value)


def report_csv(result: dict) -> str:
    """The report's figures, one row per period and agent (or queue), then each period's desk
    total, each agent's (or queue's) total over the range, and the desk's; durations in
    seconds, shares as fractions."""
    everyone = f"All {result['by']}s"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["period", "first_day", "last_day", result["by"],
                     *[figure for figure, _, _, _ in COLUMNS]])

    def row(period: dict, name: str, figures: dict) -> None:
        writer.writerow([period["key"], period["first"], period["last"], _safe(name),
                         *["" if figures[f] is None else figures[f] for f, _, _, _ in COLUMNS]])

    cells: dict[int, list[dict]] = {}
    for item in result["cells"]:
        cells.setdefault(item["period"], []).append(item)
    for index, period in enumerate(result["periods"]):
        for item in cells.get(index, []):
            row(period, result["groups"][item["group"]]["name"], item)
        row(period, everyone, result["by_period"][index])
    whole = {"key": "total", "first": result["from"], "last": result["to"]}
    for group, figures in zip(result["groups"], result["by_group"], strict=True):
        row(whole, group["name"], figures)
    row(whole, everyone, result["totals"])
    return out.getvalue()


def _safe(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text
