"""Input normalisation shared by every service function: text, e-mail, ranges."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from app.desk.errors import ValidationError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PHONE = re.compile(r"^[0-9+()./\- ]{3,40}$")


def clean_text(value: object, field: str, *, max_length: int, required: bool = True,
               multiline: bool = True) -> str | None:
    """Plain text: strip, drop control characters, enforce presence and length."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError("invalid", f"{field} must be text.", field)
    text = _CONTROL.sub("", value.replace("\r\n", "\n")).strip()
    if not multiline:
        text = " ".join(text.split())
    if not text:
        if required:
            raise ValidationError("required", f"{field} is required.", field)
        return None
    if len(text) > max_length:
        raise ValidationError(
            "too_long", f"{field} is too long ({len(text)} characters, at most {max_length}).",
            field,
        )
    return text


def clean_email(value: object, field: str = "email", *, required: bool = True) -> str | None:
    text = clean_text(value, field, max_length=254, required=required, multiline=False)
    if text is None:
        return None
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError("invalid", f"{field} is not a valid e-mail address.", field) from exc


def clean_phone(value: object, field: str = "phone") -> str | None:
    text = clean_text(value, field, max_length=40, required=False, multiline=False)
    if text is not None and not _PHONE.match(text):
        raise ValidationError("invalid", f"{field} may contain digits, spaces and + ( ) - . / only.",
                              field)
    return text


def clean_rank(value: object, field: str, *, required: bool = False) -> int | None:
    """A 1..5 value (priority, impact, urgency, rating)."""
    if value is None or value == "":
        if required:
            raise ValidationError("required", f"{field} is required.", field)
        return None
    if isinstance(value, bool):
        raise ValidationError("invalid", f"{field} must be a number from 1 to 5.", field)
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError("invalid", f"{field} must be a number from 1 to 5.", field) from exc
    if str(number) != str(value).strip() and not isinstance(value, int):
        raise ValidationError("invalid", f"{field} must be a number from 1 to 5.", field)
    if not 1 <= number <= 5:
        raise ValidationError("invalid", f"{field} must be a number from 1 to 5.", field)
    return number


def clean_id(value: object, field: str) -> int:
    if isinstance(value, bool) or value is None:
        raise ValidationError("invalid", f"{field} must be an id.", field)
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError("invalid", f"{field} must be an id.", field) from exc
    if number <= 0 or str(number) != str(value).strip():
        raise ValidationError("invalid", f"{field} must be an id.", field)
    return number
