"""The admin home: the desk dashboard, and the JSON it polls to stay live."""

from __future__ import annotations

from flask import jsonify
from flask_admin import AdminIndexView, expose

from app.admin.formatting import local_time, status_badge
from app.admin.security import ManagerOnly
from app.desk import stats, supervision

# Seconds between two refreshes of the dashboard in the browser.
POLL_SECONDS = 5


class DashboardView(ManagerOnly, AdminIndexView):
    """/admin/: waiting chats per queue, agents online, today and the last 7 days."""

    def __init__(self) -> None:
        super().__init__(name="Dashboard", url="/admin", template="admin/desk/dashboard.html",
                         menu_icon_type="fa", menu_icon_value="fa-tachometer")

    @expose("/")
    def index(self):
        return self.render(self._template, figures=stats.dashboard(), poll_seconds=POLL_SECONDS,
                           live_chats=supervision.live_chats(), local_time=local_time,
                           status_badge=status_badge)

    @expose("/dashboard.json")
    def figures(self):
        response = jsonify(stats.dashboard())
        response.headers["Cache-Control"] = "no-store"
        return response
