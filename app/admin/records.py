"""CIs and assets (plain records), chats (read-only, with transcripts) and the mail outbox."""

from __future__ import annotations

import importlib

from flask import flash, url_for
from flask_admin.actions import action
from markupsafe import Markup
from sqlalchemy import func, select

from app.admin.formatting import local_time, status_badge
from app.admin.security import DeskModelView
from app.desk import notes, search
from app.extensions import db
from app.models import ServiceRequest


def _sr_link(view, context, model, name):  # noqa: ANN001
    sr = model.service_request
    if sr is None:
        return Markup('<span class="text-muted">—</span>')
    return Markup('<a href="{}">{}</a>').format(
        url_for("servicerequest.edit_view", id=sr.id), sr.number)


def _watch_link(view, context, model, name):  # noqa: ANN001
    """Open chats: watch them live (the supervision page)."""
    if model.status.value not in ("WAITING", "ACTIVE"):
        return Markup("")
    return Markup('<a class="btn btn-sm btn-outline-primary watch-link" href="{}">'
                  '<i class="fa fa-eye"></i> Watch</a>').format(
        url_for("agent.supervise", chat_id=model.id))


class _ReferencedRecordView(DeskModelView):
    """A record SRs point to may be deleted only while no SR uses it."""

    sr_column = ""  # the ServiceRequest column that points here (a name: a mapped attribute
    # as a class attribute would act as a descriptor on the view)

    def on_model_delete(self, model) -> None:  # noqa: ANN001
        from app.desk.errors import Conflict

        used = db.session.scalar(select(func.count(ServiceRequest.id)).where(
            getattr(ServiceRequest, self.sr_column) == model.id))
        if used:
            raise Conflict("in_use", f"{model} is used by {used} service request(s); "
                           "it cannot be deleted.")


class ConfigurationItemView(_ReferencedRecordView):
    sr_column = "ci_id"
    column_list = ["name", "classification", "description"]
    column_searchable_list = ["name", "description", "classification"]
    column_filters = ["name", "classification"]
    column_sortable_list = ["name", "classification"]
    column_default_sort = "name"
    form_columns = ["name", "classification", "description"]
    form_widget_args = {"description": {"rows": 3}}


class AssetView(_ReferencedRecordView):
    sr_column = "asset_id"
    column_list = ["tag", "description", "location"]
    column_searchable_list = ["tag", "description", "location"]
    column_filters = ["tag", "location"]
    column_sortable_list = ["tag", "location"]
    column_default_sort = "tag"
    form_columns = ["tag", "description", "location"]
    form_widget_args = {"description": {"rows": 3}}


