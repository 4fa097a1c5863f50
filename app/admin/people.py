"""Persons, person groups (chat queues) and user accounts in the admin."""

from __future__ import annotations

from flask import flash, g, request
from flask_login import current_user, login_user
from markupsafe import Markup
from sqlalchemy import inspect
from sqlalchemy.orm import joinedload, selectinload
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from app.admin import lookups
from app.admin.formatting import local_time
from app.admin.security import DeskModelView, DeskSecureForm
from app.desk import availability, people, routing, search, stats, worklist
from app.desk.errors import DeskError
from app.desk.settings import setting
from app.desk.unit_of_work import transaction
from app.desk.validation import clean_email, clean_phone, clean_text
from app.extensions import db
from app.models import Person, PersonGroup, Role, User

ROLES = [(Role.AGENT.value, "Agent"), (Role.MANAGER.value, "Manager")]
ROUTING_LABELS = {"manual": "Manual (agents pick)", "auto": "Automatic (offered in turn)"}
INDICATOR_STYLES = [("", "Installation default"), ("text", "Text: Chat Queue (N)"),
                    ("bubble", "Chat bubble with a count")]


def _queue_figures() -> dict[int, dict]:
    """Live figures of every queue, read once per request."""
    if "desk_queue_figures" not in g:
        g.desk_queue_figures = {q["id"]: q for q in stats.queues_now()}
    return g.desk_queue_figures


def _live(group: PersonGroup, key: str) -> Markup:
    if not group.is_chat_queue:
        return Markup('<span class="text-muted">—</span>')
    value = _queue_figures().get(group.id, {}).get(key, 0)
    return Markup('<span class="live-figure" data-queue-id="{}" data-figure="{}">{}</span>'
                  ).format(group.id, key, value)


def _changed(model, relation: str) -> tuple[set, set]:
    """(added, removed) objects of a relationship in this form's change."""
    history = inspect(model).attrs[relation].history
    return set(history.added or ()), set(history.deleted or ())


def _announce_membership() -> None:
    """After the commit: agents' open consoles follow their new chat queues."""
    person_ids, group_ids = g.pop("desk_membership", (set(), set()))
    people.membership_changed(person_ids, group_ids)


MEMBERS_SHOWN = 5


def _names(people_list: list) -> str:
    """The first few names of a list, and how many more there are."""
    names = ", ".join(p.display_name for p in people_list[:MEMBERS_SHOWN]) or "—"
    more = len(people_list) - MEMBERS_SHOWN
    return f"{names} and {more} more" if more > 0 else names


class PersonView(DeskModelView):
    can_delete = False  # persons are referenced by SRs and chats
    simple_list_pager = True  # no count of every person for the pager
    column_list = ["display_name", "email", "phone", "verified", "groups", "user", "created_at"]
    column_labels = {"display_name": "Name", "email": "E-mail", "groups": "Groups",
                     "user": "Login", "created_at": "Created",
                     "verified": "Verified"}
    column_descriptions = {"verified": "No: known only from what an anonymous chat request "
                                      "typed (nobody vouched for the address)."}
    search_hint = "Name, e-mail or phone"
    column_searchable_list = ["display_name", "email", "phone"]
    search_condition = staticmethod(search.persons_matching)
    column_filters = ["display_name", "email", "groups.name", "created_at"]
    column_sortable_list = ["display_name", "email", "phone", "created_at"]
    column_default_sort = "display_name"
    column_formatters = {
        "groups": lambda v, c, m, n: ", ".join(group.name for group in m.groups) or "—",
        "user": lambda v, c, m, n: m.user.username if m.user else "—",
        "created_at": lambda v, c, m, n: local_time(m.created_at),
    }
    form_columns = ["display_name", "email", "phone", "groups"]
    form_args = {"display_name": {"label": "Name"}, "email": {"label": "E-mail"}}
    form_ajax_refs = {"groups": lookups.groups("groups")}

    def get_query(self):  # groups and person are joined by Flask-Admin (column_list)
        return super().get_query().options(selectinload(Person.user))

    def on_model_change(self, form, model: Person, is_created: bool) -> None:  # noqa: ANN001
        # The desk's own cleaning rules for names, e-mail addresses and phone numbers.
        model.display_name = clean_text(model.display_name, "display_name", max_length=120,
                                        multiline=False)
        model.email = clean_email(model.email, required=False)
        model.phone = clean_phone(model.phone)
        added, removed = _changed(model, "groups")
        g.desk_membership = ({model.id}, {group.id for group in added | removed})

    def after_model_change(self, form, model: Person, is_created: bool) -> None:  # noqa: ANN001
        _announce_membership()


