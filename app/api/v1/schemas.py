"""The REST API's documents, as marshmallow schemas: they check what clients send and are the
OpenAPI document's components. Responses are built by app/wire.py; these schemas describe
them (and dump them unchanged), so a field is named and formatted in one place."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from app.desk.lookups import MAX_LIMIT
from app.models import ChatStatus, SRSource, SRStatus, WorkLogType

Time = fields.String  # ISO 8601 in UTC with a Z suffix (app/wire.py: iso_time)


def _time(description: str, **options) -> fields.Field:
    return Time(metadata={"format": "date-time", "description": description}, **options)


class Strict(Schema):
    class Meta:
        unknown = RAISE  # an unknown field is refused (400 unknown_field), never ignored
        ordered = True


# --- errors and pages ----------------------------------------------------------------------

class ErrorSchema(Strict):
    ok = fields.Boolean(metadata={"description": "Always false."})
    error = fields.String(required=True, metadata={
        "description": "Machine code: invalid, unknown_field, invalid_json, required, stale, "
                       "not_found, unknown_chat, illegal_transition, version_required, "
                       "unauthorized, rate_limited, method_not_allowed, ..."})
    message = fields.String(required=True, metadata={"description": "For people."})
    field = fields.String(metadata={"description": "The field at fault, when there is one."})


class PageQuery(Strict):
    cursor = fields.String(metadata={"description": "next_cursor of the previous page."})
    limit = fields.Integer(validate=validate.Range(1, MAX_LIMIT),
                           metadata={"description": f"Items per page (default 50, at most "
                                                    f"{MAX_LIMIT})."})


def page_of(item: type[Schema], name: str) -> type[Schema]:
    return type(name, (Strict,), {
        "items": fields.List(fields.Nested(item), required=True),
        "next_cursor": fields.String(allow_none=True, required=True, metadata={
            "description": "Give it as `cursor` for the next page; null on the last page."}),
    })


# --- shared parts ----------------------------------------------------------------------------

class PersonSchema(Strict):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)


class RefSchema(Strict):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


# --- service requests ------------------------------------------------------------------------

class ServiceRequestSchema(Strict):
    id = fields.Integer(required=True)
    number = fields.String(required=True, metadata={"example": "SR1001"})
    summary = fields.String(required=True)
    details = fields.String(allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in SRStatus]))
    source = fields.String(required=True)
    reported_by = fields.Nested(PersonSchema, allow_none=True)
    owner = fields.Nested(PersonSchema, allow_none=True)
    owner_group = fields.Nested(RefSchema, allow_none=True)
    reported_priority = fields.Integer(allow_none=True)
    impact = fields.Integer(allow_none=True)
    urgency = fields.Integer(allow_none=True)
    classification = fields.String(allow_none=True)
    ci = fields.Nested(RefSchema, allow_none=True)
    asset = fields.Dict(allow_none=True, metadata={"description": "{id, tag}"})
    solution = fields.String(allow_none=True)
    created_at = _time("When it was opened.")
    changed_at = _time("Its last change.")
    version = fields.Integer(required=True, metadata={
        "description": "Send it back (If-Match or `version`) to change the SR; also the "
                       "ETag."})


class WorkLogEntrySchema(Strict):
    id = fields.Integer(required=True)
    type = fields.String(required=True, validate=validate.OneOf([t.value for t in WorkLogType]))
    summary = fields.String(required=True)
    details = fields.String(allow_none=True)
    author = fields.String(required=True)
    client_visible = fields.Boolean(required=True)
    created_at = _time("When it was written.")


class StatusChangeSchema(Strict):
    from_ = fields.String(data_key="from", attribute="from", allow_none=True)
    to = fields.String(required=True)
    group = fields.String(allow_none=True)
    by = fields.String(required=True)
    at = _time("When.")
    memo = fields.String(allow_none=True)


class ServiceRequestDetailSchema(ServiceRequestSchema):
    allowed_transitions = fields.List(fields.String(), required=True)
    work_log = fields.List(fields.Nested(WorkLogEntrySchema), required=True)
    history = fields.List(fields.Nested(StatusChangeSchema), required=True)
    chats = fields.List(fields.Dict(), required=True, metadata={
        "description": "[{chat_id, status}] of the SR's chats."})


_RANK = {"validate": validate.Range(1, 5), "allow_none": True}


class ServiceRequestFields(Strict):
    """The fields an SR's edit may change (the desk's rules apply)."""

    summary = fields.String(validate=validate.Length(1, 200))
    details = fields.String(allow_none=True)
    owner_group_id = fields.Integer(allow_none=True)
    reported_priority = fields.Integer(**_RANK)
    impact = fields.Integer(**_RANK)
    urgency = fields.Integer(**_RANK)
    classification = fields.String(allow_none=True)
    ci_id = fields.Integer(allow_none=True)
    asset_id = fields.Integer(allow_none=True)
    solution = fields.String(allow_none=True)


class ServiceRequestCreate(ServiceRequestFields):
    summary = fields.String(required=True, validate=validate.Length(1, 200))
    reported_by_id = fields.Integer(metadata={
        "description": "The person who reports it (default: the token's user)."})
    source = fields.String(validate=validate.OneOf(
        [s.value for s in SRSource if s != SRSource.CHAT]), metadata={"description": "WEB "
                                                                       "(default), EMAIL or PHONE."})


class ServiceRequestUpdate(Strict):
    version = fields.Integer(metadata={
        "description": "The version it was read at (or send If-Match: \"<version>\")."})
    changes = fields.Nested(ServiceRequestFields, load_default=dict)
    status = fields.String(validate=validate.OneOf([s.value for s in SRStatus]))
    memo = fields.String(allow_none=True, metadata={"description": "Why (status history)."})


class ServiceRequestQuery(PageQuery):
    status = fields.String(validate=validate.OneOf([s.value for s in SRStatus]))
    q = fields.String(metadata={"description": "Words of the summary or of the end user's "
                                               "name, e-mail or phone; or an SR number."})
    group_id = fields.Integer(metadata={"description": "Owner group."})


class WorkLogCreate(Strict):
    summary = fields.String(required=True, validate=validate.Length(1, 200))
    details = fields.String(allow_none=True)
    log_type = fields.String(load_default="WORK", validate=validate.OneOf(
        ["WORK", "NOTE", "CLIENTNOTE"]))
    client_visible = fields.Boolean(load_default=False)


# --- chats, persons, queues ----------------------------------------------------------------

class AgentSchema(Strict):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class ChatSchema(Strict):
    id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in ChatStatus]))
    queue = fields.Nested(RefSchema, required=True)
    sr = fields.Dict(required=True, metadata={"description": "{id, number, status}"})
    end_user = fields.Nested(PersonSchema, required=True)
    verified = fields.Boolean(required=True, metadata={
        "description": "True when the host site vouched for the end user's e-mail "
                       "(identity_hash); false: name and e-mail are what he typed."})
    agent = fields.Nested(AgentSchema, allow_none=True)
    question = fields.String(required=True)
    requested_at = _time("When the end user asked.")
    accepted_at = _time("When an agent accepted it.", allow_none=True)
    closed_at = _time("When it ended.", allow_none=True)
    closed_by = fields.String(allow_none=True)
    close_reason = fields.String(allow_none=True)
    rating = fields.Integer(allow_none=True)


class SenderSchema(Strict):
    role = fields.String(required=True)
    name = fields.String(required=True)


class MessageSchema(Strict):
    id = fields.Integer(required=True)
    chat_id = fields.Integer(required=True)
    sender = fields.Nested(SenderSchema, required=True)
    body = fields.String(required=True)
    sent_at = _time("When the desk stored it.")
    client_id = fields.String(allow_none=True)
    attachments = fields.List(fields.Dict(), metadata={"description": "Files it carries."})


class ChatQuery(PageQuery):
    status = fields.String(validate=validate.OneOf([s.value for s in ChatStatus]))
    queue_id = fields.Integer()


class MessageQuery(Strict):
    after = fields.Integer(metadata={"description": "Only messages after this message id."})
    limit = fields.Integer(validate=validate.Range(1, MAX_LIMIT))


class MessagePage(Strict):
    items = fields.List(fields.Nested(MessageSchema), required=True)
    next_after = fields.Integer(allow_none=True, required=True, metadata={
        "description": "Give it as `after` for the next messages; null when there are no "
                       "more now."})


class PersonQuery(PageQuery):
    q = fields.String(metadata={"description": "Words of the name, e-mail or phone."})


class QueueSchema(Strict):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    is_chat_queue = fields.Boolean(required=True)
    waiting = fields.Integer(required=True)
    oldest_wait_seconds = fields.Integer(allow_none=True)
    agents_online = fields.Integer(required=True)


class MeSchema(Strict):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    name = fields.String(required=True)
    role = fields.String(required=True)
    person_id = fields.Integer(required=True)


ServiceRequestPage = page_of(ServiceRequestSchema, "ServiceRequestPage")
ChatPage = page_of(ChatSchema, "ChatPage")
PersonPage = page_of(PersonSchema, "PersonPage")
