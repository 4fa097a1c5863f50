"""Canned responses in the console: the agent's own (a settings page) and the `/` list of a
chat (JSON, filled in for that chat)."""

from __future__ import annotations

from flask import jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.agent import bp
from app.agent.api import login_required as api_login_required
from app.agent.chat_side import chat_for
from app.desk import canned
from app.desk.errors import DeskError

LANGUAGES = [("", "Default (any language)"), ("en", "English"), ("de", "German")]


def _me():
    return current_user._get_current_object()


def _page(*, editing=None, form=None, error: DeskError | None = None, status: int = 200):
    return render_template(
        "agent/canned_responses.html", responses=canned.own_responses(_me()),
        editing=editing, form=form or {}, error=error, languages=LANGUAGES,
        placeholders=canned.PLACEHOLDERS, sample=canned.SAMPLE, active_nav=None), status


@bp.get("/settings/canned-responses")
@login_required
def canned_responses_page():
    editing = None
    if request.args.get("edit"):
        try:
            editing = canned.get_response(request.args["edit"])
            if editing.owner_id != _me().id:
                editing = None
        except DeskError:
            editing = None
    form = {"title": editing.title, "shortcut": editing.shortcut,
            "language": editing.language, "body": editing.body} if editing else None
    return _page(editing=editing, form=form)


@bp.post("/settings/canned-responses")
@login_required
def canned_response_save():
    form = {name: request.form.get(name, "") for name in ("title", "shortcut", "language",
                                                          "body")}
    response_id = request.form.get("id") or None
    try:
        canned.save_response(_me(), response_id=response_id, **form)
    except DeskError as error:
        editing = None
        if response_id:
            try:
                editing = canned.get_response(response_id)
            except DeskError:
                editing = None
        return _page(editing=editing, form=form, error=error, status=error.status)
    return redirect(url_for("agent.canned_responses_page"))


@bp.post("/settings/canned-responses/<int:response_id>/delete")
@login_required
def canned_response_delete(response_id: int):
    try:
        canned.delete_response(_me(), response_id)
    except DeskError as error:
        return _page(error=error, status=error.status)
    return redirect(url_for("agent.canned_responses_page"))


@bp.get("/agent/api/chats/<int:chat_id>/canned-responses")
@api_login_required
def chat_canned_responses(chat_id: int):
    """The `/` list of a chat: each response's text filled in for it."""
    user, chat = chat_for(chat_id)
    return jsonify(ok=True, responses=canned.for_chat(chat, user))
