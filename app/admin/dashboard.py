"""The admin home: the desk dashboard, and the JSON it polls to stay live."""

from __future__ import annotations

from flask import jsonify
from flask_admin import AdminIndexView, expose

from app import wire
from app.admin.formatting import local_time, status_badge
from app.admin.security import ManagerOnly
from app.desk import availability, stats, supervision

# Seconds between two refreshes of the dashboard in the browser; the agent board (a few
# indexed queries) is refreshed every second.
POLL_SECONDS = 5
BOARD_POLL_SECONDS = 1


def agent_board() -> dict:
    """The live agent board: every agent's status, since when, chats out of capacity and
    queues; and the available agents of each queue."""
    return {"agents": [{**row, **wire.agent_seat(row)} for row in availability.agent_board()],
            "queues": [{"id": q["id"], "name": q["name"], "routing": q["routing"],
                        "waiting": q["waiting"], "agents_online": q["agents_online"],
                        "agents_available": q["agents_available"]}
                       for q in stats.queues_now() if q["is_chat_queue"]]}


class DashboardView(ManagerOnly, AdminIndexView):
    """/admin/: waiting chats per queue, agents online, today and the last 7 days."""

    def __init__(self) -> None:
        super().__init__(name="Dashboard", url="/admin", template="admin/desk/dashboard.html",
                         menu_icon_type="fa", menu_icon_value="fa-tachometer")

    @expose("/")
    def index(self):
        return self.render(self._template, figures=stats.dashboard(), poll_seconds=POLL_SECONDS,
                           live_chats=supervision.live_chats(), local_time=local_time,
                           status_badge=status_badge, board=agent_board(),
                           board_poll_seconds=BOARD_POLL_SECONDS)

    @expose("/agents.json")
    def agents(self):
        response = jsonify(agent_board())
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/dashboard.json")
    def figures(self):
        response = jsonify(stats.dashboard())
        response.headers["Cache-Control"] = "no-store"
        return response
