"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Index
from sqlalchemy.types import TypeDecorator

# Indexes that only one database builds carry its name here (Index.info).
ONLY_ON = "only_on"
# An index on an expression that the database prints back in its own words (casts, brackets):
# the schema comparison cannot match the texts, so its own test checks it.
EXPRESSION_INDEX = "expression_index"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def trigram_index(name: str, column: str) -> Index:
    """A pg_trgm GIN index on a text column: it serves ``column ILIKE '%words%'`` (search as
    you type, the admin's search box) on PostgreSQL, which no B-tree index can.

    Only PostgreSQL builds it; SQLite answers the same ILIKE by reading the table, which the
    desks that run on SQLite can afford.
    """
    return Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"},
                 info={ONLY_ON: "postgresql"}).ddl_if(dialect="postgresql")


def in_schema_of(dialect: str):
    """Alembic's ``include_object`` for a database of `dialect`: the schema comparison skips
    the indexes that only another database builds."""

    def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
        if type_ != "index":
            return True
        model = compare_to if reflected else obj
        if model is not None and model.info.get(EXPRESSION_INDEX):
            return False
        if reflected:
            return True
        return obj.info.get(ONLY_ON, dialect) == dialect

    return include_object
