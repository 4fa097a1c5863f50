"""HTTP endpoints for the end-user widget (documented in docs/protocol.md): chat requests
here, files in chats in `attachments`.

The widget is embedded in other sites and authenticates with the visitor token it gets here,
never with cookies: the blueprint is CSRF-exempt, and CORS is open only to the configured
widget origins.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify, request
from flask_cors import CORS

from app import wire
from app.desk import chats
from app.desk.errors import DeskError
from app.desk.tokens import make_visitor_token
from app.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api")

CHAT_REQUEST_FIELDS = ("name", "email", "phone", "queue", "question", "context")
REQUIRED_FIELDS = ("name", "email", "queue", "question")


def _error(code: str, message: str, field: str | None = None, status: int = 400):
    return jsonify(DeskError(code, message, field).to_dict()), status


@bp.errorhandler(DeskError)
def desk_error(exc: DeskError):
    return jsonify(exc.to_dict()), exc.status


@bp.errorhandler(429)
def too_many_requests(exc):
    return _error("rate_limited", "Too many chat requests from your address; please wait a "
                  "minute and try again.", status=429)


def _rate_limit() -> str:
    return current_app.config["CHAT_REQUEST_RATE_LIMIT"]


@bp.post("/chat-requests")
@limiter.limit(_rate_limit, methods=["POST"])
def create_chat_request():
    """Open an SR, put its chat in the queue, and hand the widget its visitor token."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _error("invalid", "Send a JSON object with name, email, queue and question.")
    for name in data:
        if name not in CHAT_REQUEST_FIELDS:
            return _error("unknown_field", f"Unexpected field {str(name)[:64]!r}.",
                          str(name)[:64])
    for name in REQUIRED_FIELDS:
        if data.get(name) in (None, ""):
            return _error("required", f"{name} is required.", name)
    result = chats.request_chat(name=data["name"], email=data["email"], phone=data.get("phone"),
                                queue=data["queue"], question=data["question"],
                                context=data.get("context"),
                                user_agent=request.headers.get("User-Agent"))
    token = make_visitor_token(current_app.config["SECRET_KEY"], result.chat)
    return jsonify(wire.chat_request_created(
        result.chat, result.position, result.agents_online, token,
        current_app.config["VISITOR_TOKEN_MAX_AGE"])), 201


from app.api import attachments  # noqa: E402,F401 - register the file routes on bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    csrf.exempt(bp)
    origins = [origin.rstrip("/") for origin in app.config.get("WIDGET_ALLOWED_ORIGINS", [])]
    # Per application (not on the shared blueprint object), so each app keeps its own origins.
    # Not the REST API for other systems (/api/v1): servers call it, not the widget's pages.
    CORS(app, resources={r"/api/(?!v1/).*": {"origins": origins or []}},
         methods=["GET", "POST", "OPTIONS"], allow_headers=["Content-Type", "Authorization"],
         expose_headers=["Content-Disposition"], max_age=600, supports_credentials=False)
