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
from app.desk import chats, identity
from app.desk.errors import DeskError
from app.desk.tokens import make_visitor_token
from app.extensions import csrf, limiter

bp = Blueprint("api", __name__, url_prefix="/api")

CHAT_REQUEST_FIELDS = ("name", "email", "phone", "queue", "question", "context",
                       "identity_hash", "sr_number")
REQUIRED_FIELDS = ("name", "email", "queue", "question")
MY_REQUESTS_FIELDS = ("email", "identity_hash")


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


def _json_object(allowed: tuple[str, ...], required: tuple[str, ...]) -> dict:
    """The request's JSON object with only `allowed` fields and every `required` one."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise DeskError("invalid", f"Send a JSON object with {', '.join(required)}.")
    for name in data:
        if name not in allowed:
            raise DeskError("unknown_field", f"Unexpected field {str(name)[:64]!r}.",
                            str(name)[:64])
    for name in required:
        if data.get(name) in (None, ""):
            raise DeskError("required", f"{name} is required.", name)
    return data


@bp.post("/chat-requests")
@limiter.limit(_rate_limit, methods=["POST"])
def create_chat_request():
    """Open an SR (or, verified, join one's own open SR), put its chat in the queue, and hand
    the widget its visitor token."""
    data = _json_object(CHAT_REQUEST_FIELDS, REQUIRED_FIELDS)
    result = chats.request_chat(name=data["name"], email=data["email"], phone=data.get("phone"),
                                queue=data["queue"], question=data["question"],
                                context=data.get("context"),
                                user_agent=request.headers.get("User-Agent"),
                                identity_hash=data.get("identity_hash"),
                                sr_number=data.get("sr_number"))
    token = make_visitor_token(current_app.config["SECRET_KEY"], result.chat)
    return jsonify(wire.chat_request_created(
        result.chat, result.position, result.agents_online, result.agents_available, token,
        current_app.config["VISITOR_TOKEN_MAX_AGE"])), 201


@bp.post("/my-requests")
@limiter.limit(_rate_limit, methods=["POST"])
def my_requests():
    """A verified end user's open service requests (to chat about one of them)."""
    data = _json_object(MY_REQUESTS_FIELDS, MY_REQUESTS_FIELDS)
    rows = identity.my_open_requests(data["email"], data["identity_hash"])
    return jsonify({"requests": [wire.my_request(sr) for sr in rows]})


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
