"""Send an outbox: claim due rows so each goes out once per attempt, retry with back-off.

Several senders may run at once (a background task in every server process, a command with
``--loop``). Each row is claimed before it is sent: ``SELECT … FOR UPDATE SKIP LOCKED`` on
PostgreSQL, then on every database one conditional UPDATE (``PENDING → SENDING WHERE status =
'PENDING'``) that only one sender can win. The claim commits before anything leaves the
process, so no database connection waits on a slow mail server or web site. A row left in
SENDING longer than ``<PREFIX>_SENDING_TIMEOUT`` belongs to a sender that died and is tried
again. A failed try waits ``<PREFIX>_RETRY_DELAY`` seconds, doubling up to
``<PREFIX>_RETRY_MAX_DELAY``; after ``<PREFIX>_MAX_ATTEMPTS`` tries (or at once when the
failure is permanent) the row is FAILED and kept for a person to look at.

What differs between outboxes (the table, the settings' prefix, how a row leaves, which rows
may go now) is a `Channel`; mail and webhooks each have one.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select, update

from app import metrics
from app.desk.errors import ValidationError
from app.desk.validation import clean_id
from app.extensions import db, socketio
from app.models import OutboxStatus, utcnow

log = logging.getLogger(__name__)

ERROR_MAX_LENGTH = 1000


class DeliveryError(Exception):
    """A row could not be handed over.

    ``permanent``: this row will never go (bad address, refused for good): FAILED at once.
    ``stop_pass``: the way out itself is broken (server down, bad settings): the other due rows
    would fail the same way, so the pass ends and they keep their turn.
    ``pause``: a part of the outbox (e.g. one webhook's receiver) is unreachable: its other
    rows wait for the next pass, the rest goes on.
    ``values``: further columns to record with the failure (e.g. the HTTP status received).
    """

    def __init__(self, message: str, *, permanent: bool = False, stop_pass: bool = False,
                 pause: Hashable | None = None, values: dict | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.stop_pass = stop_pass
        self.pause = pause
        self.values = values or {}


class Channel:
    """One outbox: its table, its settings and its way out (subclassed per outbox).

    The table has the columns id, status (OutboxStatus), attempts, last_error,
    next_attempt_at, claimed_by, claimed_at and sent_at.
    """

    name = "outbox"  # in metrics and worker ids
    label = "Outbox row"  # in logs: "<label> 17 will be retried ..."
    model: Any = None
    settings = ""  # prefix of the settings: MAIL -> MAIL_MAX_ATTEMPTS, MAIL_RETRY_DELAY, ...
    defaults = {"MAX_ATTEMPTS": 8, "RETRY_DELAY": 60.0, "RETRY_MAX_DELAY": 21600.0,
                "SENDING_TIMEOUT": 300.0}

    def setting(self, key: str) -> float:
        value = current_app.config.get(f"{self.settings}_{key}")
        return float(self.defaults[key] if value is None else value)

    batch = 1  # rows claimed at once (each still sent and recorded on its own merits)

    def pause_key(self, job: Any) -> Hashable | None:
        """The part of the outbox a prepared row belongs to, for DeliveryError.pause."""
        return None

    def candidates(self, due: Any, size: int, *, locking: bool) -> list[int]:
        """Ids of due rows to try to claim (``due`` selects them in order)."""
        if locking:  # rows another sender holds are skipped, not waited for
            return list(db.session.scalars(due.limit(size).with_for_update(skip_locked=True)))
        return list(db.session.scalars(due.limit(size + 4)))

    def keep(self, won: list[int]) -> list[int]:
        """Of the rows just claimed, those to send (the rest are given back untried)."""
        return won

    def order_of(self, job: Any) -> Hashable | None:
        """Rows of the same order go out in order: after a failure, the rest of its rows
        in the batch wait."""
        return None

    def claimable(self, paused: set) -> list:
        """Further conditions a due row must meet to be claimed now (ordering, pauses)."""
        return []

    def open(self) -> Any:
        """The way out for one pass (e.g. one SMTP connection); it has ``close()``."""
        raise NotImplementedError

    def prepare(self, row: Any) -> Any:
        """Read what sending needs, while the claim's transaction is still open."""
        raise NotImplementedError

    def deliver(self, transport: Any, job: Any) -> dict | None:
        """Hand the prepared row over; further columns to record on success, or None.
        Raises DeliveryError."""
        raise NotImplementedError

    def describe(self, row: Any) -> str:
        return f"{self.name} {row.id}"


@dataclass
class SendStats:
    """What one pass did."""

    sent: int = 0
    retrying: int = 0  # failed this time, will be tried again after the back-off
    failed: int = 0  # gave up: FAILED, kept and flagged for a person to look at
    reclaimed: int = 0  # found stuck in SENDING by a sender that died
    last_error: str | None = None
    stopped: bool = False  # the way out failed: the rest waits for the next pass
    paused: set = field(default_factory=set)

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.failed

    def add(self, other: SendStats) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.reclaimed += other.reclaimed
        self.last_error = other.last_error or self.last_error
        self.stopped = other.stopped

    def __str__(self) -> str:
        text = f"sent {self.sent}, retrying {self.retrying}, failed {self.failed}"
        if self.reclaimed:
            text += f", reclaimed {self.reclaimed}"
        if self.last_error:
            text += f" (last error: {self.last_error})"
        return text


def default_worker_id(kind: str = "worker") -> str:
    """Who claimed a row, as shown in the outbox: host, process and a per-sender tag."""
    return f"{kind}@{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(3)}"


# --- a pass ------------------------------------------------------------------------------

def send_due(channel: Channel, worker_id: str, limit: int = 50) -> SendStats:
    """One pass: reclaim stuck rows, then claim and send up to ``limit`` due rows, claimed
    ``channel.batch`` at a time (one claim, one record of the successes per batch)."""
    stats = SendStats(reclaimed=_reclaim_stuck(channel))
    transport = channel.open()
    try:
        while stats.claimed < limit and not stats.stopped:
            batch = _claim_batch(channel, worker_id, stats.paused,
                                 min(channel.batch, limit - stats.claimed))
            if not batch:
                break
            _send_batch(channel, transport, worker_id, batch, stats)
    finally:
        transport.close()
    if stats.claimed or stats.reclaimed:
        log.info("%s pass by %s: %s", channel.name.capitalize(), worker_id, stats)
    return stats


def _send_batch(channel: Channel, transport: Any, worker_id: str,
                batch: list[tuple[int, int, Any]], stats: SendStats) -> None:
    sent: dict[tuple, list[int]] = {}  # the columns to record -> the rows sent
    unsent: list[int] = []  # claimed, but their part of the outbox is paused or stopped
    held: set = set()  # orders whose earlier row failed in this batch
    for row_id, attempts, job in batch:
        order = channel.order_of(job)
        if stats.stopped or channel.pause_key(job) in stats.paused or \
                (order is not None and order in held):
            unsent.append(row_id)
            continue
        try:
            if isinstance(job, DeliveryError):
                raise job
            values = channel.deliver(transport, job) or {}
        except DeliveryError as exc:
            stats.last_error = str(exc)
            if _record_failure(channel, row_id, attempts, worker_id, exc) == OutboxStatus.FAILED:
                stats.failed += 1
            else:
                stats.retrying += 1
            if exc.pause is not None:
                stats.paused.add(exc.pause)
            if order is not None:
                held.add(order)
            stats.stopped = stats.stopped or exc.stop_pass
        else:
            sent.setdefault(tuple(sorted(values.items())), []).append(row_id)
            stats.sent += 1
    now = utcnow()
    for values, row_ids in sent.items():
        _finish(channel, row_ids, worker_id,
                {"status": OutboxStatus.SENT, "sent_at": now, **dict(values)})
    if unsent:
        _release(channel, unsent, worker_id)


def send_all_due(channel: Channel, worker_id: str, limit: int = 50) -> SendStats:
    """Passes until nothing due is left (or the way out fails)."""
    total = SendStats()
    while True:
        stats = send_due(channel, worker_id, limit)
        total.add(stats)
        if stats.stopped or stats.claimed < limit:
            return total


def _claim_batch(channel: Channel, worker_id: str, paused: set, size: int
                 ) -> list[tuple[int, int, Any]]:
    """Claim up to ``size`` due rows: [(id, attempts, prepared job or the DeliveryError
    preparing it raised)] in the order they are due, or [] when nothing is due."""
    model = channel.model
    due = (select(model.id)
           .where(model.status == OutboxStatus.PENDING, model.next_attempt_at <= utcnow(),
                  *channel.claimable(paused))
           .order_by(model.next_attempt_at, model.id))
    dialect = db.session.get_bind().dialect
    for _round in range(3):
        candidates = channel.candidates(due, size, locking=dialect.name == "postgresql")
        if not candidates:
            db.session.rollback()
            return []
        claim = (update(model)
                 .where(model.id.in_(candidates), model.status == OutboxStatus.PENDING)
                 .values(status=OutboxStatus.SENDING, claimed_by=worker_id,
                         claimed_at=utcnow(), attempts=model.attempts + 1)
                 .execution_options(synchronize_session=False))
        if dialect.update_returning:
            won = set(db.session.scalars(claim.returning(model.id)))
        else:  # one conditional UPDATE per row: only one sender wins each
            won = {row_id for row_id in candidates
                   if db.session.execute(claim.where(model.id == row_id)).rowcount == 1}
        won = [row_id for row_id in candidates if row_id in won]
        kept = channel.keep(won)[:size]
        if won:
            db.session.commit()
            extra = [row_id for row_id in won if row_id not in set(kept)]
            if extra:
                _release(channel, extra, worker_id)
            if kept:
                return _prepared(channel, kept)
            continue
        db.session.rollback()  # every candidate went to another sender: look again
    return []


def _prepared(channel: Channel, row_ids: list[int]) -> list[tuple[int, int, Any]]:
    rows = {row.id: row for row in db.session.scalars(
        select(channel.model).where(channel.model.id.in_(row_ids))
        .execution_options(populate_existing=True))}
    batch = []
    for row_id in row_ids:
        row = rows[row_id]
        try:
            job: Any = channel.prepare(row)
        except DeliveryError as exc:
            job = exc
        except Exception as exc:  # a defect must not leave the row in SENDING: record it
            log.exception("%s: unexpected error while preparing it", channel.describe(row))
            job = DeliveryError(f"Unexpected error: {type(exc).__name__}: {exc}",
                                stop_pass=True)
        batch.append((row_id, row.attempts, job))
    db.session.rollback()  # end the read: no connection is held while the rows go out
    return batch


def _release(channel: Channel, row_ids: list[int], worker_id: str) -> None:
    """Give claimed rows back untried: they keep their turn and their count of attempts."""
    model = channel.model
    db.session.execute(
        update(model)
        .where(model.id.in_(row_ids), model.status == OutboxStatus.SENDING,
               model.claimed_by == worker_id)
        .values(status=OutboxStatus.PENDING, attempts=model.attempts - 1)
        .execution_options(synchronize_session=False))
    db.session.commit()


def _reclaim_stuck(channel: Channel) -> int:
    """Rows SENDING for longer than the sending time-out: their sender died; try again."""
    model = channel.model
    now = utcnow()
    cutoff = now - timedelta(seconds=channel.setting("SENDING_TIMEOUT"))
    max_attempts = int(channel.setting("MAX_ATTEMPTS"))
    stuck = db.session.execute(
        select(model.id, model.claimed_by, model.claimed_at, model.attempts)
        .where(model.status == OutboxStatus.SENDING, model.claimed_at < cutoff)
    ).all()
    count = 0
    for row_id, claimed_by, claimed_at, attempts in stuck:
        status = OutboxStatus.FAILED if attempts >= max_attempts else OutboxStatus.PENDING
        count += db.session.execute(
            update(model)
            .where(model.id == row_id, model.status == OutboxStatus.SENDING,
                   model.claimed_at == claimed_at)
            .values(status=status, next_attempt_at=now,
                    last_error=f"The sender {claimed_by} stopped while sending it (claimed "
                               f"{claimed_at:%Y-%m-%d %H:%M:%S} UTC).")
            .execution_options(synchronize_session=False)
        ).rowcount
    db.session.commit()
    if count:
        log.warning("%s: %d row(s) were stuck in SENDING and are tried again",
                    channel.name.capitalize(), count)
    return count


def retry_delay(channel: Channel, attempts: int) -> timedelta:
    """Exponential back-off after the n-th failed try: base, 2×base, 4×base … up to the cap."""
    base = channel.setting("RETRY_DELAY")
    cap = channel.setting("RETRY_MAX_DELAY")
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), cap))


