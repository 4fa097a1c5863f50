"""List filters for the desk's time-zone-aware columns (UTCDateTime).

Flask-Admin knows DateTime by type name only and hands naive datetimes to the query, which
UTCDateTime refuses. These filters read the picked time in the desk's time zone
(DESK_TIMEZONE, default UTC) and compare in UTC.
"""

from __future__ import annotations

from datetime import UTC

from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.model import filters

from app.desk.stats import desk_timezone


class _InDeskTimezone:
    def clean(self, value: str):
        parsed = super().clean(value)
        tz = desk_timezone()
        if isinstance(parsed, list):
            return [moment.replace(tzinfo=tz).astimezone(UTC) for moment in parsed]
        return parsed.replace(tzinfo=tz).astimezone(UTC)


class AfterFilter(_InDeskTimezone, sqla_filters.DateTimeGreaterFilter):
    pass


class BeforeFilter(_InDeskTimezone, sqla_filters.DateTimeSmallerFilter):
    pass


class BetweenFilter(_InDeskTimezone, sqla_filters.DateTimeBetweenFilter):
    pass


class DeskFilterConverter(sqla_filters.FilterConverter):
    @filters.convert("UTCDateTime")
    def conv_utc_datetime(self, column, name: str, **kwargs):  # noqa: ANN001
        return [f(column, name, **kwargs)
                for f in (AfterFilter, BeforeFilter, BetweenFilter, sqla_filters.FilterEmpty)]
