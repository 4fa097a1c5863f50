"""Small renderers shared by the admin views. User text always goes through escaping."""

from __future__ import annotations

from datetime import UTC, datetime

from markupsafe import Markup

from app import wire

STATUS_TONES = {
    "NEW": "info", "QUEUED": "warning", "INPROGRESS": "primary", "RESOLVED": "success",
    "CLOSED": "secondary", "CANCELLED": "light",
    "WAITING": "warning", "ACTIVE": "primary", "ABANDONED": "danger",
    "PENDING": "warning", "SENDING": "info", "SENT": "success", "FAILED": "danger",
}


def status_badge(status: object) -> Markup:
    value = getattr(status, "value", status) or ""
    tone = STATUS_TONES.get(str(value), "secondary")
    return Markup('<span class="badge badge-pill badge-status badge-{}" data-status="{}">{}'
                  "</span>").format(tone, value, value)


def local_time(moment: datetime | None) -> Markup:
    """A UTC instant, shown in the browser's local time by admin.js (UTC without script)."""
    if moment is None:
        return Markup('<span class="text-muted">—</span>')
    moment = moment.astimezone(UTC)
    return Markup('<time datetime="{}" data-local-time>{}</time>').format(
        wire.iso_time(moment), moment.strftime("%Y-%m-%d %H:%M UTC"))


def duration(seconds: float | None) -> str:
    """A span as the dashboard and the reports show it: 42s, 3m 5s, 2h 10m."""
    if seconds is None:
        return "—"
    whole = int(seconds + 0.5)  # half up, as the browser rounds
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60}s"
    return f"{whole // 3600}h {whole % 3600 // 60}m"