class PersonGroupView(DeskModelView):
    can_delete = False  # SRs and chats keep their group
    column_list = ["name", "is_chat_queue", "routing", "members", "waiting", "agents_online",
                   "agents_available", "description"]
    column_labels = {"is_chat_queue": "Chat queue", "waiting": "Waiting now",
                     "agents_online": "Agents online", "agents_available": "Available"}
    search_hint = "Group name or description"
    column_searchable_list = ["name", "description"]
    column_filters = ["name", "is_chat_queue"]
    column_sortable_list = ["name", "is_chat_queue"]
    column_default_sort = "name"
    column_formatters = {
        "members": lambda v, c, m, n: _names(m.members),
        "waiting": lambda v, c, m, n: _live(m, "waiting"),
        "agents_online": lambda v, c, m, n: _live(m, "agents_online"),
        "agents_available": lambda v, c, m, n: _live(m, "agents_available"),
        "routing": lambda v, c, m, n: ROUTING_LABELS.get(m.routing, m.routing),
    }
    form_columns = ["name", "description", "is_chat_queue", "routing", "greeting", "members"]
    form_overrides = {"routing": SelectField}
    form_args = {
        "is_chat_queue": {"label": "Chat queue",
                          "description": "Receives chat requests from the widget."},
        "greeting": {"description": "The agent's first message when he accepts a chat. "
                                    "{agent} and {queue} are filled in."},
        "members": {"description": "Agents of a chat queue are told of every chat in it."},
        "routing": {"label": "Routing", "choices": list(ROUTING_LABELS.items()),
                    "description": "Manual: agents pick chats from the queue. Automatic: each "
                                   "chat is offered to one available agent at a time (fewest "
                                   "chats first), moving on after CHAT_OFFER_TIMEOUT seconds."},
    }
    form_widget_args = {"greeting": {"rows": 3}, "description": {"rows": 2}}
    form_ajax_refs = {"members": lookups.persons("members")}

    def on_model_change(self, form, model: PersonGroup, is_created: bool) -> None:  # noqa: ANN001
        flag = inspect(model).attrs.is_chat_queue.history
        was_queue = bool(flag.deleted[0]) if flag.deleted else bool(model.is_chat_queue)
        people.check_queue_flag(model, was_queue)
        model.name = clean_text(model.name, "name", max_length=80, multiline=False)
        model.greeting = clean_text(model.greeting, "greeting", max_length=2000,
                                    required=False)
        model.routing = routing.clean_routing(model.routing)
        added, removed = _changed(model, "members")
        if was_queue != bool(model.is_chat_queue):  # every member's queues changed
            added = added | set(model.members)
        g.desk_membership = ({person.id for person in added | removed}, {model.id})

    def after_model_change(self, form, model: PersonGroup, is_created: bool) -> None:  # noqa: ANN001
        g.desk_membership = (g.desk_membership[0], {model.id})  # a new group has its id now
        _announce_membership()


GROUPS = lookups.groups("groups")


def _password_rule() -> str:
    return f"At least {setting('PASSWORD_MIN_LENGTH')} characters."


class UserCreateForm(DeskSecureForm):
    username = StringField("Username", validators=[InputRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=200)])
    display_name = StringField("Display name", validators=[InputRequired(), Length(max=120)])
    email = StringField("E-mail", validators=[Optional(), Length(max=254)])
    phone = StringField("Phone", validators=[Optional(), Length(max=40)])
    role = SelectField("Role", choices=ROLES, default=Role.AGENT.value)
    groups = lookups.LookupMultipleField(GROUPS, "Groups and queues")


