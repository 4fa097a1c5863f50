"""Canned responses of the chat queues, kept by managers (each agent keeps his own in the
console). Saving goes through the desk's rules: placeholders, shortcut collisions."""

from __future__ import annotations

from flask import flash, request
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import joinedload
from wtforms import SelectField, StringField, TextAreaField

from app.admin.formatting import local_time
from app.admin.security import DeskModelView, DeskSecureForm
from app.desk import canned, people
from app.desk.errors import DeskError
from app.models import CannedResponse

LANGUAGES = [("", "Default (any language)"), ("en", "English"), ("de", "German")]
PLACEHOLDER_HELP = ("Placeholders: " + ", ".join("{" + n + "}" for n in canned.PLACEHOLDERS)
                    + ", filled in for each chat; {{ and }} for a brace itself.")


class CannedResponseForm(DeskSecureForm):
    queue = SelectField("Queue", coerce=int)
    title = StringField("Title")
    shortcut = StringField("Shortcut", description="Typed after / in the chat's reply box, "
                           "e.g. reset-password.")
    language = SelectField("Language", choices=LANGUAGES, description=(
        "A variant in the end user's language is used for chats in that language; the "
        "default text for any other."))
    body = TextAreaField("Text", description=PLACEHOLDER_HELP,
                         render_kw={"rows": 6, "data-canned-body": ""})


class CannedResponseView(DeskModelView):
    create_template = "admin/desk/canned_edit.html"
    edit_template = "admin/desk/canned_edit.html"
    column_list = ["queue", "shortcut", "title", "language", "body", "changed_at"]
    column_labels = {"changed_at": "Changed", "body": "Text"}
    column_filters = ["queue.name", "language"]
    column_searchable_list = ["shortcut", "title"]
    search_hint = "Shortcut or title"
    column_sortable_list = ["shortcut", "title", "language", "changed_at"]
    column_default_sort = "shortcut"
    column_formatters = {
        "queue": lambda v, c, m, n: m.queue.name,
        "shortcut": lambda v, c, m, n: Markup("<code>/{}</code>").format(m.shortcut),
        "language": lambda v, c, m, n: m.language or "default",
        "body": lambda v, c, m, n: Markup('<span class="canned-text">{}</span>').format(
            m.body if len(m.body) <= 160 else m.body[:159] + "…"),
        "changed_at": lambda v, c, m, n: local_time(m.changed_at),
    }

    def get_query(self):  # the queues' responses; agents' own stay theirs
        return (super().get_query().filter(CannedResponse.queue_id.is_not(None))
                .options(joinedload(CannedResponse.queue)))

    def get_count_query(self):
        return super().get_count_query().filter(CannedResponse.queue_id.is_not(None))

    def get_one(self, id):  # noqa: A002, ANN001 - Flask-Admin's signature
        row = super().get_one(id)
        return row if row is not None and row.queue_id is not None else None

    def render(self, template, **kwargs):
        kwargs.update(canned_sample=canned.SAMPLE, canned_placeholders=canned.PLACEHOLDERS)
        return super().render(template, **kwargs)

    def _form(self, obj: CannedResponse | None):
        form = CannedResponseForm(request.form if request.method == "POST" else None)
        form.queue.choices = [(q.id, q.name) for q in people.chat_queues()]
        if request.method != "POST" and obj is not None:
            form.queue.data = obj.queue_id
            form.title.data, form.shortcut.data = obj.title, obj.shortcut
            form.language.data, form.body.data = obj.language, obj.body
        return form

    def create_form(self, obj=None):  # noqa: ANN001
        return self._form(None)

    def edit_form(self, obj=None):  # noqa: ANN001
        return self._form(obj)

    def _save(self, form: CannedResponseForm, response_id: int | None):
        try:
            return canned.save_response(
                current_user._get_current_object(), queue=form.queue.data,
                title=form.title.data, shortcut=form.shortcut.data,
                language=form.language.data, body=form.body.data, response_id=response_id)
        except DeskError as exc:
            flash(exc.message, "error")
            return False

    def create_model(self, form: CannedResponseForm):
        return self._save(form, None)

    def update_model(self, form: CannedResponseForm, model: CannedResponse) -> bool:
        return bool(self._save(form, model.id))

    def delete_model(self, model: CannedResponse) -> bool:
        try:
            canned.delete_response(current_user._get_current_object(), model.id)
        except DeskError as exc:
            flash(exc.message, "error")
            return False
        return True
