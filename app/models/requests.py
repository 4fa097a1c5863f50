"""Service requests with their status history and work log; CIs and assets."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from app.extensions import db
from app.models.people import Person, PersonGroup, User
from app.models.types import ONLY_ON, UTCDateTime, trigram_index, utcnow

# What "solved before" searches on PostgreSQL: summary, solution and details, weighted in
# that order, kept by the database in the generated column `search_document` (GIN-indexed).
SEARCH_DOCUMENT = ("(setweight(to_tsvector('english', coalesce(summary, '')), 'A') || "
                   "setweight(to_tsvector('english', coalesce(solution, '')), 'B') || "
                   "setweight(to_tsvector('english', coalesce(details, '')), 'C'))")
# Elsewhere the same texts as one (a virtual column: nothing stored).
PLAIN_DOCUMENT = ("(coalesce(summary, '') || ' ' || coalesce(solution, '') || ' ' || "
                  "coalesce(details, ''))")


class _SearchDocument(FunctionElement):
    """The generated column's expression, in each database's words."""

    inherit_cache = True


@compiles(_SearchDocument)
def _plain_document(element, compiler, **kw) -> str:  # noqa: ANN001
    return PLAIN_DOCUMENT


@compiles(_SearchDocument, "postgresql")
def _weighted_document(element, compiler, **kw) -> str:  # noqa: ANN001
    return SEARCH_DOCUMENT


class SearchDocument(TypeDecorator[str]):
    """tsvector on PostgreSQL, text elsewhere."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect):  # noqa: ANN001
        return dialect.type_descriptor(TSVECTOR() if dialect.name == "postgresql" else Text())


class SRStatus(enum.StrEnum):
    NEW = "NEW"
    QUEUED = "QUEUED"
    INPROGRESS = "INPROGRESS"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"


class SRSource(enum.StrEnum):
    CHAT = "CHAT"
    WEB = "WEB"
    EMAIL = "EMAIL"
    PHONE = "PHONE"


class WorkLogType(enum.StrEnum):
    WORK = "WORK"
    NOTE = "NOTE"
    CLIENTNOTE = "CLIENTNOTE"
    TRANSCRIPT = "TRANSCRIPT"


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, native_enum=False, length=16, create_constraint=True, name=name,
                validate_strings=True)


class ConfigurationItem(db.Model):
    """A CI: a managed component whose service an SR concerns."""

    __tablename__ = "ci"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    classification: Mapped[str | None] = mapped_column(String(80))

    def __str__(self) -> str:
        return self.name


class Asset(db.Model):
    """A physical or licensed asset, identified by its tag."""

    __tablename__ = "asset"

    id: Mapped[int] = mapped_column(primary_key=True)
    tag: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(120))

    def __str__(self) -> str:
        return f"{self.tag} {self.description or ''}".strip()


