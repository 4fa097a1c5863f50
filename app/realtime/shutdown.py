"""Graceful stop of a server process on SIGTERM (a deploy, a rolling restart, `docker stop`).

1. New Socket.IO connections are refused (`unavailable`): clients go to another process.
2. The message writer finishes what it holds: every `send` it took is committed and answered.
3. Every connection is dropped at the transport, so that clients reconnect by themselves (to
   another process, behind the proxy) and re-send what had no acknowledgement; the process's
   exit closes their TCP connections at the latest.
4. The process forgets its presence: its agents count offline at once and its waiting end
   users as gone from now (they come back through another process within the grace period).
5. It exits.

A SIGKILL skips all this; the other processes then notice the silence within three
heartbeats and do step 4 for it, and clients catch up as docs/protocol.md describes.
"""

from __future__ import annotations

import logging
import os
import signal
import time

from flask import Flask

from app.desk import presence
from app.extensions import socketio
from app.realtime.base import session_scope

log = logging.getLogger(__name__)
DRAIN_SECONDS = 5.0


def install(app: Flask, namespaces) -> None:
    """Called by the server entry point: SIGTERM (and SIGINT) stop gracefully."""
    def on_signal(signum, frame):  # noqa: ARG001 - the signal module's signature
        if getattr(namespaces, "stopping", False):
            return
        namespaces.stopping = True
        socketio.start_background_task(stop, app, namespaces)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def stop(app: Flask, namespaces, exit=os._exit) -> None:  # noqa: A002 - as in os._exit
    started = time.monotonic()
    log.warning("stopping: refusing new connections, finishing the writer's batch")
    for namespace in (namespaces.queue, namespaces.chat):
        namespace.stopping = True
    _drain(namespaces.chat)
    eio = socketio.server.eio
    sockets = list(eio.sockets.items())
    for eio_sid, connection in sockets:
        try:
            # Dropped without Engine.IO's "close" packet: a client told "close" by the
            # server takes it as final (python-socketio does not reconnect), while a dropped
            # transport is what every client reconnects after.
            connection.close(wait=False, abort=True, reason=eio.reason.TRANSPORT_CLOSE)
            eio.sockets.pop(eio_sid, None)
        except Exception:  # noqa: BLE001 - one socket's trouble must not stop the rest
            log.exception("closing connection %s", eio_sid)
    socketio.sleep(0.2)  # their disconnect handlers run
    _drain(namespaces.chat)  # what arrived while they were being closed
    with app.app_context():
        with session_scope("forgetting this process's presence", reraise=False):
            presence.node_stopped(namespaces.node)
    log.warning("stopped: %d connections closed, presence forgotten, in %.2f s",
                len(sockets), time.monotonic() - started)
    for handler in logging.getLogger().handlers:
        handler.flush()
    exit(0)


def _drain(chat_namespace) -> None:
    writer = chat_namespace.current_writer()
    deadline = time.monotonic() + DRAIN_SECONDS
    while writer is not None and not writer.idle() and time.monotonic() < deadline:
        socketio.sleep(0.05)
