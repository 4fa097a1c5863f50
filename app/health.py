"""Probes for load balancers and supervisors.

``/healthz`` (liveness): the process answers HTTP. ``/readyz`` (readiness): it can also reach
its database and, when one is configured, the Redis message queue; a process that cannot is
taken out of rotation (503) rather than restarted.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app
from sqlalchemy import text

from app.extensions import db

log = logging.getLogger(__name__)


def healthz():
    return {"ok": True}


def readyz():
    checks = {"database": _database(), "message_queue": _message_queue()}
    ok = all(state in ("ok", "not configured") for state in checks.values())
    return {"ok": ok, **checks}, 200 if ok else 503


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means: not ready
        log.warning("readiness: database unreachable: %s", exc.__class__.__name__)
        db.session.rollback()
        return "unreachable"
    finally:
        db.session.remove()


def _message_queue() -> str:
    if not current_app.config.get("SOCKETIO_MESSAGE_QUEUE"):
        return "not configured"
    from app.realtime.jobs import message_queue_ok

    return "ok" if message_queue_ok(current_app.config) else "unreachable"


def init_app(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)
