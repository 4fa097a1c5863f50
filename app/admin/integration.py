"""Webhooks and their deliveries in the admin: managers register receivers (URL, secret,
events, on/off), see every delivery with its status, attempts, last error and response code,
and retry one. The rules (allowed URLs, secrets, event names) are app/integration's."""

from __future__ import annotations

from flask import flash
from flask_admin.actions import action
from markupsafe import Markup
from wtforms import PasswordField, SelectMultipleField, widgets
from wtforms.validators import Optional

from app.admin.formatting import local_time
from app.admin.records import OUTBOX_FORMATTERS
from app.admin.security import DeskModelView
from app.integration import sender, webhooks
from app.integration.events import EVENTS


class CheckboxList(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _events(view, context, model, name):  # noqa: ANN001
    names = model.event_names
    if set(names) == set(EVENTS):
        return Markup('<span class="text-muted">every event</span>')
    return ", ".join(names)


class WebhookView(DeskModelView):
    """Receivers of desk events; the secret is written, never shown again."""

    column_list = ["url", "events", "is_enabled", "description", "created_at"]
    column_labels = {"url": "URL", "is_enabled": "On", "created_at": "Added",
                     "new_secret": "Secret", "chosen_events": "Events"}
    column_formatters = {"events": _events,
                         "created_at": lambda v, c, m, n: local_time(m.created_at)}
    column_searchable_list = ["url", "description"]
    column_filters = ["is_enabled"]
    column_default_sort = ("id", True)
    column_details_exclude_list = ["secret"]
    form_columns = ["url", "new_secret", "chosen_events", "description", "is_enabled"]
    form_extra_fields = {
        "new_secret": PasswordField("Secret", validators=[Optional()], description=(
            "Shared with the receiver, which checks X-Desk-Signature with it (at least 16 "
            "characters). Leave empty to keep the current one.")),
        "chosen_events": CheckboxList("Events", choices=[(name, f"{name}: {meaning}")
                                                         for name, meaning in EVENTS.items()],
                                      description="None ticked: every event."),
    }
    form_args = {"url": {"description": "http:// or https://, reachable from the desk."}}
    search_hint = "URL or description"

    def on_form_prefill(self, form, id):  # noqa: ANN001, A002 - Flask-Admin's signature
        model = self.get_one(id)
        form.chosen_events.data = model.event_names

    def on_model_change(self, form, model, is_created) -> None:  # noqa: ANN001
        model.url = webhooks.clean_url(form.url.data)
        if form.new_secret.data or is_created:
            model.secret = webhooks.clean_secret(form.new_secret.data)
        model.events = webhooks.clean_events(form.chosen_events.data)


class WebhookDeliveryView(DeskModelView):
    """Read-only: deliveries are written with the change that caused them and sent by the
    senders; a manager may retry one now."""

    can_create = False
    can_edit = False
    can_delete = False
    column_list = ["id", "webhook", "event", "order_key", "status", "attempts",
                   "response_code", "last_error", "next_attempt_at", "created_at", "sent_at"]
    column_labels = {"id": "#", "order_key": "Of", "response_code": "HTTP",
                     "last_error": "Last error", "next_attempt_at": "Next try",
                     "created_at": "Written", "sent_at": "Sent"}
    column_filters = ["status", "event", "webhook.url", "attempts", "created_at"]
    column_sortable_list = ["id", "event", "status", "attempts", "next_attempt_at",
                            "created_at", "sent_at"]
    column_default_sort = ("id", True)
    column_formatters = {"webhook": lambda v, c, m, n: m.webhook.url, **OUTBOX_FORMATTERS}
    column_details_exclude_list = ["claimed_by", "claimed_at"]
    search_hint = "Event id or delivery id"
    column_searchable_list = ["event_id", "delivery_id"]

    @action("retry", "Retry now", "Send the selected deliveries again now?")
    def action_retry(self, ids: list[str]):
        count = sender.retry_now([int(i) for i in ids if str(i).isdigit()])
        flash(f"{count} deliver{'y' if count == 1 else 'ies'} scheduled to be sent again now.",
              "success")
