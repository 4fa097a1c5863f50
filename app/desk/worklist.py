"""What an agent may see and work on: SR access, "my work", pickers and console preferences.

The agent console asks here, so that the rule "an agent sees the SRs he owns, those of his
groups and those he chatted about" lives in one place.
"""

from __future__ import annotations

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import joinedload

from app.desk.errors import Forbidden, ValidationError
from app.desk.requests import get_by_number
from app.desk.unit_of_work import use_case
from app.desk.validation import clean_text
from app.extensions import db
from app.models import (
    Asset,
    Chat,
    ConfigurationItem,
    ServiceRequest,
    SRStatus,
    User,
    group_members,
)

INDICATOR_STYLES = ("text", "bubble")
PICKER_LIMIT = 20
MY_WORK_LIMIT = 200


def group_ids(user: User) -> list[int]:
    """Every person group (chat queue or not) the user's person belongs to."""
    return list(db.session.scalars(
        select(group_members.c.group_id).where(group_members.c.person_id == user.person_id)
    ))


def visible_to(user: User):
    """A SQL condition: the SR is the user's, his groups', or one he chatted about."""
    return or_(
        ServiceRequest.owner_id == user.person_id,
        ServiceRequest.owner_group_id.in_(
            select(group_members.c.group_id).where(group_members.c.person_id == user.person_id)
        ),
        exists().where(Chat.sr_id == ServiceRequest.id, Chat.agent_id == user.id),
    )


def sr_visible_to(user: User):
    """The SQL condition of the SRs an agent may see (his, his groups', those he chatted
    about); a manager sees every SR."""
    return visible_to(user)


def may_view(user: User, sr: ServiceRequest) -> bool:
    if user.is_manager:
        return True
    return bool(db.session.scalar(
        select(func.count(ServiceRequest.id)).where(ServiceRequest.id == sr.id, visible_to(user))
    ))


def service_request_for(user: User, number: object) -> ServiceRequest:
    """The SR with this number if the user may see and edit it; NotFound/Forbidden otherwise."""
    text = clean_text(number, "number", max_length=20, multiline=False)
    sr = get_by_number(text)
    if not may_view(user, sr):
        raise Forbidden("forbidden", f"{sr.number} belongs to a group you are not in.", "sr")
    return sr


def my_work(user: User, status: object = None) -> list[ServiceRequest]:
    """SRs the agent owns and those of his groups, newest change first (OPEN, ALL or a status).

    Their group, owner and end user come in the same SELECT: the list shows them on every row.
    """
    # The group ids as a list, not a sub-select: PostgreSQL then sees how many SRs they hold
    # and picks the indexes on owner and group, or reads the newest SRs first.
    query = select(ServiceRequest).where(
        or_(ServiceRequest.owner_id == user.person_id,
            ServiceRequest.owner_group_id.in_(group_ids(user)))
    )
    wanted_text = str(status or "OPEN").upper()
    if wanted_text == "OPEN":
        query = query.where(ServiceRequest.status.in_(
            (SRStatus.NEW, SRStatus.QUEUED, SRStatus.INPROGRESS)))
    elif wanted_text != "ALL":
        try:
            wanted = SRStatus(wanted_text)
        except ValueError as exc:
            raise ValidationError("invalid", f"Unknown status {status!r}.", "status") from exc
        query = query.where(ServiceRequest.status == wanted)
    return list(db.session.scalars(
        query.options(joinedload(ServiceRequest.owner_group), joinedload(ServiceRequest.owner),
                      joinedload(ServiceRequest.reported_by))
        .order_by(ServiceRequest.changed_at.desc(), ServiceRequest.id.desc())
        .limit(MY_WORK_LIMIT)
    ))


def _pattern(query: object) -> str:
    text = clean_text(query, "q", max_length=60, required=False, multiline=False) or ""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_cis(query: object, *, limit: int = PICKER_LIMIT, offset: int = 0
               ) -> list[ConfigurationItem]:
    pattern = _pattern(query)
    return list(db.session.scalars(
        select(ConfigurationItem).where(or_(
            func.lower(ConfigurationItem.name).like(pattern, escape="\\"),
            func.lower(func.coalesce(ConfigurationItem.description, "")).like(pattern,
                                                                              escape="\\"),
        )).order_by(ConfigurationItem.name).offset(offset).limit(limit)
    ))


def search_assets(query: object, *, limit: int = PICKER_LIMIT, offset: int = 0) -> list[Asset]:
    pattern = _pattern(query)
    return list(db.session.scalars(
        select(Asset).where(or_(
            func.lower(Asset.tag).like(pattern, escape="\\"),
            func.lower(func.coalesce(Asset.description, "")).like(pattern, escape="\\"),
        )).order_by(Asset.tag).offset(offset).limit(limit)
    ))


def indicator_style(user: User, installation_default: str) -> str:
    """The user's own choice, else the installation's, else text."""
    if user.indicator_style in INDICATOR_STYLES:
        return user.indicator_style
    return installation_default if installation_default in INDICATOR_STYLES else "text"


# Desktop notice, sound, and both even while the console tab has focus.
NOTIFICATION_SETTINGS = ("notify_desktop", "notify_sound", "alert_in_focus")


@use_case
def set_preferences(user: User, data: dict) -> User:
    """Indicator style (text, bubble, or None for the installation's) and notifications."""
    if not isinstance(data, dict):
        raise ValidationError("invalid", "Send the preferences as a JSON object.", None)
    unknown = set(data) - {"indicator_style", *NOTIFICATION_SETTINGS}
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationError("unknown_field", f"{field} is not a preference.", field)
    if "indicator_style" in data:
        style = data["indicator_style"]
        if style in (None, "", "default"):
            style = None
        elif style not in INDICATOR_STYLES:
            raise ValidationError("invalid", "indicator_style must be text, bubble or default.",
                                  "indicator_style")
        user.indicator_style = style
    for name in NOTIFICATION_SETTINGS:
        if name in data:
            if not isinstance(data[name], bool):
                raise ValidationError("invalid", f"{name} must be true or false.", name)
            setattr(user, name, data[name])
    return user
