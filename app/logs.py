"""Logs: one line per event, carrying the request and the chat it belongs to.

Every HTTP request gets an id (the proxy's ``X-Request-Id`` when it sends a sane one, else a
new one), returned in the response's ``X-Request-Id`` and written on every line logged while
the request runs, as is the chat (``chat_id``) and socket (``sid``) a line is about. Each
request, each client socket event and each desk event (chat accepted, message stored, ...)
gives one line. ``LOG_FORMAT=json`` writes one JSON object per line for log collectors;
``LOG_LEVEL`` sets the threshold.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime

from flask import Flask, g, request

from app.desk import events

log = logging.getLogger("app.requests")
event_log = logging.getLogger("app.events")

REQUEST_ID: ContextVar[str | None] = ContextVar("log_request_id", default=None)
CHAT_ID: ContextVar[int | None] = ContextVar("log_chat_id", default=None)
SID: ContextVar[str | None] = ContextVar("log_sid", default=None)
CONTEXT = {"request_id": REQUEST_ID, "chat_id": CHAT_ID, "sid": SID}

_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Endpoints polled by machines: logged at DEBUG only.
_QUIET = {"healthz", "readyz", "metrics", "static", "vendor.vendor_file"}
_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class _Context(logging.Filter):
    """Adds the ids of the request, chat and socket being handled to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in CONTEXT.items():
            if getattr(record, name, None) is None:
                setattr(record, name, var.get())
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = " ".join(f"{key}={getattr(record, key)}" for key in CONTEXT
                       if getattr(record, key, None) is not None)
        return f"{line} [{ids}]" if ids else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the ids, and any `extra`."""

    def format(self, record: logging.LogRecord) -> str:
        data = {"time": datetime.fromtimestamp(record.created, UTC).isoformat()
                .replace("+00:00", "Z"),
                "level": record.levelname, "logger": record.name,
                "message": record.getMessage()}
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and value is not None:
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


def make_handler(json_format: bool, stream=None) -> logging.Handler:
    """A handler writing one line per record, with the ids of its context."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if json_format else TextFormatter())
    handler.addFilter(_Context())
    return handler


def configure(app: Flask) -> None:
    """Install the log handler once per process (a test runner's own handlers win)."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "_desk_handler", False)]
    if root.handlers and not ours:
        return
    json_format = str(app.config.get("LOG_FORMAT", "text")).lower() == "json"
    for handler in ours:
        root.removeHandler(handler)
    handler = make_handler(json_format)
    handler._desk_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(str(app.config.get("LOG_LEVEL", "INFO")).upper())


# --- HTTP requests -----------------------------------------------------------------------

def _begin_request() -> None:
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
    g.log_token = REQUEST_ID.set(g.request_id)
    g.started = time.perf_counter()


def _end_request(response):
    request_id = g.get("request_id")
    if request_id is None:
        return response
    response.headers["X-Request-Id"] = request_id
    level = logging.DEBUG if request.endpoint in _QUIET or (
        request.endpoint or "").endswith(".static") else logging.INFO
    if log.isEnabledFor(level):
        ms = (time.perf_counter() - g.started) * 1000
        log.log(level, "%s %s %s %.1fms", request.method, request.path, response.status_code,
                ms, extra={"kind": "http", "method": request.method,
                           "path": request.path, "status": response.status_code,
                           "duration_ms": round(ms, 2), "remote_addr": request.remote_addr})
    return response


def _teardown_request(exc=None) -> None:
    token = g.pop("log_token", None)
    if token is not None:
        REQUEST_ID.reset(token)


# --- desk events -------------------------------------------------------------------------

# A field named like a LogRecord attribute (e.g. `created`) cannot be passed in `extra`.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


# Events as frequent as the messages themselves: their lines are written at DEBUG, like a
# successful `send` (a line per stored message would cost the message path a tenth of its time).
_CHATTY_EVENTS = frozenset({"MessagePosted"})


def on_desk_events(batch: list[object]) -> None:
    """One line per committed desk event with its ids (never message text or personal data)."""
    if not event_log.isEnabledFor(logging.INFO):
        return
    debug = event_log.isEnabledFor(logging.DEBUG)
    for item in batch:
        name = type(item).__name__
        if name in _CHATTY_EVENTS and not debug:
            continue
        details = {}
        if is_dataclass(item):
            for f in fields(item):
                value = getattr(item, f.name)
                if f.name == "message" and isinstance(value, dict):
                    details["message_id"] = value.get("id")
                    details["sender"] = value.get("sender", {}).get("role")
                elif isinstance(value, int | str | None) and not f.name.endswith("_name"):
                    details[f.name] = value
        text = " ".join(f"{key}={value}" for key, value in details.items()
                        if key != "chat_id")
        fields_out = {(f"event_{key}" if key in _RECORD_FIELDS else key): value
                      for key, value in details.items()}
        event_log.log(logging.DEBUG if name in _CHATTY_EVENTS else logging.INFO, "%s %s", name,
                      text, extra={"kind": "desk", "event": name, **fields_out})


def init_app(app: Flask) -> None:
    app.before_request(_begin_request)
    app.after_request(_end_request)
    app.teardown_request(_teardown_request)
    events.subscribe(app, on_desk_events)
