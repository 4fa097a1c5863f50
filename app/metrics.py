"""Prometheus metrics: ``GET /metrics`` and the small hooks that feed it.

Other modules only call the hooks (``socket_connected``, ``socket_event``, ``outbox_pass``,
``backend_error``, ``outbox_backlog``); desk events are counted by subscribing to them.
Figures that live in the database (waiting chats per queue, the outboxes' backlog) are read
when /metrics is fetched, so they are right whichever process answers.

One process (the default) reports its own figures: let Prometheus scrape every process.
Several processes on one machine (``make cluster``) share a folder named by
``PROMETHEUS_MULTIPROC_DIR``: every process (servers and senders) writes its figures there,
and /metrics of any of them reports the machine's total (prometheus_client's multiprocess
mode; the socket gauge counts live processes only, counters keep what stopped processes
counted). Scrape one process per machine then.

Access: ``METRICS_TOKEN`` (``Authorization: Bearer …``) and/or ``METRICS_ALLOWED_IPS``
(addresses or networks; loopback by default). With neither, /metrics is closed.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable
from functools import cache

from flask import Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import and_, event, func, select
from sqlalchemy.engine import Engine

from app.desk import events
from app.extensions import db
from app.models import (
    Chat,
    ChatStatus,
    OutboxMessage,
    OutboxStatus,
    PersonGroup,
    WebhookDelivery,
    utcnow,
)

log = logging.getLogger(__name__)
disable_created_metrics()  # the *_created series only add noise here

SOCKETS = Gauge("desk_sockets_connected", "Socket.IO connections open, by namespace and kind "
                "of client (agent or visitor).", ["namespace", "kind"],
                multiprocess_mode="livesum")
SOCKET_EVENTS = Counter("desk_socket_events", "Client events handled, by outcome: ok or the "
                        "error code of the acknowledgement.", ["namespace", "event", "outcome"])
SOCKET_EVENT_SECONDS = Histogram(
    "desk_socket_event_seconds", "Time from a client event's arrival to its acknowledgement. "
    "event=send: a chat message stored and committed (message latency); event=accept: a chat "
    "accepted (accept latency).", ["namespace", "event"],
    buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
CHAT_WAIT_SECONDS = Histogram(
    "desk_chat_wait_seconds", "How long end users waited in the queue before an agent "
    "accepted their chat.", buckets=(1, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600))
MESSAGES = Counter("desk_messages_stored", "Chat messages stored, by sender role (the end "
                   "user's opening question comes with the chat request, counted in "
                   "desk_events_total{event=\"chat_waiting\"}).", ["sender"])
DESK_EVENTS = Counter("desk_events", "Desk events committed (chat_waiting, chat_accepted, "
                      "chat_closed, ...).", ["event"])
OUTBOX_DELIVERIES = Counter(
    "desk_outbox_deliveries", "Outbox delivery attempts by outcome: sent; retrying (failed, "
    "tried again later); failed (given up, kept for a person to look at).",
    ["outbox", "outcome"])
BACKEND_ERRORS = Counter("desk_backend_errors", "Errors talking to the database or to Redis.",
                         ["backend"])

# Series that exist from the start (at 0), so that rates and alerts see them before the first
# occurrence.
for _namespace, _kind in (("/chat", "visitor"), ("/chat", "agent"), ("/queue", "agent")):
    SOCKETS.labels(_namespace, _kind)
for _sender in ("VISITOR", "AGENT", "SYSTEM"):
    MESSAGES.labels(_sender)
for _backend in ("database", "redis"):
    BACKEND_ERRORS.labels(_backend)

# Outbox name -> function returning its rows by status (read at each scrape).
_BACKLOGS: dict[str, Callable[[], dict[str, int]]] = {}


# --- hooks -------------------------------------------------------------------------------

def socket_connected(namespace: str, kind: str) -> None:
    SOCKETS.labels(namespace, kind).inc()


def socket_disconnected(namespace: str, kind: str) -> None:
    SOCKETS.labels(namespace, kind).dec()


def socket_event(namespace: str, event_name: str, outcome: str, seconds: float) -> None:
    """A client event was answered (``outcome``: "ok" or the error code)."""
    counter, timer = _socket_event_series(namespace, event_name, outcome)
    counter.inc()
    timer.observe(seconds)


@cache
def _socket_event_series(namespace: str, event_name: str, outcome: str):  # noqa: ANN202
    # The labelled series of a busy event, found once (the labels are few: known event
    # names and error codes).
    return (SOCKET_EVENTS.labels(namespace, event_name, outcome),
            SOCKET_EVENT_SECONDS.labels(namespace, event_name))


def outbox_pass(outbox: str, *, sent: int = 0, retrying: int = 0, failed: int = 0) -> None:
    """What one pass of an outbox sender did."""
    for outcome, count in (("sent", sent), ("retrying", retrying), ("failed", failed)):
        if count:
            OUTBOX_DELIVERIES.labels(outbox, outcome).inc(count)


def outbox_backlog(outbox: str, counts: Callable[[], dict[str, int]]) -> None:
    """Register an outbox whose rows by status /metrics reports (called in an app context)."""
    _BACKLOGS[outbox] = counts


def backend_error(backend: str) -> None:
    """A failed call to ``database`` or ``redis``."""
    BACKEND_ERRORS.labels(backend).inc()


def on_desk_events(batch: list[object]) -> None:
    for item in batch:
        _desk_event_series(type(item).__name__).inc()
        if isinstance(item, events.MessagePosted):
            _message_series(str(item.message.get("sender", {}).get("role", "?"))).inc()
        elif isinstance(item, events.ChatAccepted):
            _observe_wait(item.chat_id)


def _observe_wait(chat_id: int) -> None:
    row = db.session.execute(select(Chat.requested_at, Chat.accepted_at)
                             .where(Chat.id == chat_id)).first()
    if row is not None and row.accepted_at is not None:
        CHAT_WAIT_SECONDS.observe(max(0.0, (row.accepted_at - row.requested_at)
                                      .total_seconds()))


@cache
def _desk_event_series(event_name: str):  # noqa: ANN202
    return DESK_EVENTS.labels(_snake(event_name))


@cache
def _message_series(role: str):  # noqa: ANN202
    return MESSAGES.labels(role)


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


# --- errors seen by libraries ------------------------------------------------------------

def _database_error(context) -> None:
    from sqlalchemy.exc import IntegrityError

    if not isinstance(context.sqlalchemy_exception, IntegrityError):  # races, not faults
        backend_error("database")


class _RedisErrors(logging.Filter):
    """python-socketio's Redis manager reports failed publishes and lost subscriptions by
    logging with a ``redis_exception`` field; count those."""

    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "redis_exception"):
            backend_error("redis")
        return True


# --- figures read at scrape time ---------------------------------------------------------

class DeskCollector:
    """Waiting chats per queue, the outboxes' backlog, and whether the backends answer."""

    def collect(self):
        up = GaugeMetricFamily("desk_backend_up", "1 when the backend answered this scrape.",
                               labels=["backend"])
        try:
            yield from self._database_figures()
            up.add_metric(["database"], 1)
        except Exception:  # noqa: BLE001 - a scrape reports the outage, it does not fail
            log.warning("metrics: the database did not answer", exc_info=True)
            db.session.rollback()
            up.add_metric(["database"], 0)
        finally:
            db.session.remove()
        if current_app.config.get("SOCKETIO_MESSAGE_QUEUE"):
            from app.realtime.jobs import message_queue_ok

            up.add_metric(["redis"], 1 if message_queue_ok(current_app.config) else 0)
        yield up

    def _database_figures(self):
        waiting = GaugeMetricFamily("desk_chats_waiting", "Chats waiting in each chat queue.",
                                    labels=["queue"])
        oldest = GaugeMetricFamily("desk_chats_oldest_wait_seconds",
                                   "Wait of the oldest chat in each queue (0 when empty).",
                                   labels=["queue"])
        rows = db.session.execute(
            select(PersonGroup.name, func.count(Chat.id), func.min(Chat.requested_at))
            .select_from(PersonGroup)
            .outerjoin(Chat, and_(Chat.queue_id == PersonGroup.id,
                                  Chat.status == ChatStatus.WAITING))
            .where(PersonGroup.is_chat_queue.is_(True))
            .group_by(PersonGroup.id, PersonGroup.name)).all()
        now = utcnow()
        for name, count, first in rows:
            waiting.add_metric([name], count)
            oldest.add_metric([name], (now - first).total_seconds() if first else 0)
        yield waiting
        yield oldest
        backlog = GaugeMetricFamily("desk_outbox_messages", "Outbox rows not sent yet, by "
                                    "status (FAILED: given up).", labels=["outbox", "status"])
        for outbox, counts in sorted(_BACKLOGS.items()):
            for status, count in sorted(counts().items()):
                backlog.add_metric([outbox, status], count)
        yield backlog


