"""Background jobs of a server process: abandon sweeper, idle-chat closer, presence heartbeat,
the end of agents' offline grace, the offer sweeper, folding of the SR status tally, removal
of uploads never sent.

Every process runs them; the desk's conditional updates make concurrent runs harmless (a chat
is abandoned or closed once, whoever gets there first).
"""

from __future__ import annotations

import logging
import time

from flask import Flask

from app import metrics, sqlite_wal
from app.desk import (
    availability,
    chats,
    presence,
    report_rollup,
    routing,
    stats,
    unsent_files,
)
from app.extensions import socketio
from app.realtime.base import session_scope

log = logging.getLogger(__name__)


def sweep_interval(config) -> float:
    """Often enough to honour the shortest configured delay, never busier than 2 per second."""
    configured = config.get("REALTIME_SWEEP_INTERVAL")
    if configured:
        return max(0.5, float(configured))
    shortest = min(config["CHAT_ABANDON_GRACE"], config["CHAT_IDLE_TIMEOUT"])
    return min(5.0, max(0.5, shortest / 4))


def heartbeat_interval(config) -> float:
    return max(0.5, float(config.get("PRESENCE_HEARTBEAT", 2)))


# A node silent for this many heartbeats is dead.
DEAD_AFTER_BEATS = 3


MESSAGE_QUEUE_DOWN = "Live updates between the desk's servers are interrupted; retrying."
_redis_clients: dict[str, object] = {}


def message_queue_ok(config) -> bool:
    """True without a message queue; else whether Redis answers a PING."""
    url = config.get("SOCKETIO_MESSAGE_QUEUE")
    if not url or not url.startswith(("redis://", "rediss://", "unix://")):
        return True
    try:
        import redis

        client = _redis_clients.get(url)
        if client is None:
            client = _redis_clients[url] = redis.Redis.from_url(
                url, socket_timeout=2, socket_connect_timeout=2)
        return bool(client.ping())
    except Exception:  # noqa: BLE001 - any failure means: not usable now
        log.warning("message queue %s does not answer", url)
        metrics.backend_error("redis")
        return False


def run_once(app: Flask, namespaces) -> None:
    """One pass of every job, each in its own transaction; a failing job never stops the rest."""
    def local_visitors_are_here() -> None:
        presence.visitors_still_here(namespaces.chat.visitor_chat_ids(), namespaces.node)

    with app.app_context():
        retry = namespaces.queue.retry_failed
        # Down until Redis answers AND this process listens to it again (events published
        # meanwhile are lost to it; its clients resynchronise then).
        if not message_queue_ok(app.config) or getattr(socketio.server.manager, "lost", False):
            namespaces.queue.report_outage(MESSAGE_QUEUE_DOWN)
            retry = None
        for job in (local_visitors_are_here, chats.abandon_expired, chats.close_idle_chats,
                    namespaces.queue.drop_ended_sessions, namespaces.chat.drop_ended_sessions,
                    stats.fold_status_tally, report_rollup.fold, unsent_files.drop_unsent,
                    namespaces.chat.check_delivery, retry):
            if job is None:
                continue
            try:
                with session_scope(f"background job {job.__name__}"):
                    job()
            except Exception:  # noqa: BLE001 - the loop must survive a database outage
                log.exception("background job %s failed", job.__name__)


def beat_once(app: Flask, namespaces) -> None:
    """This process is alive; the processes that stopped beating are let go of."""
    config = app.config
    with app.app_context():
        try:
            with session_scope("presence heartbeat"):
                if not presence.heartbeat(namespaces.node):
                    namespaces.queue.present_again()  # new, or declared dead while frozen
            with session_scope("looking for dead server processes"):
                gone = presence.purge_dead_nodes(DEAD_AFTER_BEATS * heartbeat_interval(config))
                if gone:
                    log.warning("server processes stopped beating: %s", ", ".join(gone))
        except Exception:  # noqa: BLE001
            log.exception("presence heartbeat failed")
            namespaces.queue.report_outage()  # the database is unreachable: say so


def route_once(app: Flask) -> None:
    """The jobs measured in seconds: agents whose offline grace ended go offline, offers
    past their time move on, waiting chats of auto-routed queues that hold no offer are
    offered (see app.desk.availability and app.desk.routing)."""
    with app.app_context():
        for job in (availability.end_offline_grace, routing.sweep):
            try:
                with session_scope(f"background job {job.__name__}"):
                    job()
            except Exception:  # noqa: BLE001 - the loop must survive a database outage
                log.exception("background job %s failed", job.__name__)


def _loop(interval: float, step, *args) -> None:
    while True:
        started = time.monotonic()
        step(*args)
        socketio.sleep(max(0.1, interval - (time.monotonic() - started)))


def start(app: Flask, namespaces) -> None:
    if not app.config.get("SOCKETIO_MESSAGE_QUEUE"):
        with app.app_context():
            try:
                with session_scope("marking waiting end users as gone at start"):
                    presence.visitors_gone_at_start()
            except Exception:  # noqa: BLE001 - e.g. tables not created yet
                log.exception("could not mark waiting end users as gone")
    if sqlite_wal.start(app, socketio.sleep, socketio.start_background_task):
        log.info("SQLite's log is checkpointed every %s s in a thread",
                 sqlite_wal.CHECKPOINT_SECONDS)
    socketio.start_background_task(_loop, sweep_interval(app.config), run_once, app, namespaces)
    socketio.start_background_task(_loop, heartbeat_interval(app.config), beat_once, app,
                                   namespaces)
    socketio.start_background_task(
        _loop, max(0.2, float(app.config.get("ROUTING_SWEEP_INTERVAL") or 1)), route_once, app)
    interval = float(app.config.get("MAIL_WORKER_INTERVAL") or 0)
    if interval > 0:
        from app.mail import sender as mail_sender

        app.extensions["mail_worker"] = mail_sender.run_worker(app)  # starts its own task
    from app.integration import sender as webhook_sender

    app.extensions["webhook_worker"] = webhook_sender.run_worker(app)  # None when off
