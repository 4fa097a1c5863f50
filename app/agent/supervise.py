"""The managers' supervision page: watch a live chat, whisper to its agent, join, take over."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user, login_required

from app.agent import bp
from app.desk import supervision
from app.desk.errors import DeskError


@bp.get("/supervise/<int:chat_id>")
@login_required
def supervise(chat_id: int):
    user = current_user._get_current_object()
    if not user.is_manager:
        abort(403)
    try:
        chat = supervision.watchable_chat(user, chat_id)
    except DeskError as error:
        return render_template("agent/error.html", error=error, active_nav=None), error.status
    agents = [{"id": u.id, "name": u.display_name} for u in supervision.candidates(chat)
              if u.id != user.id]
    return render_template("agent/supervise.html", chat=chat, agents=agents, active_nav=None)
