"""The reports' roll-up: the desk's chat figures per day and per month, per desk, queue and
agent (see app.desk.report_rollup)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

ZERO = text("0")


class ChatReportDay(db.Model):
    """Counts, sums and duration histograms of the chats' events of one day (span 'day')
    or one calendar month (span 'month', `day` its first day), for the whole desk (scope
    'desk', group 0), one queue or one agent.

    A change is inserted as a row of differences (+1, -1), never by updating a row, so no two
    transactions wait for one row (as the SR status tally); `folded` rows are the sums of
    earlier ones, which `app.desk.report_rollup.fold` merges now and then. The report adds
    up every row of a key. Histograms are text: "seconds count seconds count ...".
    """

    __tablename__ = "chat_report_day"
    __table_args__ = (
        Index("ix_chat_report_day_key", "scope", "span", "day", "group_id"),
        Index("ix_chat_report_day_unfolded", "folded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))
    span: Mapped[str] = mapped_column(String(8))
    day: Mapped[date] = mapped_column(Date)
    group_id: Mapped[int] = mapped_column(Integer)
    folded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    requested: Mapped[int] = mapped_column(Integer, default=0, server_default=ZERO)
    accepted: Mapped[int] = mapped_column(Integer, default=0, server_default=ZERO)
    ended: Mapped[int] = mapped_column(Integer, default=0, server_default=ZERO)
    abandoned: Mapped[int] = mapped_column(Integer, default=0, server_default=ZERO)
    handled: Mapped[int] = mapped_column(Integer, default=0, server_default=ZERO)
    messages: Mapped[int] = mapped_column(Integer, default=0, server_default=ZERO)
    with_messages: Mapped[int] = mapped_column(Integer, default=0, server_default=ZERO)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0, server_default=ZERO)
    csat_count: Mapped[int] = mapped_column(Integer, default=0, server_default=ZERO)
    srs_resolved: Mapped[int] = mapped_column(Integer, default=0, server_default=ZERO)
    waits: Mapped[str] = mapped_column(Text, default="", server_default="")
    first_responses: Mapped[str] = mapped_column(Text, default="", server_default="")
    handles: Mapped[str] = mapped_column(Text, default="", server_default="")
