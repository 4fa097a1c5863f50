"""Persons, user accounts and group membership."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.desk import events, sessions
from app.desk.errors import NotFound, ValidationError
from app.desk.settings import setting
from app.desk.unit_of_work import use_case
from app.desk.validation import clean_email, clean_phone, clean_text
from app.extensions import db
from app.models import Person, PersonGroup, Role, User, group_members, utcnow
from app.models.people import password_hash_method

PASSWORD_MAX_LENGTH = 200


def end_user(name: object, email: object, phone: object = None, *,
             verified: bool = False) -> Person:
    """The person behind a chat request.

    Unverified (anyone may type any address): a record of its own with what was typed, so
    that nothing the desk keeps for that address (name, phone, requests) is found, shown or
    changed. Verified (a host site vouched for the address): the desk's record of it, whose
    name and phone stay as kept (a new phone fills an empty one), or a new one.
    """
    display_name = clean_text(name, "name", max_length=120, multiline=False)
    address = clean_email(email)
    phone_number = clean_phone(phone)
    person = None
    if verified:
        from app.desk.identity import verified_person

        person = verified_person(address)
    if person is None:
        person = Person(display_name=display_name, email=address, phone=phone_number,
                        verified=verified)
        db.session.add(person)
    elif phone_number and not person.phone:
        person.phone = phone_number
    return person


def new_password(value: object, *, min_length: int | None = None) -> str:
    """A password someone chooses: at least PASSWORD_MIN_LENGTH characters, kept exactly as
    typed (spaces count; a login compares it unchanged)."""
    shortest = setting("PASSWORD_MIN_LENGTH") if min_length is None else min_length
    if not isinstance(value, str) or not value:
        raise ValidationError("required", "password is required.", "password")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValidationError("invalid", "password may not hold control characters.",
                              "password")
    if len(value) < shortest:
        raise ValidationError("too_short", f"password must have at least {shortest} "
                              "characters.", "password")
    if len(value) > PASSWORD_MAX_LENGTH:
        raise ValidationError("too_long", f"password may have at most {PASSWORD_MAX_LENGTH} "
                              "characters.", "password")
    return value


@use_case
def create_user(username: object, password: object, *, display_name: object,
                email: object = None, phone: object = None, role: Role | str = Role.AGENT,
                groups: list[str] | None = None, password_min_length: int | None = None
                ) -> User:
    """Create a login with its person; commits.

    `password_min_length` overrides PASSWORD_MIN_LENGTH for the demo desk only, whose
    accounts have the documented password "demo".
    """
    name = clean_text(username, "username", max_length=64, multiline=False)
    if not name.replace("_", "").replace(".", "").replace("-", "").isalnum():
        raise ValidationError("invalid", "username may hold letters, digits, . _ - only.",
                              "username")
    secret = new_password(password, min_length=password_min_length)
    try:
        role = Role(str(role).upper())
    except ValueError as exc:
        raise ValidationError("invalid", "role must be AGENT or MANAGER.", "role") from exc
    if db.session.scalar(select(User.id).where(func.lower(User.username) == name.lower())):
        raise ValidationError("duplicate", f"username {name} is taken.", "username")
    person = Person(
        display_name=clean_text(display_name, "display_name", max_length=120, multiline=False),
        email=clean_email(email, required=False),
        phone=clean_phone(phone),
    )
    user = User(username=name, role=role, person=person)
    user.set_password(secret)
    db.session.add(user)
    for group_name in groups or []:
        person.groups.append(get_group_by_name(group_name))
    return user


@use_case
def set_password(user_id: int, password: object) -> None:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("not_found", "No such user.", "user")
    user.set_password(new_password(password))
    events.record(sessions.invalidate(user, sessions.PASSWORD_CHANGED))


@dataclass(frozen=True)
class LoginAttempt:
    """What a login came to: the user, or why not (for the audit log, never for the form)."""

    user: User | None
    reason: str  # "ok", "unknown_user", "wrong_password", "disabled"


_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash of a random password, made like real ones, to check against for unknown users."""
    method = password_hash_method()
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return _dummy_hashes[method]


@use_case
def check_login(username: object, password: object) -> LoginAttempt:
    """Check a login; a success is recorded (last login).

    Every attempt costs one password hash, whether the username exists, is disabled or not,
    so that neither the answer nor its time tells which usernames exist.
    """
    if not isinstance(username, str) or not isinstance(password, str):
        return LoginAttempt(None, "unknown_user")
    user = db.session.scalars(
        select(User).where(func.lower(User.username) == username.strip().lower())
    ).first()
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return LoginAttempt(None, "unknown_user")
    if not user.check_password(password):
        return LoginAttempt(None, "wrong_password")
    if not user.is_enabled:
        return LoginAttempt(None, "disabled")
    user.last_login_at = utcnow()
    return LoginAttempt(user, "ok")


def authenticate(username: object, password: object) -> User | None:
    """The enabled user with this name and password, or None (never says which was wrong)."""
    return check_login(username, password).user


def find_user(username: object) -> User | None:
    """The login with this username (case-insensitive), or None."""
    if not isinstance(username, str) or not username.strip():
        return None
    return db.session.scalars(
        select(User).where(func.lower(User.username) == username.strip().lower())).first()


