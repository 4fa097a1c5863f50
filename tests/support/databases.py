"""Real databases for the tests: a SQLite file, or a private PostgreSQL database per run.

TEST_DATABASE_URL names a PostgreSQL server; the suite creates its own databases on it (so
parallel runs never meet) and drops them at the end. A set URL that cannot be reached is an
error, never a skip.
"""

from __future__ import annotations

import itertools
import os
import uuid

import sqlalchemy as sa

_counter = itertools.count()
_created: list[str] = []


def postgres_admin_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def create_postgres_database() -> str:
    """Create an empty database on the TEST_DATABASE_URL server; returns its URL."""
    admin_url = postgres_admin_url()
    assert admin_url, "TEST_DATABASE_URL is not set"
    name = f"sdc_test_{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    _created.append(name)
    return sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_created_databases() -> None:
    admin_url = postgres_admin_url()
    if not admin_url or not _created:
        return
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for name in _created:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()
    _created.clear()
