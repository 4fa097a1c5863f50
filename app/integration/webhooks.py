"""Registering webhooks: a receiver's URL, its secret and the events it takes.

The CLI (`add-webhook`) and the admin screen both come here, so a URL that is not http(s) or
that points to a refused address is turned away the same way everywhere.
"""

from __future__ import annotations

from flask import current_app

from app.desk.errors import ValidationError
from app.desk.unit_of_work import use_case
from app.desk.validation import clean_text
from app.extensions import db
from app.integration import addresses
from app.integration.events import EVENTS
from app.models import Webhook

SECRET_MIN_LENGTH = 16


def clean_url(url: object) -> str:
    """An http(s) URL whose host resolves to allowed addresses now."""
    try:
        addresses.check(url, allow_private=bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE")))
    except addresses.RefusedAddress as exc:
        raise ValidationError("refused_url", str(exc), "url") from exc
    return str(url).strip()


def clean_secret(secret: object) -> str:
    text = clean_text(secret, "secret", max_length=200, multiline=False)
    if len(text) < SECRET_MIN_LENGTH:
        raise ValidationError("too_short", f"The secret must have at least {SECRET_MIN_LENGTH} "
                              "characters (e.g. python -c 'import secrets; "
                              "print(secrets.token_hex(32))').", "secret")
    return text


def clean_events(names: object) -> str:
    """Comma-separated event names, every one known; none given means all of them."""
    if names in (None, "", []):
        return ",".join(EVENTS)
    if isinstance(names, str):
        names = names.split(",")
    if not isinstance(names, (list, tuple, set)):
        raise ValidationError("invalid", "events must be a list of event names.", "events")
    chosen = [str(name).strip() for name in names if str(name).strip()]
    unknown = sorted(set(chosen) - set(EVENTS))
    if unknown:
        raise ValidationError("unknown_event", f"Unknown event {unknown[0]!r}; known: "
                              f"{', '.join(EVENTS)}.", "events")
    if not chosen:
        return ",".join(EVENTS)
    return ",".join(name for name in EVENTS if name in chosen)  # in the documented order


@use_case
def add_webhook(url: object, *, secret: object, events: object = None,
                description: object = None, enabled: bool = True) -> Webhook:
    webhook = Webhook(url=clean_url(url), secret=clean_secret(secret),
                      events=clean_events(events),
                      description=clean_text(description, "description", max_length=200,
                                             required=False, multiline=False),
                      is_enabled=bool(enabled))
    db.session.add(webhook)
    db.session.flush()
    return webhook
