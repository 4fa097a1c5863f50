"""Service-request rules: numbering, status transitions, edits with a version check, work log.

Every change to an SR in the product goes through here, whichever screen or socket asked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import attributes

from app.desk import events, report_rollup
from app.desk.errors import Conflict, NotFound, ValidationError
from app.desk.unit_of_work import use_case
from app.desk.validation import clean_id, clean_rank, clean_text
from app.extensions import db
from app.models import (
    Asset,
    Chat,
    ChatStatus,
    ConfigurationItem,
    Person,
    PersonGroup,
    ServiceRequest,
    SRSource,
    SRStatus,
    StatusHistory,
    StatusTally,
    User,
    WorkLogEntry,
    WorkLogType,
    utcnow,
)

NUMBER_OFFSET = 1000
# After a chat ends, its agent still has the chat and its SR on screen: resolving the SR in
# this time still counts as resolved in the chat (the reports' "SRs resolved in the chat").
WRAP_UP = timedelta(minutes=15)

# Which status may follow which. QUEUED -> QUEUED re-queues the SR (own or another group).
TRANSITIONS: dict[SRStatus, frozenset[SRStatus]] = {
    SRStatus.NEW: frozenset({SRStatus.QUEUED, SRStatus.INPROGRESS, SRStatus.RESOLVED,
                             SRStatus.CANCELLED}),
    SRStatus.QUEUED: frozenset({SRStatus.QUEUED, SRStatus.INPROGRESS, SRStatus.RESOLVED,
                                SRStatus.CANCELLED}),
    SRStatus.INPROGRESS: frozenset({SRStatus.QUEUED, SRStatus.RESOLVED, SRStatus.CANCELLED}),
    SRStatus.RESOLVED: frozenset({SRStatus.INPROGRESS, SRStatus.CLOSED}),
    SRStatus.CLOSED: frozenset(),
    SRStatus.CANCELLED: frozenset(),
}

# Fields an edit may change, and how each is cleaned.
EDITABLE_FIELDS = ("summary", "details", "owner_group_id", "reported_priority", "impact",
                   "urgency", "classification", "ci_id", "asset_id", "solution")


def allowed_transitions(status: SRStatus) -> list[SRStatus]:
    """The statuses an SR in `status` may move to, in the order screens show them."""
    order = list(SRStatus)
    return sorted(TRANSITIONS[SRStatus(status)], key=order.index)


def get_service_request(sr_id: object) -> ServiceRequest:
    sr = db.session.get(ServiceRequest, clean_id(sr_id, "sr"))
    if sr is None:
        raise NotFound("not_found", "No such service request.", "sr")
    return sr


def get_by_number(number: str) -> ServiceRequest:
    sr = db.session.scalars(select(ServiceRequest).where(ServiceRequest.number == number)).first()
    if sr is None:
        raise NotFound("not_found", f"No service request {number}.", "sr")
    return sr


@use_case
def open_service_request(*, summary: object, details: object = None, reported_by: Person,
                         owner_group: PersonGroup | None, source: SRSource = SRSource.WEB,
                         actor: User | None = None, fields: dict | None = None
                         ) -> ServiceRequest:
    """Open an SR: QUEUED to its group, or NEW without one; `fields` sets any other editable
    field (priority, impact, CI…) in the same transaction.

    The number derives from the database-generated id, so concurrent requests never collide.
    """
    extras = _clean_changes(_editable(fields or {}))
    extras.pop("owner_group_id", None)
    extras.pop("summary", None)
    extras.pop("details", None)
    status = SRStatus.QUEUED if owner_group is not None else SRStatus.NEW
    sr = ServiceRequest(
        number=f"TMP-{uuid.uuid4().hex[:16]}",
        summary=clean_text(summary, "summary", max_length=200, multiline=False),
        details=clean_text(details, "details", max_length=20000, required=False),
        status=status,
        source=source,
        reported_by=reported_by,
        affected_person=reported_by,
        owner_group=owner_group,
        changed_by=actor,
    )
    db.session.add(sr)
    db.session.flush()
    number = f"SR{NUMBER_OFFSET + sr.id}"
    # A core UPDATE: numbering is not an edit, so the optimistic version stays 1.
    db.session.execute(
        update(ServiceRequest).where(ServiceRequest.id == sr.id).values(number=number)
        .execution_options(synchronize_session=False)
    )
    attributes.set_committed_value(sr, "number", number)
    db.session.add(StatusHistory(service_request=sr, from_status=None, to_status=status,
                                 owner_group=owner_group, changed_by=actor,
                                 memo=f"Opened from {source.value.lower()}"))
    _tally(None, status)
    for name, value in extras.items():
        setattr(sr, name, value)
    db.session.flush()
    events.record(events.ServiceRequestChanged(sr.id, sr.number, opened=True))
    return sr


@dataclass
class SRChange:
    """What an edit did, for the adapter to report."""

    sr: ServiceRequest
    status_changed: bool
    changed_fields: list[str]


@use_case
def update_service_request(sr_id: object, *, actor: User | None, expected_version: object,
                           changes: dict | None = None, status: object = None,
                           memo: object = None) -> SRChange:
    """Apply field edits and an optional status change atomically, checked against a version.

    A stale `expected_version` is refused with a Conflict and nothing is written. QUEUED
    re-queues the SR to `changes["owner_group_id"]` (own group by default) and clears the
    owner. RESOLVED needs a solution and puts the resolution notice in the outbox in the same
    transaction.
    """
    sr = get_service_request(sr_id)
    version = clean_id(expected_version, "version")
    if sr.version != version:
        raise Conflict("stale", f"{sr.number} was changed by someone else since you opened it "
                       f"(version {version}, now {sr.version}). Reload to see their changes.",
                       "version")
    cleaned = _clean_changes(_editable(changes or {}))
    new_status = _clean_status(status) if status not in (None, "") else None
    memo_text = clean_text(memo, "memo", max_length=2000, required=False)
    if (new_status is None and sr.status == SRStatus.QUEUED
            and cleaned.get("owner_group_id", sr.owner_group_id) != sr.owner_group_id):
        new_status = SRStatus.QUEUED  # a queued SR moved to another group is re-queued there

    with db.session.no_autoflush:
        changed_fields = []
        for name, value in cleaned.items():
            if getattr(sr, name) != value:
                setattr(sr, name, value)
                changed_fields.append(name)
        status_changed = False
        if new_status is not None:
            status_changed = _apply_status(sr, new_status, actor, memo_text,
                                           group_given="owner_group_id" in cleaned)
    if not changed_fields and not status_changed:
        return SRChange(sr=sr, status_changed=False, changed_fields=[])
    sr.changed_by = actor
    sr.changed_at = utcnow()
    db.session.flush()
    events.record(events.ServiceRequestChanged(sr.id, sr.number))
    return SRChange(sr=sr, status_changed=status_changed, changed_fields=changed_fields)


def change_status(sr_id: object, status: object, *, actor: User | None,
                  expected_version: object = None, memo: object = None,
                  owner_group_id: object = None) -> ServiceRequest:
    """Move an SR to another status (see TRANSITIONS); a thin form of update_service_request."""
    sr = get_service_request(sr_id)
    changes = {"owner_group_id": owner_group_id} if owner_group_id not in (None, "") else {}
    return update_service_request(
        sr.id, actor=actor, expected_version=expected_version or sr.version, changes=changes,
        status=status, memo=memo,
    ).sr


@use_case
def add_work_log(sr_id: object, *, author: Person | None, summary: object, details: object = None,
                 log_type: object = WorkLogType.WORK, client_visible: object = False
                 ) -> WorkLogEntry:
    """A work-log entry written by a person (agent console, admin): WORK, NOTE or CLIENTNOTE.

    Transcripts are written by the chat itself (`add_transcript`), never by hand.
    """
    try:
        kind = WorkLogType(str(log_type).upper())
    except ValueError as exc:
        raise ValidationError("invalid", "Unknown work-log type.", "log_type") from exc
    if kind == WorkLogType.TRANSCRIPT:
        raise ValidationError("invalid", "Transcripts are written by the chat, not by hand.",
                              "log_type")
    return _add_entry(sr_id, author, summary, details, kind, bool(client_visible))


@use_case
def add_transcript(sr_id: int, *, author: Person | None, summary: str, details: str
                   ) -> WorkLogEntry:
    """The chat's transcript on its SR, visible to the end user (written by the chat's
    closing use case, in its transaction)."""
    return _add_entry(sr_id, author, summary, details, WorkLogType.TRANSCRIPT, True)


def _add_entry(sr_id: object, author: Person | None, summary: object, details: object,
               kind: WorkLogType, client_visible: bool) -> WorkLogEntry:
    sr = get_service_request(sr_id)
    entry = WorkLogEntry(
        service_request=sr,
        author=author,
        log_type=kind,
        summary=clean_text(summary, "summary", max_length=200, multiline=False),
        details=clean_text(details, "details", max_length=100_000, required=False),
        client_visible=client_visible,
    )
    db.session.add(entry)
    db.session.flush()
    events.record(events.ServiceRequestChanged(sr.id, sr.number))
    return entry


def rate_service_request(sr: ServiceRequest, rating: object, comment: object) -> None:
    """Store the end user's rating of the chat on its SR (in the caller's transaction)."""
    sr.rating = clean_rank(rating, "rating", required=True)
    sr.rating_comment = clean_text(comment, "comment", max_length=2000, required=False)


def _clean_status(value: object) -> SRStatus:
    try:
        return SRStatus(str(value).upper())
    except ValueError as exc:
        raise ValidationError("invalid", f"Unknown status {value!r}.", "status") from exc


def _editable(changes: dict) -> dict:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationError("unknown_field", f"{field} cannot be changed here.", field)
    return dict(changes)


def _clean_changes(changes: dict) -> dict:
    cleaned: dict = {}
    for name, value in changes.items():
        if name == "summary":
            cleaned[name] = clean_text(value, "summary", max_length=200, multiline=False)
        elif name in ("details", "solution"):
            cleaned[name] = clean_text(value, name, max_length=20000, required=False)
        elif name == "classification":
            cleaned[name] = clean_text(value, name, max_length=80, required=False,
                                       multiline=False)
        elif name in ("reported_priority", "impact", "urgency"):
            cleaned[name] = clean_rank(value, name)
        elif name == "owner_group_id":
            cleaned[name] = _existing_id(PersonGroup, value, name, "person group")
        elif name == "ci_id":
            cleaned[name] = _existing_id(ConfigurationItem, value, name, "CI")
        elif name == "asset_id":
            cleaned[name] = _existing_id(Asset, value, name, "asset")
    return cleaned


def _existing_id(model: type, value: object, field: str, what: str) -> int | None:
    if value in (None, ""):
        return None
    key = clean_id(value, field)
    if db.session.get(model, key) is None:
        raise ValidationError("invalid", f"Unknown {what}.", field)
    return key


def _apply_status(sr: ServiceRequest, new_status: SRStatus, actor: User | None,
                  memo: str | None, *, group_given: bool) -> bool:
    old = sr.status
    if new_status == old and new_status != SRStatus.QUEUED:
        return False
    if new_status not in TRANSITIONS[old]:
        allowed = ", ".join(s.value for s in allowed_transitions(old)) or "none"
        raise ValidationError(
            "illegal_transition",
            f"{sr.number} cannot go from {old.value} to {new_status.value} "
            f"(allowed: {allowed}).", "status",
        )
    if new_status == SRStatus.QUEUED:
        if sr.owner_group_id is None:
            raise ValidationError("required", "Choose the group to queue the SR to.",
                                  "owner_group_id")
        if old == SRStatus.QUEUED and not group_given and sr.owner_id is None:
            return False
        sr.owner_id = None  # back in the group's queue for anyone of it to pick up
    if new_status == SRStatus.RESOLVED and not (sr.solution or "").strip():
        raise ValidationError("required", "A solution is required to resolve the SR.",
                              "solution")
    if new_status == SRStatus.INPROGRESS and sr.owner_id is None and actor is not None:
        sr.owner_id = actor.person_id  # whoever starts the work owns it
    sr.status = new_status
    now = utcnow()
    db.session.add(StatusHistory(service_request=sr, from_status=old, to_status=new_status,
                                 owner_group_id=sr.owner_group_id, changed_by=actor, memo=memo,
                                 changed_at=now))
    _tally(old, new_status)
    if new_status == SRStatus.RESOLVED:
        from app.mail import compose as mail  # the outbox row joins this transaction

        mail.queue_resolution_notice(sr)
        if actor is not None:
            _resolved_in_chat(sr, actor, now)
    return True


def _resolved_in_chat(sr: ServiceRequest, actor: User, now: datetime) -> None:
    """Mark the actor's chat of this SR as having resolved it, when the chat is live or
    ended less than WRAP_UP ago (at most once per chat)."""
    marked = db.session.execute(
        update(Chat).where(
            Chat.sr_id == sr.id, Chat.agent_id == actor.id, Chat.accepted_at.is_not(None),
            Chat.sr_resolved_at.is_(None),
            or_(Chat.status == ChatStatus.ACTIVE,
                and_(Chat.status == ChatStatus.CLOSED, Chat.closed_at >= now - WRAP_UP)))
        .values(sr_resolved_at=now).returning(Chat.id)
        .execution_options(synchronize_session=False)).scalars()
    report_rollup.touch(*marked)


def _tally(old: SRStatus | None, new: SRStatus) -> None:
    """Count the SR out of its old status and into the new one (see StatusTally)."""
    if old == new:
        return
    if old is not None:
        db.session.add(StatusTally(status=old, delta=-1))
    db.session.add(StatusTally(status=new, delta=1))
