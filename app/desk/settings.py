"""Settings the desk's rules depend on (limits, time-outs), read from the running app."""

from __future__ import annotations

from flask import current_app, has_app_context

DEFAULTS = {
    "CHAT_MESSAGE_MAX_LENGTH": 4000,
    "HISTORY_PAGE_MESSAGES": 200,
    "HISTORY_PAGE_BYTES": 256 * 1024,
    "CHAT_ABANDON_GRACE": 60,
    "CHAT_IDLE_TIMEOUT": 1800,
    "VISITOR_TOKEN_MAX_AGE": 24 * 3600,
    "MAIL_MAX_ATTEMPTS": 8,
    "MAIL_SENDER": "Service Desk <servicedesk@localhost>",
    "PUBLIC_BASE_URL": "",
    "PASSWORD_MIN_LENGTH": 12,
    "ATTACHMENT_MAX_BYTES": 10_000_000,
    "ATTACHMENT_MAX_PER_CHAT": 30,
    "ATTACHMENT_MAX_PER_MESSAGE": 10,
    "ATTACHMENT_MAX_PIXELS": 40_000_000,
    "ATTACHMENT_LINK_MAX_AGE": 12 * 3600,
    "ATTACHMENT_MAIL_LINK_MAX_AGE": 30 * 24 * 3600,
    "WIDGET_IDENTITY_SECRET": None,
    "ATTACHMENT_UNSENT_TTL": 3600,
    "CHAT_MAX_PER_AGENT": 3,
    "CHAT_OFFER_TIMEOUT": 30,
    "CHAT_OFFER_MISSES_AWAY": 3,
    "AGENT_OFFLINE_GRACE": 5,
}


def setting(name: str):
    if has_app_context() and name in current_app.config:
        return current_app.config[name]
    return DEFAULTS[name]
