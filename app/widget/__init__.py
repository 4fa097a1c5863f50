"""The end-user chat widget: ``/widget.js``, one script tag on any site.

The script is a single vanilla file that builds its UI inside a Shadow DOM and loads the
Socket.IO client from this server's ``/vendor/``. Its sources are kept by meaning:
``static/widget.js`` (behaviour), ``static/widget.css`` (looks), ``static/strings.json`` (every
text, per language); they and the server settings it needs (the message limit) are put into
one file when it is served, so the widget makes no extra request before it shows its launcher.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, request

from app.desk import people

STATIC = Path(__file__).resolve().parent / "static"
CONFIG_MARK = "/*@SERVER_CONFIG@*/{}"
STRINGS_MARK = "/*@STRINGS@*/{}"
STYLES_MARK = '/*@STYLES@*/""'

bp = Blueprint("widget", __name__)


def _widget_source() -> tuple[bytes, bytes, str]:
    """The script with the server settings filled in, gzipped too, and its ETag (per app)."""
    cached = current_app.extensions.get("widget_js")
    if cached is not None and not current_app.debug:
        return cached
    config = {"maxLength": current_app.config["CHAT_MESSAGE_MAX_LENGTH"],
              "maxFileBytes": current_app.config["ATTACHMENT_MAX_BYTES"]}
    strings = json.loads((STATIC / "strings.json").read_text(encoding="utf-8"))
    styles = (STATIC / "widget.css").read_text(encoding="utf-8")
    text = (STATIC / "widget.js").read_text(encoding="utf-8")
    for mark, value in ((CONFIG_MARK, config), (STRINGS_MARK, strings), (STYLES_MARK, styles)):
        if mark not in text:
            raise RuntimeError(f"widget.js lost its {mark} placeholder")
        text = text.replace(mark, json.dumps(value, ensure_ascii=False), 1)
    body = text.encode("utf-8")
    etag = hashlib.sha256(body).hexdigest()[:24]
    cached = (body, gzip.compress(body, compresslevel=9, mtime=0), etag)
    current_app.extensions["widget_js"] = cached
    return cached


@bp.get("/widget.js")
def widget_js():
    body, zipped, etag = _widget_source()
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    elif "gzip" in request.accept_encodings:
        # Every page of every customer site loads this: send it compressed (about a quarter).
        response = Response(zipped, mimetype="text/javascript")
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = Response(body, mimetype="text/javascript")
    response.vary.add("Accept-Encoding")
    response.set_etag(etag)
    # Short cache: customers embed the URL once and must get fixes without a new tag.
    response.cache_control.public = True
    response.cache_control.max_age = 300
    response.headers["Access-Control-Allow-Origin"] = "*"  # public code, no data
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/widget/queues")
def widget_queues():
    """Names of the chat queues, for a widget embedded without data-queue/data-topics."""
    origin = request.headers.get("Origin")
    allowed = {o.rstrip("/") for o in current_app.config.get("WIDGET_ALLOWED_ORIGINS", [])}
    response = current_app.json.response(
        {"queues": [{"name": g.name, "description": g.description or ""}
                    for g in people.chat_queues()]})
    if origin and origin.rstrip("/") in allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