def get_group_by_name(name: str) -> PersonGroup:
    group = db.session.scalars(select(PersonGroup).where(PersonGroup.name == name)).first()
    if group is None:
        raise NotFound("unknown_group", f"No person group named {name}.", "group")
    return group


def get_queue(queue: object) -> PersonGroup:
    """A chat queue by id or name; anything else is an unknown queue."""
    group: PersonGroup | None = None
    if isinstance(queue, int) and not isinstance(queue, bool):
        group = db.session.get(PersonGroup, queue)
    elif isinstance(queue, str) and queue.strip():
        text = queue.strip()
        group = db.session.scalars(
            select(PersonGroup).where(func.lower(PersonGroup.name) == text.lower())
        ).first()
        if group is None and text.isdigit():
            group = db.session.get(PersonGroup, int(text))
    if group is None or not group.is_chat_queue:
        raise ValidationError("unknown_queue", "Unknown chat queue.", "queue")
    return group


def chat_queues() -> list[PersonGroup]:
    return list(db.session.scalars(
        select(PersonGroup).where(PersonGroup.is_chat_queue.is_(True)).order_by(PersonGroup.name)
    ))


def agent_queue_ids(user: User) -> list[int]:
    """Ids of the chat queues the user's person is a member of."""
    return list(db.session.scalars(
        select(group_members.c.group_id)
        .join(PersonGroup, PersonGroup.id == group_members.c.group_id)
        .where(group_members.c.person_id == user.person_id, PersonGroup.is_chat_queue.is_(True))
        .order_by(group_members.c.group_id)
    ))


def users_of_persons(person_ids) -> list[User]:
    """The logins of these persons (those who have one)."""
    if not person_ids:
        return []
    return list(db.session.scalars(
        select(User).where(User.person_id.in_(sorted(person_ids))).order_by(User.id)))


def managers_among(user_ids) -> set[int]:
    """Which of these logins are enabled managers now."""
    if not user_ids:
        return set()
    return set(db.session.scalars(select(User.id).where(
        User.id.in_(sorted(user_ids)), User.role == Role.MANAGER, User.is_enabled.is_(True))))


def is_queue_member(user: User, queue_id: int) -> bool:
    return bool(db.session.scalar(
        select(func.count()).select_from(group_members).where(
            group_members.c.person_id == user.person_id, group_members.c.group_id == queue_id
        )
    ))


@use_case
def set_group_members(group_id: int, person_ids: list[int]) -> PersonGroup:
    group = db.session.get(PersonGroup, group_id)
    if group is None:
        raise NotFound("not_found", "No such person group.", "group")
    persons = list(db.session.scalars(select(Person).where(Person.id.in_(person_ids))))
    if len(persons) != len(set(person_ids)):
        raise ValidationError("invalid", "Unknown person in members.", "members")
    changed = {person.id for person in group.members} ^ {person.id for person in persons}
    group.members = persons
    if changed:
        events.record(events.MembershipChanged(tuple(sorted(changed)), (group.id,)))
    return group


def membership_changed(person_ids, group_ids) -> None:
    """A change of group members made by a generic admin form, in the caller's transaction:
    recorded so that agents' sockets follow their chat queues once it is committed."""
    persons = tuple(sorted({int(i) for i in person_ids if i is not None}))
    groups = tuple(sorted({int(i) for i in group_ids if i is not None}))
    if persons and groups:
        events.record(events.MembershipChanged(persons, groups))


@use_case
def update_account(user_id: int, *, actor: User | None, role: object = None,
                   is_enabled: object = None) -> User:
    """Change a login's role or disable it; commits.

    A manager cannot demote or disable himself, and the desk always keeps one enabled
    manager, so nobody locks the admin screens for good.
    """
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("not_found", "No such user.", "user")
    new_role = user.role
    if role not in (None, ""):
        try:
            new_role = Role(str(role).upper())
        except ValueError as exc:
            raise ValidationError("invalid", "role must be AGENT or MANAGER.", "role") from exc
    enabled = user.is_enabled if is_enabled is None else bool(is_enabled)
    losing_manager = user.role == Role.MANAGER and user.is_enabled and (
        new_role != Role.MANAGER or not enabled)
    if losing_manager and actor is not None and actor.id == user.id:
        raise ValidationError("self_lockout", "You cannot remove your own manager access.",
                              "role" if new_role != Role.MANAGER else "is_enabled")
    if losing_manager:
        others = db.session.scalar(select(func.count(User.id)).where(
            User.role == Role.MANAGER, User.is_enabled.is_(True), User.id != user.id))
        if not others:
            raise ValidationError("last_manager", "The desk needs at least one enabled manager.",
                                  "role")
    disabling = user.is_enabled and not enabled
    user.role = new_role
    user.is_enabled = enabled
    if disabling:
        events.record(sessions.invalidate(user, sessions.DISABLED))
    return user


def check_queue_flag(group: PersonGroup, was_chat_queue: bool) -> None:
    """A group stops being a chat queue only while no chat waits in it (they would be lost)."""
    if not was_chat_queue or group.is_chat_queue or group.id is None:
        return
    from app.models import Chat, ChatStatus

    waiting = db.session.scalar(select(func.count(Chat.id)).where(
        Chat.queue_id == group.id, Chat.status == ChatStatus.WAITING))
    if waiting:
        raise ValidationError(
            "queue_busy", f"{waiting} chat(s) still wait in {group.name}: transfer or answer "
            "them before it stops being a chat queue.", "is_chat_queue")
