"""Who may see the admin: managers only, on every view including the index; CSRF on forms."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin.contrib.sqla import ModelView
from flask_admin.form import SecureForm
from flask_login import current_user
from markupsafe import Markup
from wtforms.widgets import HiddenInput

from app.admin.filters import DeskFilterConverter
from app.desk.errors import DeskError
from app.desk.unit_of_work import transaction


class DeskSecureForm(SecureForm):
    """Flask-Admin's session CSRF, switched by the app's one CSRF setting (WTF_CSRF_ENABLED)."""

    class Meta:
        @property
        def csrf(self) -> bool:
            return bool(current_app.config.get("WTF_CSRF_ENABLED", True))

    def hidden_tag(self) -> Markup:
        """The form's hidden fields, its own CSRF token among them.

        Flask-Admin's templates call this when a form has it; without it they also add the
        app-wide Flask-WTF token under the same name, first, and the form's check fails.
        """
        return Markup("").join(field() for field in self
                               if isinstance(field.widget, HiddenInput))


CSRF_MESSAGE = ("This form's security token is missing or expired (CSRF check), so nothing "
                "was saved. Reload the page and try again.")


def csrf_failed(form) -> bool:  # noqa: ANN001
    return bool(getattr(getattr(form, "csrf_token", None), "errors", None))


def is_manager() -> bool:
    return bool(current_user.is_authenticated and getattr(current_user, "is_manager", False))


def refuse():
    """Anonymous: to the login page and back. Signed in without the role: 403, no screen."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    abort(403)


class ManagerOnly:
    """Mixin for every admin view (model views, the dashboard, custom pages)."""

    def is_accessible(self) -> bool:
        return is_manager()

    def inaccessible_callback(self, name, **kwargs):  # noqa: ANN001 - Flask-Admin's signature
        return refuse()


class DeskModelView(ManagerOnly, ModelView):
    """The base of the desk's model views: managers only, CSRF forms, calm list defaults."""

    form_base_class = DeskSecureForm
    filter_converter = DeskFilterConverter()
    page_size = 20
    can_set_page_size = True
    named_filter_urls = True
    can_view_details = True
    details_modal = False
    edit_modal = False
    create_modal = False
    extra_css: list[str] = []

    def __init__(self, model, *args, **kwargs):  # noqa: ANN001
        from app.extensions import db

        super().__init__(model, db, *args, **kwargs)

    search_hint = ""  # the search box's placeholder, in the desk's words
    # text -> SQL condition from app.desk.search, used instead of Flask-Admin's ILIKE on
    # every searchable column (which reads the whole table and cannot use an index).
    search_condition = None

    def search_placeholder(self) -> str:
        return self.search_hint or super().search_placeholder()

    # Flask-Admin's own create/update/delete commit inside the desk's transaction scope, so
    # that desk events recorded by on_model_change/after_model_change reach listeners after
    # the commit (and never when it rolls back).
    def create_model(self, form):  # noqa: ANN001
        with transaction():
            return super().create_model(form)

    def update_model(self, form, model) -> bool:  # noqa: ANN001
        with transaction():
            return super().update_model(form, model)

    def delete_model(self, model) -> bool:  # noqa: ANN001
        with transaction():
            return super().delete_model(model)

    def _apply_search(self, query, count_query, joins, count_joins, search: str):  # noqa: ANN001
        if self.search_condition is None:
            return super()._apply_search(query, count_query, joins, count_joins, search)
        query = query.filter(self.search_condition(search))
        if count_query is not None:
            count_query = count_query.filter(self.search_condition(search))
        return query, count_query, joins, count_joins

    def validate_form(self, form) -> bool:  # noqa: ANN001
        valid = super().validate_form(form)
        if not valid and csrf_failed(form):
            flash(CSRF_MESSAGE, "error")
        return valid

    def handle_view_exception(self, exc: Exception) -> bool:
        """A refused change is the desk's word to the manager: show its message, nothing else."""
        if isinstance(exc, DeskError):
            flash(exc.message, "error")
            return True
        return super().handle_view_exception(exc)
