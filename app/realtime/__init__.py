"""Realtime adapters: Socket.IO namespaces /queue and /chat, the event publisher, and the
background jobs of a server process. The protocol is documented in docs/protocol.md."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass

from flask import Flask

from app.extensions import socketio
from app.realtime import jobs, publisher, shutdown
from app.realtime.base import answer_events_later
from app.realtime.chat import ChatNamespace
from app.realtime.queue import QueueNamespace


@dataclass
class Namespaces:
    """The namespace handlers of one app, and the node id of its process's presence rows."""

    node: str
    queue: QueueNamespace
    chat: ChatNamespace


def _node_id() -> str:
    """This process among its siblings (presence rows are kept per node)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


def init_app(app: Flask) -> None:
    """Build this app's namespaces and register them with its Socket.IO server."""
    node = _node_id()
    namespaces = Namespaces(node=node, queue=QueueNamespace(node), chat=ChatNamespace(node))
    for namespace in (namespaces.queue, namespaces.chat):
        socketio.on_namespace(namespace)
    answer_events_later(socketio.server)
    publisher.init_app(app)
    app.extensions["realtime"] = namespaces


def namespaces_of(app: Flask) -> Namespaces:
    return app.extensions["realtime"]


def start_background_jobs(app: Flask) -> None:
    """Called by the server entry point (wsgi.py), never by tests or the CLI."""
    if app.extensions.get("realtime_jobs_started"):
        return
    app.extensions["realtime_jobs_started"] = True
    jobs.start(app, namespaces_of(app))
    shutdown.install(app, namespaces_of(app))
