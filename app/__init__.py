"""Service Desk Chat: the application factory."""

from __future__ import annotations

import os
import sqlite3

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from app import sqlite_wal
from app.config import CONFIGS, Config, refuse_unsafe_settings
from app.desk import events, report_rollup
from app.extensions import csrf, db, limiter, login_manager, migrate, socketio
from app.json_depth import BoundedJSONProvider, SocketJSON
from app.realtime.packets import DeskPacket

# The largest Socket.IO packet (a long-polling body or a WebSocket frame) a client may send;
# chat messages are far below it (CHAT_MESSAGE_MAX_LENGTH).
MAX_HTTP_BUFFER_SIZE = 64 * 1024


def create_app(config: str | Config | None = None, **overrides) -> Flask:
    """Build the app: configuration, extensions, blueprints, Socket.IO namespaces, admin, CLI."""
    app = Flask(__name__, instance_relative_config=True)
    if config is None or isinstance(config, str):
        config = CONFIGS[config or os.environ.get("APP_ENV", "development")]()
    app.config.from_object(config)
    app.json = BoundedJSONProvider(app)
    app.config.update(overrides)
    refuse_unsafe_settings(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            "sqlite:///" + os.path.join(app.instance_path, "servicedesk.sqlite3"))
    _tune_engine(app)
    from app import logs

    logs.configure(app)

    from app import models  # noqa: F401 - register the models with the metadata

    db.init_app(app)
    events.init_app(app)
    report_rollup.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)
    from app.realtime.message_queue import redis_manager

    queue = app.config.get("SOCKETIO_MESSAGE_QUEUE")
    channel = app.config.get("SOCKETIO_CHANNEL", "flask-socketio")
    manager = redis_manager(queue, channel)
    # A manager of our own for Redis, python-socketio's plain one with no queue (None), and
    # Flask-SocketIO's choice for another kind of queue (from the URL and channel).
    managed = {"client_manager": manager} if manager or not queue else {"channel": channel}
    socketio.init_app(
        app,
        async_mode=app.config["ASYNC_MODE"],
        message_queue=queue,
        **managed,
        cors_allowed_origins=_origin_checker(app),
        max_http_buffer_size=MAX_HTTP_BUFFER_SIZE,
        ping_interval=10,
        ping_timeout=10,
        json=SocketJSON,
        serializer=DeskPacket,
    )
    from app.realtime import outbox
    from app.realtime.transport_guard import PollingBodyGuard

    outbox.install(socketio.server.eio, app.config["SOCKET_OUTBOX_MAX_BYTES"])

    app.wsgi_app = PollingBodyGuard(app.wsgi_app, socketio.server.eio, MAX_HTTP_BUFFER_SIZE)
    hops = app.config.get("TRUSTED_PROXIES") or 0
    if hops:  # outside the Socket.IO middleware, so that its origin check sees it too
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from app import (
        admin,
        agent,
        api,
        auth,
        cli,
        health,
        integration,
        metrics,
        realtime,
        security_headers,
        vendor,
        widget,
    )
    from app.api import v1 as api_v1
    from app.files import storage

    logs.init_app(app)
    storage.init_app(app)
    security_headers.init_app(app)
    health.init_app(app)
    metrics.init_app(app)
    vendor.init_app(app)
    auth.init_app(app)
    agent.init_app(app)
    api.init_app(app)
    api_v1.init_app(app)
    integration.init_app(app)
    widget.init_app(app)
    realtime.init_app(app)
    admin.init_app(app)
    cli.init_app(app)

    from app import wire

    app.jinja_env.filters["iso_time"] = wire.iso_time
    return app


def _tune_engine(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("postgres://"):
        uri = "postgresql://" + uri[len("postgres://"):]
    if uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://"):]
        options.setdefault("pool_size", 10)
        options.setdefault("max_overflow", 20)
    if uri.startswith("sqlite"):
        # Several green threads write at once: wait for the lock instead of failing.
        options.setdefault("connect_args", {"timeout": 30})
        if not event.contains(Engine, "connect", _sqlite_pragmas):
            event.listen(Engine, "connect", _sqlite_pragmas)
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite in write-ahead-log mode with synchronous=NORMAL (SQLite's advice for WAL).

    The default (rollback journal, synchronous=FULL) syncs the disk several times per commit:
    one chat message cost ~25 ms, mostly waiting for fsync. WAL keeps every committed message
    across a crash or restart of the server; only an OS crash or power cut may lose the last
    few commits, never corrupting the file. Readers no longer block the writer either.
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if sqlite_wal.automatic_checkpoint_off(dbapi_connection):
            cursor.execute("PRAGMA wal_autocheckpoint=0")  # a thread checkpoints instead
    finally:
        cursor.close()


def _origin_checker(app: Flask):
    """Socket.IO origins: the app's own origin plus the configured widget origins."""
    allowed = {origin.rstrip("/") for origin in app.config.get("WIDGET_ALLOWED_ORIGINS", [])}

    def check(origin: str | None, environ: dict | None = None) -> bool:
        if not origin:
            return True  # non-browser clients send no Origin
        origin = origin.rstrip("/")
        if origin in allowed:
            return True
        if environ is not None:
            scheme = environ.get("wsgi.url_scheme", "http")
            host = environ.get("HTTP_HOST", "")
            return origin == f"{scheme}://{host}"
        return False

    return check
