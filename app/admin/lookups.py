"""Relation fields that search as you type (Select2 over Flask-Admin's ajax lookup).

A form that lists a whole table in a <select> grows with the desk: with 200,000 persons the
new-SR form was 20 MB of <option>s and held the server's only thread for seconds. These
fields render the chosen value only; the browser asks `<view>/ajax/lookup/?name=…&query=…`
for a page of matches, found by the desk's indexed searches.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_admin.model.ajax import AjaxModelLoader
from flask_admin.model.fields import AjaxSelectField, AjaxSelectMultipleField
from wtforms.validators import ValidationError

from app.desk import search, worklist
from app.extensions import db
from app.models import Asset, ConfigurationItem, Person, PersonGroup

MAX_PAGE = 50  # results per lookup, whatever the browser asks for


class DeskLookup(AjaxModelLoader):
    """Finds records of `model` for a field named `name` through `find(text, limit, offset)`."""

    def __init__(self, name: str, model: type, find: Callable[..., list], *,
                 placeholder: str, minimum_input_length: int = 1) -> None:
        super().__init__(name, {"placeholder": placeholder,
                                "minimum_input_length": minimum_input_length})
        self.model = model
        self.find = find

    def format(self, model) -> tuple[int, str] | None:  # noqa: ANN001
        return (model.id, str(model)) if model is not None else None

    def get_one(self, pk: object):
        text = str(pk).strip()
        return db.session.get(self.model, int(text)) if text.isdigit() and len(text) < 10 \
            else None

    def get_list(self, query: str, offset: int = 0, limit: int = 10) -> list:
        limit = max(1, min(int(limit or 10), MAX_PAGE))
        offset = max(0, min(int(offset or 0), 10 * MAX_PAGE))
        return self.find(query or "", limit=limit, offset=offset)


def persons(name: str) -> DeskLookup:
    return DeskLookup(name, Person, search.find_persons, minimum_input_length=2,
                      placeholder="Type a name, e-mail address or phone number…")


def groups(name: str) -> DeskLookup:
    return DeskLookup(name, PersonGroup, search.find_groups, minimum_input_length=0,
                      placeholder="Type a group's name…")


def cis(name: str) -> DeskLookup:
    return DeskLookup(name, ConfigurationItem, worklist.search_cis,
                      minimum_input_length=0, placeholder="Type a CI's name…")


def assets(name: str) -> DeskLookup:
    return DeskLookup(name, Asset, worklist.search_assets, minimum_input_length=0,
                      placeholder="Type an asset's tag or description…")


class LookupField(AjaxSelectField):
    """One record, searched as you type; an id that names no record is refused."""

    def pre_validate(self, form) -> None:  # noqa: ANN001
        if self.data is None and self._formdata:
            raise ValidationError("Not a valid choice.")
        super().pre_validate(form)


class LookupMultipleField(AjaxSelectMultipleField):
    """Several records, searched as you type."""
