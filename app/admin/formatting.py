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
