"""The console's pages: the Agent Chat window, the SR form page and My work."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_login import current_user, login_required

from app.agent import bp
from app.desk import people, worklist
from app.desk.errors import DeskError
from app.models import SRStatus

STATUS_FILTERS = ["OPEN", *[s.value for s in SRStatus], "ALL"]


def welcome_bar_context() -> dict:
    """What every agent page's Welcome bar needs: who is here and how the indicator looks."""
    if not current_user.is_authenticated:
        return {}
    return {
        "indicator_style": worklist.indicator_style(
            current_user, current_app.config.get("INDICATOR_STYLE", "text")),
        "installation_indicator_style": current_app.config.get("INDICATOR_STYLE", "text"),
        "idle_away_minutes": current_app.config.get("AGENT_IDLE_AWAY_MINUTES", 0),
    }


@bp.get("/")
@login_required
def console():
    """The Agent Chat window: waiting chats of all the agent's queues and his live chats."""
    queues = [{"id": q.id, "name": q.name} for q in people.chat_queues()]
    return render_template("agent/console.html", queues=queues, active_nav="chats")


@bp.get("/sr/<number>")
@login_required
def service_request(number: str):
    """The SR form on its own page, reachable during and after the chat."""
    try:
        sr = worklist.service_request_for(current_user._get_current_object(), number)
    except DeskError as error:
        return render_template("agent/error.html", error=error, active_nav=None), error.status
    return render_template("agent/sr_page.html", sr=sr, active_nav="work")


@bp.get("/my-work")
@login_required
def my_work():
    """SRs the agent owns and those of his groups, filterable by status."""
    status = (request.args.get("status") or "OPEN").upper()
    try:
        rows = worklist.my_work(current_user._get_current_object(), status)
    except DeskError as error:
        return render_template("agent/error.html", error=error, active_nav="work"), error.status
    me = current_user.person_id
    return render_template("agent/my_work.html", rows=rows, status=status,
                           status_filters=STATUS_FILTERS, me=me, active_nav="work")