def _backlog_of(model) -> Callable[[], dict[str, int]]:  # noqa: ANN001 - an outbox table
    def backlog() -> dict[str, int]:
        waiting = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED)
        counts = dict(db.session.execute(
            select(model.status, func.count()).where(model.status.in_(waiting))
            .group_by(model.status)).all())
        return {status.value: counts.get(status, 0) for status in waiting}

    return backlog


# --- the endpoint ------------------------------------------------------------------------

def _refusal() -> Response | None:
    config = current_app.config
    token = config.get("METRICS_TOKEN")
    allowed = config.get("METRICS_ALLOWED_IPS") or []
    if not token and not allowed:
        return Response("Metrics are off: set METRICS_TOKEN or METRICS_ALLOWED_IPS.\n", 403)
    if token:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, f"Bearer {token}".encode()):
            return Response("A bearer token is required.\n", 401,
                            {"WWW-Authenticate": 'Bearer realm="metrics"'})
    if allowed:
        try:
            address = ipaddress.ip_address(request.remote_addr or "")
        except ValueError:
            address = None
        if address is None or not any(address in ipaddress.ip_network(net, strict=False)
                                      for net in allowed):
            return Response("Not allowed from this address.\n", 403)
    return None


def metrics_view():
    refusal = _refusal()
    if refusal is not None:
        return refusal
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    desk = CollectorRegistry(auto_describe=False)
    desk.register(DeskCollector())
    started = time.perf_counter()
    body = generate_latest(registry) + generate_latest(desk)
    log.debug("metrics rendered in %.1f ms", (time.perf_counter() - started) * 1000)
    return Response(body, 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    app.add_url_rule("/metrics", "metrics", metrics_view)
    events.subscribe(app, on_desk_events)
    outbox_backlog("mail", _backlog_of(OutboxMessage))
    outbox_backlog("webhook", _backlog_of(WebhookDelivery))
    if not event.contains(Engine, "handle_error", _database_error):
        event.listen(Engine, "handle_error", _database_error)
    socketio_logger = logging.getLogger("socketio.server")
    if not any(isinstance(f, _RedisErrors) for f in socketio_logger.filters):
        socketio_logger.addFilter(_RedisErrors())
