"""Service requests in the admin: list, filters, edit and bulk changes, all through app.desk.

Flask-Admin never writes an SR itself: create goes to open_service_request, every edit and
status change to update_service_request with the version the form was opened with, the work
log to add_work_log. A refusal (illegal transition, stale version, bad value) is flashed and
nothing is written.
"""

from __future__ import annotations

from flask import flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from app.admin import lookups
from app.admin.formatting import local_time, status_badge
from app.admin.security import CSRF_MESSAGE, DeskModelView, DeskSecureForm, csrf_failed
from app.desk import attachments, chat_context, file_links, requests, search
from app.desk.errors import DeskError
from app.extensions import db
from app.models import PersonGroup, ServiceRequest, SRSource, SRStatus, WorkLogType

RANKS = [("", "—"), ("1", "1 · highest"), ("2", "2 · high"), ("3", "3 · medium"), ("4", "4 · low"),
         ("5", "5 · lowest")]
WORK_LOG_TYPES = [(WorkLogType.WORK.value, "Work"), (WorkLogType.NOTE.value, "Internal note"),
                  (WorkLogType.CLIENTNOTE.value, "Note to the end user")]


def _rank(value: object) -> str:
    return "" if value in (None, "") else str(value)


def _groups():
    return db.session.scalars(select(PersonGroup).order_by(PersonGroup.name))


# The relation fields search as you type (see app.admin.lookups); the view serves them.
LOOKUPS = {"reported_by": lookups.persons("reported_by"),
           "owner_group": lookups.groups("owner_group"), "ci": lookups.cis("ci"),
           "asset": lookups.assets("asset")}


def _select(label: str, name: str, **kwargs) -> lookups.LookupField:
    return lookups.LookupField(LOOKUPS[name], label, allow_blank=True, blank_text="—",
                               validators=[Optional()], **kwargs)


class SREditForm(DeskSecureForm):
    """The SR form (docs/domain.md); `version` is the optimistic lock the form was opened with."""

    version = HiddenField()
    summary = StringField("Summary", validators=[InputRequired(), Length(max=200)])
    details = TextAreaField("Details", render_kw={"rows": 4})
    status = SelectField("Status", choices=[])
    memo = StringField("Status memo", validators=[Length(max=2000)],
                       description="Goes into the status history with a status change.")
    owner_group = _select("Owner group", "owner_group")
    reported_priority = SelectField("Reported priority", choices=RANKS, coerce=_rank)
    impact = SelectField("Impact", choices=RANKS, coerce=_rank)
    urgency = SelectField("Urgency", choices=RANKS, coerce=_rank)
    classification = StringField("Classification", validators=[Length(max=80)])
    ci = _select("Configuration item", "ci")
    asset = _select("Asset", "asset")
    solution = TextAreaField("Solution", render_kw={"rows": 3},
                             description="Required to resolve; e-mailed to the end user.")


class SRCreateForm(DeskSecureForm):
    summary = StringField("Summary", validators=[InputRequired(), Length(max=200)])
    details = TextAreaField("Details", render_kw={"rows": 4})
    reported_by = lookups.LookupField(LOOKUPS["reported_by"], "Reported by", allow_blank=True,
                                      blank_text="Choose the person…",
                                      validators=[DataRequired("Choose who reported it.")])
    owner_group = _select("Owner group", "owner_group",
                          description="With a group the SR opens QUEUED to it, else NEW.")
    source = SelectField("Source", choices=[(s.value, s.value.title()) for s in SRSource],
                         default=SRSource.PHONE.value)
    reported_priority = SelectField("Reported priority", choices=RANKS, coerce=_rank)
    impact = SelectField("Impact", choices=RANKS, coerce=_rank)
    urgency = SelectField("Urgency", choices=RANKS, coerce=_rank)
    ci = _select("Configuration item", "ci")
    asset = _select("Asset", "asset")


class WorkLogForm(DeskSecureForm):
    summary = StringField("Summary", validators=[InputRequired(), Length(max=200)])
    details = TextAreaField("Details", render_kw={"rows": 3})
    log_type = SelectField("Type", choices=WORK_LOG_TYPES, default=WorkLogType.WORK.value)
    client_visible = BooleanField("Visible to the end user")


class BulkForm(DeskSecureForm):
    ids = HiddenField()
    target = SelectField("Target", choices=[], validators=[InputRequired()])
    memo = StringField("Memo", validators=[Length(max=2000)])


def _id(obj) -> int | None:  # noqa: ANN001
    return obj.id if obj is not None else None


def status_choices(current: SRStatus) -> list[tuple[str, str]]:
    """The current status, then only the statuses the desk allows from it."""
    choices = [(current.value, f"{current.value} (current)")]
    for status in requests.allowed_transitions(current):
        if status == current:  # QUEUED -> QUEUED: re-queue, offered by changing the group
            continue
        choices.append((status.value, status.value))
    return choices


