"""JSON endpoints of the agent console: the SR form, work log, pickers, My work, preferences.

Thin: validate the transport, ask app/desk, serialise. DeskError maps to its HTTP status.
"""

from __future__ import annotations

from functools import wraps

from flask import current_app, jsonify, request
from flask_login import current_user

from app import wire
from app.agent import bp
from app.desk import attachments, chat_context, handover, worklist
from app.desk import requests as sr_rules
from app.desk.errors import DeskError, ValidationError
from app.extensions import db
from app.models import PersonGroup, ServiceRequest


def _sr(sr: ServiceRequest) -> dict:
    allowed = [status.value for status in sr_rules.allowed_transitions(sr.status)]
    return wire.service_request(
        sr, allowed, attachments=attachments.of_service_request_described(sr.id),
        context=chat_context.latest_of_service_request(sr.id))


def _json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError("invalid", "Send a JSON object (Content-Type: application/json).",
                              None)
    return data


def login_required(view):
    """Like Flask-Login's, but a JSON 401 instead of a redirect to the login page."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return jsonify(ok=False, error="login_required",
                           message="Your session has ended. Log in again."), 401
        return view(*args, **kwargs)

    return wrapper


def _me():
    return current_user._get_current_object()


@bp.errorhandler(DeskError)
def desk_error(error: DeskError):
    return jsonify(error.to_dict()), error.status


def _only(data: dict, allowed: set[str], what: str) -> dict:
    """Refuse a body with fields the endpoint does not know, naming the first one."""
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError("unknown_field", f"{unknown[0]} is not part of {what}.", unknown[0])
    return data


@bp.get("/agent/api/sr/<number>")
@login_required
def sr_read(number: str):
    return jsonify(ok=True, sr=_sr(worklist.service_request_for(_me(), number)))


@bp.post("/agent/api/sr/<number>")
@login_required
def sr_save(number: str):
    """Save the form: {version, changes: {...}, status?, memo?}; 409 when the version is stale."""
    data = _only(_json_body(), {"version", "changes", "status", "memo"}, "an SR save")
    changes = data.get("changes") or {}
    if not isinstance(changes, dict):
        raise ValidationError("invalid", "changes must be an object.", "changes")
    sr = worklist.service_request_for(_me(), number)
    result = sr_rules.update_service_request(
        sr.id, actor=_me(), expected_version=data.get("version"), changes=changes,
        status=data.get("status"), memo=data.get("memo"),
    )
    sr = db.session.get(ServiceRequest, result.sr.id)
    return jsonify(ok=True, changed_fields=result.changed_fields,
                   status_changed=result.status_changed, sr=_sr(sr))


@bp.get("/agent/api/sr/<number>/worklog")
@login_required
def work_log_list(number: str):
    sr = worklist.service_request_for(_me(), number)
    return jsonify(ok=True, work_log=[wire.work_log_entry(e) for e in sr.work_log])


@bp.post("/agent/api/sr/<number>/worklog")
@login_required
def work_log_add(number: str):
    data = _only(_json_body(), {"summary", "details", "log_type", "client_visible"},
                 "a work-log entry")
    sr = worklist.service_request_for(_me(), number)
    entry = sr_rules.add_work_log(
        sr.id, author=current_user.person, summary=data.get("summary"),
        details=data.get("details"), log_type=data.get("log_type", "WORK"),
        client_visible=data.get("client_visible") is True,
    )
    return jsonify(ok=True, entry=wire.work_log_entry(entry)), 201


@bp.get("/agent/api/cis")
@login_required
def ci_search():
    items = worklist.search_cis(request.args.get("q", ""))
    return jsonify(ok=True, items=[
        {"id": ci.id, "label": ci.name, "detail": ci.description or ""} for ci in items])


@bp.get("/agent/api/assets")
@login_required
def asset_search():
    items = worklist.search_assets(request.args.get("q", ""))
    return jsonify(ok=True, items=[
        {"id": a.id, "label": str(a), "detail": a.location or ""} for a in items])


@bp.get("/agent/api/chats/<int:chat_id>/handover-agents")
@login_required
def handover_agents(chat_id: int):
    """The agents the chat's agent can hand it to now (the Transfer dialog's choices)."""
    return jsonify(ok=True, agents=handover.candidates(chat_id, _me()))


@bp.get("/agent/api/groups")
@login_required
def group_list():
    mine = set(worklist.group_ids(_me()))
    groups = db.session.scalars(db.select(PersonGroup).order_by(PersonGroup.name))
    return jsonify(ok=True, groups=[
        {"id": g.id, "name": g.name, "is_chat_queue": g.is_chat_queue, "mine": g.id in mine}
        for g in groups])


@bp.get("/agent/api/my-work")
@login_required
def my_work_list():
    rows = worklist.my_work(_me(), request.args.get("status"))
    return jsonify(ok=True, service_requests=[wire.service_request_row(sr) for sr in rows])


def serialize_preferences(user) -> dict:
    return {
        "indicator_style": user.indicator_style,
        "effective_indicator_style": worklist.indicator_style(
            user, current_app.config.get("INDICATOR_STYLE", "text")),
        "notify_desktop": user.notify_desktop,
        "notify_sound": user.notify_sound,
        "alert_in_focus": user.alert_in_focus,
    }


@bp.get("/agent/api/preferences")
@login_required
def preferences_read():
    return jsonify(ok=True, preferences=serialize_preferences(current_user))


@bp.post("/agent/api/preferences")
@login_required
def preferences_save():
    user = worklist.set_preferences(_me(), _json_body())
    return jsonify(ok=True, preferences=serialize_preferences(user))