class ChatView(DeskModelView):
    """Read-only: chats change only through the desk (agents and end users)."""

    can_create = False
    can_edit = False
    can_delete = False
    details_template = "admin/desk/chat_details.html"
    local_time = staticmethod(local_time)

    @staticmethod
    def notes_of(chat) -> list[dict]:  # noqa: ANN001
        """The chat's internal notes and whispers, beside its transcript."""
        return notes.notes_of([chat.id])[chat.id]
    column_list = ["id", "service_request", "queue", "status", "visitor", "agent",
                   "requested_at", "accepted_at", "closed_at", "rating", "watch"]
    column_labels = {"id": "Chat", "service_request": "SR", "visitor": "End user", "watch": "",
                     "requested_at": "Requested", "accepted_at": "Accepted",
                     "closed_at": "Ended", "queue.name": "Queue", "visitor.display_name":
                     "End user", "visitor.email": "End-user e-mail"}
    # Never the visitor_key: it is the secret inside the end user's chat token.
    column_details_list = ["id", "service_request", "queue", "status", "visitor", "agent",
                           "question", "requested_at", "accepted_at", "closed_at", "closed_by",
                           "close_reason", "last_activity_at", "visitor_left_at", "rating",
                           "rating_comment"]
    search_hint = "SR number, first line of the question, end user's name or e-mail"
    column_searchable_list = ["question"]
    search_condition = staticmethod(search.chats_matching)
    simple_list_pager = True  # no count of every chat for the pager
    column_filters = ["status", "queue.name", "requested_at", "accepted_at", "rating"]
    # Orders an index serves (a desk keeps millions of chats); the filters do the rest.
    column_sortable_list = ["id", "status", "requested_at", "accepted_at"]
    column_default_sort = ("id", True)
    column_formatters = {
        "service_request": _sr_link,
        "queue": lambda v, c, m, n: m.queue.name,
        "status": lambda v, c, m, n: status_badge(m.status),
        "visitor": lambda v, c, m, n: str(m.visitor),
        "agent": lambda v, c, m, n: m.agent.display_name if m.agent else "—",
        "requested_at": lambda v, c, m, n: local_time(m.requested_at),
        "accepted_at": lambda v, c, m, n: local_time(m.accepted_at),
        "closed_at": lambda v, c, m, n: local_time(m.closed_at),
        "last_activity_at": lambda v, c, m, n: local_time(m.last_activity_at),
        "visitor_left_at": lambda v, c, m, n: local_time(m.visitor_left_at),
        "closed_by": lambda v, c, m, n: (m.closed_by or "—").title(),
        "rating": lambda v, c, m, n: "★" * m.rating if m.rating else "—",
        "watch": _watch_link,
    }


# How every outbox list shows its rows' state (mail here, webhook deliveries beside it).
OUTBOX_FORMATTERS = {
    "status": lambda v, c, m, n: status_badge(m.status),
    "last_error": lambda v, c, m, n: Markup('<span class="last-error" title="{}">{}</span>'
                                             ).format(m.last_error or "",
                                                      (m.last_error or "—")[:80]),
    "next_attempt_at": lambda v, c, m, n: local_time(m.next_attempt_at)
    if m.status.value in ("PENDING", "SENDING") else Markup("—"),
    "created_at": lambda v, c, m, n: local_time(m.created_at),
    "sent_at": lambda v, c, m, n: local_time(m.sent_at),
}


def _retry_now():
    """app.mail.sender.retry_now, when the mail sender is installed."""
    try:
        module = importlib.import_module("app.mail.sender")
    except ImportError:
        return None
    return getattr(module, "retry_now", None)


class OutboxView(DeskModelView):
    """Read-only: mail is written by the desk and sent by the worker; a manager may retry."""

    simple_list_pager = True  # a mail per resolution and transcript: years of them
    can_create = False
    can_edit = False
    can_delete = False
    column_list = ["id", "kind", "service_request", "to_address", "subject", "status",
                   "attempts", "last_error", "next_attempt_at", "created_at", "sent_at"]
    column_labels = {"id": "#", "service_request": "SR", "to_address": "To",
                     "last_error": "Last error", "next_attempt_at": "Next try",
                     "created_at": "Queued", "sent_at": "Sent"}
    search_hint = "Recipient or subject"
    column_searchable_list = ["to_address", "subject"]
    column_filters = ["status", "kind", "attempts", "created_at", "next_attempt_at"]
    column_sortable_list = ["id", "kind", "to_address", "status", "attempts",
                            "next_attempt_at", "created_at", "sent_at"]
    column_default_sort = ("id", True)
    column_formatters = {"service_request": _sr_link, **OUTBOX_FORMATTERS}
    column_details_exclude_list = ["body_html", "claimed_by", "claimed_at"]

    @action("retry", "Retry now", "Send the selected mails again now?")
    def action_retry(self, ids: list[str]):
        retry_now = _retry_now()
        if retry_now is None:
            flash("The mail sender is not installed; nothing was retried.", "error")
            return None
        chosen = [int(i) for i in ids if str(i).isdigit()]
        result = retry_now(chosen)
        count = result if isinstance(result, int) else len(chosen)
        flash(f"{count} mail(s) scheduled to be sent again now.", "success")
        return None