class ServiceRequestView(DeskModelView):
    edit_template = "admin/desk/sr_edit.html"
    can_delete = False  # SRs are cancelled, never deleted
    can_view_details = False  # the edit screen shows everything

    column_list = ["number", "summary", "status", "owner", "owner_group", "reported_priority",
                   "impact", "source", "created_at", "changed_at"]
    column_labels = {
        "number": "SR", "owner_group": "Owner group", "reported_priority": "Priority",
        "created_at": "Created", "changed_at": "Changed", "reported_by": "Reported by",
        "reported_by.display_name": "Reported by (name)", "reported_by.email":
            "Reported by (e-mail)", "owner.display_name": "Owner", "owner_group.name":
            "Owner group", "ci": "CI",
    }
    # Orders an index serves: on a desk with a million SRs any other order reads and sorts
    # them all (half a second and more); the filters narrow by owner, group or impact.
    column_sortable_list = [("number", ServiceRequest.id), "status", "reported_priority",
                            "created_at", "changed_at"]
    column_default_sort = ("changed_at", True)
    search_hint = "SR number, summary, end user's name, e-mail or phone"
    column_searchable_list = ["number", "summary"]
    search_condition = staticmethod(search.service_requests_matching)
    # Counting a million SRs for "page 1 of 50,000" costs more than the page: prev/next only.
    simple_list_pager = True
    form_ajax_refs = LOOKUPS
    column_filters = ["number", "summary", "status", "owner.display_name", "owner_group.name",
                      "reported_priority", "impact", "source", "created_at", "changed_at"]
    column_formatters = {
        "number": lambda v, c, m, n: Markup('<a class="sr-number" href="{}">{}</a>').format(
            v.get_url(".edit_view", id=m.id, url=request.full_path), m.number),
        "status": lambda v, c, m, n: status_badge(m.status),
        "owner": lambda v, c, m, n: m.owner.display_name if m.owner else "—",
        "owner_group": lambda v, c, m, n: m.owner_group.name if m.owner_group else "—",
        "reported_priority": lambda v, c, m, n: m.reported_priority or "—",
        "impact": lambda v, c, m, n: m.impact or "—",
        "source": lambda v, c, m, n: m.source.value.title(),
        "created_at": lambda v, c, m, n: local_time(m.created_at),
        "changed_at": lambda v, c, m, n: local_time(m.changed_at),
    }

    def get_sortable_columns(self):
        # SR numbers sort by id (SR999 < SR1000); Flask-Admin files a same-table sort column
        # under that column's own name, so put it back under "number".
        columns = super().get_sortable_columns()
        columns["number"] = columns.pop("id")
        return columns

    # --- forms ---------------------------------------------------------------------------

    def edit_form(self, obj: ServiceRequest | None = None):
        form = SREditForm(request.form if request.method == "POST" else None, obj=obj)
        form.status.choices = status_choices(obj.status)
        if request.method != "POST":
            form.status.data = obj.status.value
            form.version.data = str(obj.version)
            form.memo.data = ""
        return form

    def create_form(self, obj=None):  # noqa: ANN001
        return SRCreateForm(request.form if request.method == "POST" else None, obj=obj)

    def update_model(self, form: SREditForm, model: ServiceRequest) -> bool:
        changes = {
            "summary": form.summary.data, "details": form.details.data,
            "owner_group_id": _id(form.owner_group.data),
            "reported_priority": form.reported_priority.data, "impact": form.impact.data,
            "urgency": form.urgency.data, "classification": form.classification.data,
            "ci_id": _id(form.ci.data), "asset_id": _id(form.asset.data),
            "solution": form.solution.data,
        }
        status = SRStatus(form.status.data)
        # Same status: no transition (the desk re-queues a QUEUED SR moved to another group).
        wanted = status if status != model.status else None
        try:
            result = requests.update_service_request(
                model.id, actor=current_user, expected_version=form.version.data,
                changes=changes, status=wanted, memo=form.memo.data)
        except DeskError as exc:
            flash(exc.message, "error")
            field = {"owner_group_id": "owner_group", "ci_id": "ci", "asset_id": "asset"}.get(
                exc.field or "", exc.field)
            if field and field in form and field != "version":
                form[field].errors = [*form[field].errors, exc.message]
            return False
        if not result.changed_fields and not result.status_changed:
            flash(f"{model.number}: nothing changed.", "info")
        return True

    def create_model(self, form: SRCreateForm):
        extras = {
            "reported_priority": form.reported_priority.data, "impact": form.impact.data,
            "urgency": form.urgency.data, "ci_id": _id(form.ci.data),
            "asset_id": _id(form.asset.data),
        }
        try:
            sr = requests.open_service_request(
                summary=form.summary.data, details=form.details.data,
                reported_by=form.reported_by.data, owner_group=form.owner_group.data,
                source=SRSource(form.source.data), actor=current_user,
                fields={k: v for k, v in extras.items() if v not in (None, "")})
        except DeskError as exc:
            flash(exc.message, "error")
            return False
        flash(f"{sr.number} opened ({sr.status.value}).", "success")
        return sr

    def render(self, template, **kwargs):  # noqa: ANN001
        model = kwargs.get("model")
        if template == self.edit_template and model is not None:
            kwargs.update(self._edit_context(model))
        return super().render(template, **kwargs)

    def _edit_context(self, sr: ServiceRequest) -> dict:
        sr = db.session.get(ServiceRequest, sr.id)  # fresh after a refused save
        entries = list(reversed(sr.work_log))
        files = attachments.of_service_request(sr.id)
        files_by_message: dict[int, list] = {}
        for sent in files:
            files_by_message.setdefault(sent.attachment.message_id, []).append(sent)
        return {
            "sr": sr,
            "work_log": [e for e in entries if e.log_type != WorkLogType.TRANSCRIPT],
            "transcripts": [e for e in entries if e.log_type == WorkLogType.TRANSCRIPT],
            "history": list(reversed(sr.history)),
            "chats": list(sr.chats),
            # The files its chats carried, with links signed now (the manager's session
            # opens them), and where the end user asked from.
            "files": files,
            "files_by_message": files_by_message,
            "file_url": file_links.url_for,
            "human_size": attachments.human_size,
            "context": chat_context.latest_of_service_request(sr.id),
            "work_log_form": WorkLogForm(formdata=None),
            "local_time": local_time,
            "status_badge": status_badge,
        }

    # --- work log ------------------------------------------------------------------------

    @expose("/work-log/<int:sr_id>", methods=["POST"])
    def add_work_log(self, sr_id: int):
        form = WorkLogForm(request.form)
        back = self.get_url(".edit_view", id=sr_id, url=request.args.get("url")) + "#work-log"
        if not form.validate():
            if csrf_failed(form):
                flash(f"Work log not added. {CSRF_MESSAGE}", "error")
                return redirect(back)
            for field, errors in form.errors.items():
                label = form[field].label.text if field in form else "Form"
                flash(f"Work log not added. {label}: {' '.join(errors)}", "error")
            return redirect(back)
        try:
            entry = requests.add_work_log(
                sr_id, author=current_user.person, summary=form.summary.data,
                details=form.details.data, log_type=form.log_type.data,
                client_visible=form.client_visible.data)
        except DeskError as exc:
            flash(f"Work log not added. {exc.message}", "error")
            return redirect(back)
        flash(f"Work log added to {entry.service_request.number}.", "success")
        return redirect(back)

    # --- bulk ----------------------------------------------------------------------------

    @action("set_owner_group", "Set owner group…")
    def action_set_owner_group(self, ids: list[str]):
        return redirect(self.get_url(".bulk_view", op="group", ids=",".join(ids)))

    @action("set_status", "Set status…")
    def action_set_status(self, ids: list[str]):
        return redirect(self.get_url(".bulk_view", op="status", ids=",".join(ids)))

    @expose("/bulk/", methods=["GET", "POST"])
    def bulk_view(self):
        op = request.values.get("op")
        if op not in ("group", "status"):
            return redirect(self.get_url(".index_view"))
        form = BulkForm(request.form if request.method == "POST" else None)
        raw_ids = form.ids.data if request.method == "POST" else request.args.get("ids", "")
        ids = [int(i) for i in str(raw_ids or "").split(",") if i.strip().isdigit()]
        srs = list(db.session.scalars(
            select(ServiceRequest).where(ServiceRequest.id.in_(ids)).order_by(ServiceRequest.id)
        )) if ids else []
        if op == "group":
            form.target.choices = [(str(g.id), g.name) for g in _groups()]
            form.target.label.text = "Owner group"
        else:
            targets = set().union(*requests.TRANSITIONS.values())  # NEW is never a target
            form.target.choices = [(s.value, s.value) for s in SRStatus if s in targets]
            form.target.label.text = "New status"
        if not srs:
            flash("Select at least one service request first.", "warning")
            return redirect(self.get_url(".index_view"))
        form.ids.data = ",".join(str(sr.id) for sr in srs)
        if request.method == "POST":
            if form.validate():
                self._apply_bulk(op, [sr.id for sr in srs], form.target.data, form.memo.data)
                return redirect(self.get_url(".index_view"))
            if csrf_failed(form):
                flash(CSRF_MESSAGE, "error")
        return self.render("admin/desk/sr_bulk.html", form=form, srs=srs, op=op,
                           status_badge=status_badge)

    def _apply_bulk(self, op: str, ids: list[int], target: str, memo: str | None) -> None:
        """Each SR on its own through the service layer; report which changed and which not."""
        done, failed = [], []
        for sr_id in ids:
            sr = db.session.get(ServiceRequest, sr_id)
            number = sr.number
            try:
                if op == "group":
                    result = requests.update_service_request(
                        sr_id, actor=current_user, expected_version=sr.version,
                        changes={"owner_group_id": target}, memo=memo)
                else:
                    result = requests.update_service_request(
                        sr_id, actor=current_user, expected_version=sr.version, status=target,
                        memo=memo)
            except DeskError as exc:
                failed.append(f"{number}: {exc.message}")
                continue
            if result.changed_fields or result.status_changed:
                done.append(number)
            else:
                failed.append(f"{number}: already so, nothing changed.")
        what = "owner group" if op == "group" else "status"
        if done:
            flash(f"Changed {what} of {len(done)} SR(s): {', '.join(done)}.", "success")
        if failed:
            flash(f"Not changed ({len(failed)}): " + " · ".join(failed), "error")