class ServiceRequest(db.Model):
    """An SR (ticket). `version` is the optimistic lock every edit is checked against."""

    __tablename__ = "service_request"
    __table_args__ = (
        CheckConstraint("reported_priority BETWEEN 1 AND 5", name="priority_range"),
        CheckConstraint("impact BETWEEN 1 AND 5", name="impact_range"),
        CheckConstraint("urgency BETWEEN 1 AND 5", name="urgency_range"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        Index("ix_service_request_owner_group_status", "owner_group_id", "status"),
        # The admin's list: newest change first, alone or within one status.
        Index("ix_service_request_changed_at", "changed_at"),
        Index("ix_service_request_status_changed", "status", "changed_at"),
        Index("ix_service_request_priority", "reported_priority"),
        trigram_index("ix_service_request_summary_trgm", "summary"),
        Index("ix_service_request_owner_status", "owner_id", "status"),
        Index("ix_service_request_fulltext", "search_document", postgresql_using="gin",
              info={ONLY_ON: "postgresql"}).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    summary: Mapped[str] = mapped_column(String(200))
    details: Mapped[str | None] = mapped_column(Text)
    status: Mapped[SRStatus] = mapped_column(_enum(SRStatus, "sr_status"), default=SRStatus.NEW)
    source: Mapped[SRSource] = mapped_column(_enum(SRSource, "sr_source"), default=SRSource.WEB)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    affected_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    owner_group_id: Mapped[int | None] = mapped_column(ForeignKey("person_group.id"))
    reported_priority: Mapped[int | None] = mapped_column(SmallInteger)
    impact: Mapped[int | None] = mapped_column(SmallInteger)
    urgency: Mapped[int | None] = mapped_column(SmallInteger)
    classification: Mapped[str | None] = mapped_column(String(80))
    ci_id: Mapped[int | None] = mapped_column(ForeignKey("ci.id"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("asset.id"))
    solution: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # Kept by the database from summary, solution and details (stored, so that ranking reads
    # it instead of parsing every candidate's text again; SQLite's migration adds it virtual,
    # as SQLite cannot add a stored one); never loaded with the SR.
    search_document: Mapped[str | None] = mapped_column(
        SearchDocument(), Computed(_SearchDocument(), persisted=True), deferred=True)

    __mapper_args__ = {"version_id_col": version}

    reported_by: Mapped[Person | None] = relationship(foreign_keys=[reported_by_id])
    affected_person: Mapped[Person | None] = relationship(foreign_keys=[affected_person_id])
    owner: Mapped[Person | None] = relationship(foreign_keys=[owner_id])
    owner_group: Mapped[PersonGroup | None] = relationship(foreign_keys=[owner_group_id])
    changed_by: Mapped[User | None] = relationship(foreign_keys=[changed_by_id])
    ci: Mapped[ConfigurationItem | None] = relationship()
    asset: Mapped[Asset | None] = relationship()
    history: Mapped[list[StatusHistory]] = relationship(
        back_populates="service_request", order_by="StatusHistory.id",
        cascade="all, delete-orphan",
    )
    work_log: Mapped[list[WorkLogEntry]] = relationship(
        back_populates="service_request", order_by="WorkLogEntry.id",
        cascade="all, delete-orphan",
    )
    chats = relationship("Chat", back_populates="service_request", order_by="Chat.id")

    def __str__(self) -> str:
        return f"{self.number} {self.summary}"


class StatusTally(db.Model):
    """How many SRs are in each status, as +1/-1 rows written with every status change.

    The dashboard's all-time counts sum this small table instead of counting millions of
    SRs. Changes are inserted, never updated, so no two transactions wait for one counter
    row; `app.desk.stats.fold_status_tally` folds the rows into one per status now and then.
    """

    __tablename__ = "sr_status_tally"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[SRStatus] = mapped_column(_enum(SRStatus, "tally_status"))
    delta: Mapped[int] = mapped_column(Integer)


class StatusHistory(db.Model):
    """One row per status change (and per re-queue to another group)."""

    __tablename__ = "sr_status_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    sr_id: Mapped[int] = mapped_column(ForeignKey("service_request.id", ondelete="CASCADE"),
                                       index=True)
    from_status: Mapped[SRStatus | None] = mapped_column(_enum(SRStatus, "from_status"))
    to_status: Mapped[SRStatus] = mapped_column(_enum(SRStatus, "to_status"))
    owner_group_id: Mapped[int | None] = mapped_column(ForeignKey("person_group.id"))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    memo: Mapped[str | None] = mapped_column(Text)

    service_request: Mapped[ServiceRequest] = relationship(back_populates="history")
    owner_group: Mapped[PersonGroup | None] = relationship()
    changed_by: Mapped[User | None] = relationship()


class WorkLogEntry(db.Model):
    """A work-log entry on an SR; the chat transcript is one of type TRANSCRIPT."""

    __tablename__ = "sr_work_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    sr_id: Mapped[int] = mapped_column(ForeignKey("service_request.id", ondelete="CASCADE"),
                                       index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    log_type: Mapped[WorkLogType] = mapped_column(_enum(WorkLogType, "worklog_type"),
                                                  default=WorkLogType.WORK)
    summary: Mapped[str] = mapped_column(String(200))
    details: Mapped[str | None] = mapped_column(Text)
    client_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    service_request: Mapped[ServiceRequest] = relationship(back_populates="work_log")
    author: Mapped[Person | None] = relationship()
