"""/api/v1/service-requests: list and search, read, open, change (version check), work log.

Every change goes through the desk's rules (app/desk/requests.py) like any other screen: the
allowed transitions, the solution a resolution needs, the version an edit is checked against.
An SR's version is its ETag; a change names the version it was read at (`If-Match` or
`version`), and a stale one is refused with 409 `stale`.
"""

from __future__ import annotations

from flask import Response, request
from flask.views import MethodView

from app import wire
from app.api.v1 import current_user, resource
from app.api.v1.schemas import (
    ServiceRequestCreate,
    ServiceRequestDetailSchema,
    ServiceRequestPage,
    ServiceRequestQuery,
    ServiceRequestUpdate,
    WorkLogCreate,
    WorkLogEntrySchema,
)
from app.desk import lookups
from app.desk import requests as sr_rules
from app.desk.errors import DeskError, NotFound, ValidationError
from app.extensions import db
from app.models import ServiceRequest, SRSource

blp = resource("Service requests", __name__, "/service-requests",
               "Service requests: list and search, read, open, change with the version "
               "check, and their work log.")

ETAG = {"ETag": {"description": "The SR's version, quoted: send it back in If-Match.",
                 "schema": {"type": "string"}}}


class PreconditionRequired(DeskError):
    status = 428


def _detail(sr: ServiceRequest) -> tuple[dict, int, dict]:
    allowed = [status.value for status in sr_rules.allowed_transitions(sr.status)]
    return wire.service_request_detail(sr, allowed), 200, {"ETag": f'"{sr.version}"'}


def _version_asked() -> int | None:
    header = (request.headers.get("If-Match") or "").strip()
    if not header or header == "*":
        return None
    text = header.removeprefix("W/").strip().strip('"')
    if not text.isdigit():
        raise ValidationError("invalid", "If-Match must be the SR's ETag, e.g. \"3\".",
                              "If-Match")
    return int(text)


@blp.route("")
class ServiceRequests(MethodView):
    @blp.arguments(ServiceRequestQuery, location="query")
    @blp.response(200, ServiceRequestPage)
    @blp.errors(400)
    def get(self, query: dict):
        """The SRs the token's user may see, newest first, filtered and searched."""
        page = lookups.service_requests(current_user(), status=query.get("status"),
                                        q=query.get("q"), group_id=query.get("group_id"),
                                        cursor=query.get("cursor"), limit=query.get("limit"))
        return {"items": [wire.service_request_record(sr) for sr in page.items],
                "next_cursor": page.next_cursor}

    @blp.arguments(ServiceRequestCreate)
    @blp.response(201, ServiceRequestDetailSchema, headers=ETAG)
    @blp.errors(400)
    def post(self, data: dict):
        """Open an SR: QUEUED to its group (`owner_group_id`), or NEW without one."""
        user = current_user()
        reported_by = user.person
        if data.get("reported_by_id") is not None:
            try:
                reported_by = lookups.person(user, data.pop("reported_by_id"))
            except NotFound as exc:
                raise ValidationError("invalid", "Unknown person.", "reported_by_id") from exc
        data.pop("reported_by_id", None)
        group_id = data.pop("owner_group_id", None)
        group = lookups.group(user, group_id) if group_id is not None else None
        source = SRSource(data.pop("source", SRSource.WEB.value))
        sr = sr_rules.open_service_request(
            summary=data.pop("summary"), details=data.pop("details", None),
            reported_by=reported_by, owner_group=group, source=source, actor=user, fields=data)
        body, _, headers = _detail(db.session.get(ServiceRequest, sr.id))
        return body, 201, headers


@blp.route("/<number>")
class ServiceRequestItem(MethodView):
    @blp.response(200, ServiceRequestDetailSchema, headers=ETAG)
    @blp.errors(404)
    def get(self, number: str):
        """An SR with its work log, status history and chats. `If-None-Match` with its
        ETag answers 304 when it has not changed."""
        sr = lookups.service_request(current_user(), number)
        if request.if_none_match.contains(str(sr.version)):
            return Response(status=304, headers={"ETag": f'"{sr.version}"'})
        return _detail(sr)

    @blp.arguments(ServiceRequestUpdate)
    @blp.response(200, ServiceRequestDetailSchema, headers=ETAG)
    @blp.errors(400, 404, 409, 428)
    def patch(self, data: dict, number: str):
        """Change fields and/or the status at once, against the version it was read at
        (`If-Match: "<version>"` or `version`): 409 `stale` when it changed since,
        428 `version_required` without either."""
        user = current_user()
        sr = lookups.service_request(user, number)
        version = data.get("version", _version_asked())
        if version is None:
            raise PreconditionRequired("version_required", "Say which version you change: "
                                       "If-Match: \"<version>\" or version in the body.",
                                       "version")
        sr_rules.update_service_request(sr.id, actor=user, expected_version=version,
                                        changes=data.get("changes") or {},
                                        status=data.get("status"), memo=data.get("memo"))
        db.session.expire_all()
        return _detail(db.session.get(ServiceRequest, sr.id))


@blp.route("/<number>/work-log")
class WorkLog(MethodView):
    @blp.response(200, WorkLogEntrySchema(many=True))
    @blp.errors(404)
    def get(self, number: str):
        """The SR's work log, oldest first (chat transcripts have type TRANSCRIPT)."""
        sr = lookups.service_request(current_user(), number)
        return [wire.work_log_entry(entry) for entry in sr.work_log]

    @blp.arguments(WorkLogCreate)
    @blp.response(201, WorkLogEntrySchema)
    @blp.errors(400, 404)
    def post(self, data: dict, number: str):
        """Add a work-log entry (WORK, NOTE or CLIENTNOTE) written by the token's user."""
        user = current_user()
        sr = lookups.service_request(user, number)
        entry = sr_rules.add_work_log(sr.id, author=user.person, summary=data["summary"],
                                      details=data.get("details"), log_type=data["log_type"],
                                      client_visible=data["client_visible"])
        return wire.work_log_entry(entry)
