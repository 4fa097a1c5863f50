"""The console's API tokens page: each user creates, lists and revokes his own tokens.

A new token is shown once, in the answer to the form that created it (never kept in the
session or a cookie); afterwards only its name, first characters and times are shown.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.agent import bp
from app.desk import api_tokens
from app.desk.errors import DeskError


def _page(*, created=None, error: DeskError | None = None, status: int = 200):
    me = current_user._get_current_object()
    return render_template("agent/api_tokens.html", tokens=api_tokens.list_api_tokens(me),
                           created=created, error=error, active_nav=None), status


@bp.get("/settings/api-tokens")
@login_required
def api_tokens_page():
    return _page()


@bp.post("/settings/api-tokens")
@login_required
def api_token_create():
    try:
        created = api_tokens.create_api_token(current_user._get_current_object(),
                                              request.form.get("name"))
    except DeskError as error:
        return _page(error=error, status=error.status)
    return _page(created=created)


@bp.post("/settings/api-tokens/<int:token_id>/revoke")
@login_required
def api_token_revoke(token_id: int):
    try:
        api_tokens.revoke_api_token(current_user._get_current_object(), token_id)
    except DeskError as error:
        return _page(error=error, status=error.status)
    return redirect(url_for("agent.api_tokens_page"))