def _record_failure(channel: Channel, row_id: int, attempts: int, worker_id: str,
                    exc: DeliveryError) -> OutboxStatus:
    give_up = exc.permanent or attempts >= int(channel.setting("MAX_ATTEMPTS"))
    status = OutboxStatus.FAILED if give_up else OutboxStatus.PENDING
    values: dict = {"status": status, "last_error": str(exc)[:ERROR_MAX_LENGTH], **exc.values}
    if not give_up:
        values["next_attempt_at"] = utcnow() + retry_delay(channel, attempts)
    _finish(channel, row_id, worker_id, values)
    level = logging.ERROR if give_up else logging.WARNING
    log.log(level, "%s %s %s after %d attempt(s): %s", channel.label, row_id,
            "FAILED" if give_up else "will be retried", attempts, exc)
    return status


def _finish(channel: Channel, row_ids: int | list[int], worker_id: str, values: dict) -> None:
    model = channel.model
    keys = [row_ids] if isinstance(row_ids, int) else row_ids
    done = db.session.execute(
        update(model)
        .where(model.id.in_(keys), model.status == OutboxStatus.SENDING,
               model.claimed_by == worker_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if done < len(keys):  # only when this sender was so slow that its claim was taken over
        log.warning("%s %s: the claim of %s was taken over before it finished",
                    channel.label, keys, worker_id)


def retry_now(channel: Channel, ids: Iterable[object]) -> int:
    """Put FAILED or waiting rows back in line for an immediate try; returns how many.

    A FAILED row keeps its attempts and last error: it gets one more try, and is FAILED again
    if that try fails too. Rows being sent or already sent are left alone.
    """
    if isinstance(ids, (str, bytes)) or not isinstance(ids, Iterable):
        raise ValidationError("invalid", "Give a list of outbox ids.", "ids")
    keys = sorted({clean_id(value, "ids") for value in ids})
    if not keys:
        return 0
    model = channel.model
    count = db.session.execute(
        update(model)
        .where(model.id.in_(keys),
               model.status.in_((OutboxStatus.FAILED, OutboxStatus.PENDING)))
        .values(status=OutboxStatus.PENDING, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return count


# --- the worker --------------------------------------------------------------------------

class OutboxWorker:
    """The sender loop: a background task in a server process, or a command's ``--loop``.

    ``wake()`` starts the next round at once (the process that wrote new rows calls it), so
    the interval only bounds how late rows written by other processes may go out.
    """

    def __init__(self, app: Flask, channel: Channel, interval: float, *, kind: str = "server",
                 limit: int = 50, sleep: Callable[[float], object] | None = None,
                 report: Callable[[SendStats], object] | None = None) -> None:
        self.app = app
        self.channel = channel
        self.interval = interval
        self.limit = limit
        self.worker_id = default_worker_id(kind)
        self.task = None
        self._sleep = sleep
        self._report = report
        self._stopping = False
        self._wakeup = None if sleep is not None else socketio.server.eio.create_event()

    def run(self) -> None:
        log.info("%s sender %s started (every %ss)", self.channel.name.capitalize(),
                 self.worker_id, self.interval)
        while not self._stopping:
            self.run_once()
            if self._wakeup is None:
                self._sleep(self.interval)
            else:
                self._wakeup.wait(self.interval)
                self._wakeup.clear()

    def wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()

    def run_once(self) -> SendStats | None:
        """One round (all that is due); a lost database is logged and tried again later."""
        with self.app.app_context():
            try:
                stats = send_all_due(self.channel, self.worker_id, self.limit)
            except Exception:
                log.exception("%s pass failed; trying again in %ss",
                              self.channel.name.capitalize(), self.interval)
                return None
            finally:
                db.session.remove()
        metrics.outbox_pass(self.channel.name, sent=stats.sent, retrying=stats.retrying,
                            failed=stats.failed)
        if self._report is not None and (stats.claimed or stats.reclaimed):
            self._report(stats)
        return stats

    def stop(self) -> None:
        """Ends the loop after the current round (within one interval)."""
        self._stopping = True
        self.wake()


def start_worker(app: Flask, channel: Channel, interval: float) -> OutboxWorker | None:
    """Start a background sender in this server process when ``interval`` > 0.

    ``socketio.start_background_task`` follows the configured async mode (no eventlet API).
    """
    if interval <= 0:
        return None
    worker = OutboxWorker(app, channel, interval)
    worker.task = socketio.start_background_task(worker.run)
    return worker
