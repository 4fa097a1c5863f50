"""The REST API for other systems, ``/api/v1``: SRs, chats with their messages, persons,
queues. Its OpenAPI document (``/api/v1/openapi.json``) is generated from this code by
flask-smorest (marshmallow schemas, apispec), with a page for people at ``/api/v1/docs``.

Every request carries ``Authorization: Bearer <personal API token>`` and acts with the
token's user's rights (app/desk/lookups.py); cookies open nothing here (so no CSRF either).
Errors are the desk's: ``{"ok": false, "error": code, "message", "field"}`` with the status of
its DeskError, mapped here once for every resource. Requests are limited per token
(API_RATE_LIMIT).

flask-smorest was chosen because it is Flask's own shape (blueprints, method views), it is
kept by the marshmallow team with apispec, it documents arguments, responses, ETags and
errors from the same decorators that check them, and it lives beside the rest of the app
without taking it over (its app-wide error handler is left out: other screens keep theirs).
"""

from __future__ import annotations

import hashlib

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser

from app.api.v1.schemas import ErrorSchema
from app.desk import api_tokens
from app.desk.errors import DeskError, ValidationError
from app.extensions import csrf, limiter
from app.json_depth import loads_bounded
from app.models import User

PREFIX = "/api/v1"
UNAUTHORIZED = ("Give a valid API token: Authorization: Bearer <token> (create one in the "
                "console's settings, or with flask create-api-token).")


# --- what clients send ---------------------------------------------------------------------

class DeskParser(FlaskParser):
    """webargs, answering bad input the desk's way (400 with a code and the field)."""

    DEFAULT_VALIDATION_STATUS = 400
    # A parameter the route does not take is refused, not ignored: a typo in a filter
    # would otherwise list everything.
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
                                   "query": RAISE, "querystring": RAISE}

    def _raw_load_json(self, req):  # noqa: ANN001, ANN202 - webargs' signature
        if not req.get_data(cache=True):
            raise ValidationError("invalid_json", "Send a JSON object (Content-Type: "
                                  "application/json).", None)
        if not req.is_json:
            raise ValidationError("invalid_json", "Send JSON: Content-Type: application/json.",
                                  None)
        try:
            return loads_bounded(req.get_data(cache=True))
        except ValueError as exc:  # malformed, not UTF-8, or nested too deeply
            raise ValidationError("invalid_json", "The body is not valid JSON.", None) from exc

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):  # noqa: ANN001
        raise _validation_error(error.messages)


def _validation_error(messages: object, path: str = "") -> DeskError:
    """The first problem marshmallow found, as a DeskError naming its field."""
    while isinstance(messages, dict) and messages:
        key, messages = next(iter(messages.items()))
        if key in ("json", "query", "view_args", "headers"):
            continue
        if key == "_schema":
            return ValidationError("invalid", "Send a JSON object.", None)
        path = f"{path}.{key}" if path and not str(key).isdigit() else (path or str(key))
    text = messages[0] if isinstance(messages, list) and messages else str(messages)
    if not isinstance(text, str):
        return _validation_error(text, path)
    if text == "Unknown field.":
        return ValidationError("unknown_field", f"{path} is not a field of this request.", path)
    if text.startswith("Missing data"):
        return ValidationError("required", f"{path} is required.", path)
    return ValidationError("invalid", f"{path}: {text}", path)


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = DeskParser()

    def errors(self, *codes: int):
        """Document these error answers (and 401 and 429, which every route may give)."""
        from app.api.v1.docs import MEANINGS

        def decorate(view):
            for code in sorted({*codes, 401, 429}, reverse=True):
                view = self.alt_response(code, schema=ErrorSchema,
                                         description=MEANINGS[code])(view)
            return view

        return decorate


def resource(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """A blueprint of the API: token required, the desk's errors, limited per token."""
    blueprint = Blueprint(name, import_name, url_prefix=PREFIX + url_prefix,
                          description=description)
    blueprint.before_request(authenticate)
    blueprint.register_error_handler(DeskError, desk_error)
    limiter.limit(_rate_limit, key_func=_rate_key)(blueprint)
    return blueprint


# --- who is asking -------------------------------------------------------------------------

def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _rate_key() -> str:
    """Per token (its hash: the token itself is never kept), else per address."""
    token = _bearer()
    if token:
        return "api-token:" + hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:32]
    return "api-address:" + (request.remote_addr or "?")


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT") or "600 per minute"


class Unauthorized(DeskError):
    status = 401


def authenticate() -> None:
    """Every resource of the API names its user with a token."""
    user = api_tokens.user_for_token(_bearer())
    if user is None:
        raise Unauthorized("unauthorized", UNAUTHORIZED)
    g.api_user = user


def current_user() -> User:
    return g.api_user


# --- answers -------------------------------------------------------------------------------

def _error(code: str, message: str, status: int, field: str | None = None):
    response = jsonify(DeskError(code, message, field).to_dict())
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="service-desk"'
    return response


def desk_error(exc: DeskError):
    return _error(exc.code, exc.message, exc.status, exc.field)


def _http_error(exc):  # noqa: ANN001 - a werkzeug HTTPException
    if not request.path.startswith(PREFIX + "/"):
        return exc  # other screens keep their own pages
    codes = {404: "not_found", 405: "method_not_allowed", 413: "too_large",
             429: "rate_limited", 428: "version_required"}
    message = {429: "Too many requests with this token; wait a moment and try again.",
               404: "No such resource in this API."}.get(exc.code, exc.description)
    response = _error(codes.get(exc.code, "http_error"), message, exc.code)
    if exc.code == 429:
        response.headers["Retry-After"] = "60"
    return response


# --- the API -------------------------------------------------------------------------------

class DeskApi(Api):
    """flask-smorest's Api without its app-wide error handler, documenting the desk's errors."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        pass


def _docs_page():
    return render_template("api/docs.html")


def init_app(app: Flask) -> None:
    from app.api.v1 import chats, directory, service_requests

    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = DeskApi(spec_kwargs={
        "title": "Service Desk Chat API", "version": "1", "openapi_version": "3.0.3",
        "info": {"description": "Service requests, chats with their messages, persons and "
                                "queues, with the rights of the token's user. Send "
                                "`Authorization: Bearer <token>`."},
        "security": [{"bearerAuth": []}],
    })
    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    app.add_url_rule(PREFIX + "/docs", "api-docs.page", _docs_page)
    for blueprint in (service_requests.blp, chats.blp, directory.blp):
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)
    for status in (404, 405, 413, 428, 429):
        app.register_error_handler(status, _http_error)
    app.extensions["desk_api"] = api