class UserEditForm(DeskSecureForm):
    role = SelectField("Role", choices=ROLES)
    max_chats = StringField("Chats at once", validators=[Optional(), Length(max=8)],
                            description="How many live chats this agent may hold (1 to 20). "
                            "Empty: the installation's default.")
    is_enabled = BooleanField("Enabled", description="A disabled user cannot log in.")
    new_password = PasswordField("New password", validators=[Optional(), Length(max=200)])
    indicator_style = SelectField("Chat-queue indicator", choices=INDICATOR_STYLES)


class UserView(DeskModelView):
    can_delete = False  # disable instead: SRs and chats keep who did what
    column_list = ["username", "person", "role", "is_enabled", "groups", "max_chats",
                   "last_login_at", "created_at"]
    column_labels = {"person": "Name", "is_enabled": "Enabled", "groups": "Groups",
                     "max_chats": "Chats at once",
                     "last_login_at": "Last login", "created_at": "Created"}
    search_hint = "Username, name or e-mail"
    column_searchable_list = ["username", "person.display_name", "person.email"]
    column_filters = ["username", "role", "is_enabled", "last_login_at"]
    column_sortable_list = ["username", ("person", "person.display_name"), "role",
                            "is_enabled", "last_login_at", "created_at"]
    column_default_sort = "username"
    column_formatters = {
        "person": lambda v, c, m, n: m.person.display_name,
        "role": lambda v, c, m, n: m.role.value.title(),
        "groups": lambda v, c, m, n: ", ".join(gr.name for gr in m.person.groups) or "—",
        "max_chats": lambda v, c, m, n: m.max_chats or f"{availability.capacity(m)} (default)",
        "last_login_at": lambda v, c, m, n: local_time(m.last_login_at),
        "created_at": lambda v, c, m, n: local_time(m.created_at),
    }
    column_details_exclude_list = ["password_hash"]
    form_ajax_refs = {"groups": GROUPS}

    def get_query(self):
        return super().get_query().options(joinedload(User.person).selectinload(Person.groups))

    def create_form(self, obj=None):  # noqa: ANN001
        form = UserCreateForm(request.form if request.method == "POST" else None)
        form.password.description = _password_rule()
        return form

    def edit_form(self, obj: User | None = None):
        form = UserEditForm(request.form if request.method == "POST" else None)
        form.new_password.description = (_password_rule() +
                                         " Leave empty to keep the current password.")
        if request.method != "POST" and obj is not None:
            form.role.data = obj.role.value
            form.is_enabled.data = obj.is_enabled
            form.indicator_style.data = obj.indicator_style or ""
            form.max_chats.data = str(obj.max_chats) if obj.max_chats else ""
        if request.method != "POST":
            form.max_chats.description += f" Default: {setting('CHAT_MAX_PER_AGENT')}."
        return form

    def create_model(self, form: UserCreateForm):
        try:
            user = people.create_user(
                form.username.data, form.password.data, display_name=form.display_name.data,
                email=form.email.data or None, phone=form.phone.data or None,
                role=form.role.data, groups=[group.name for group in form.groups.data or []])
        except DeskError as exc:
            flash(exc.message, "error")
            return False
        flash(f"User {user.username} created.", "success")
        return user

    def update_model(self, form: UserEditForm, model: User) -> bool:
        own_account = model.id == current_user.id
        try:
            with transaction():  # one edit of the account: all of it or none
                people.update_account(model.id, actor=current_user, role=form.role.data,
                                      is_enabled=form.is_enabled.data)
                if (form.max_chats.data or "").strip() != str(model.max_chats or ""):
                    availability.set_max_chats(model.id, (form.max_chats.data or "").strip())
                if form.indicator_style.data != (model.indicator_style or ""):
                    worklist.set_preferences(
                        model, {"indicator_style": form.indicator_style.data or None})
                if form.new_password.data:
                    people.set_password(model.id, form.new_password.data)
        except DeskError as exc:
            flash(exc.message, "error")
            return False
        if form.new_password.data:
            flash(f"Password of {model.username} changed.", "success")
            if own_account:  # his other sessions end, this one goes on
                login_user(db.session.get(User, model.id))
        return True
