"""`flask db upgrade` on an empty database gives exactly the models' schema."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.support import databases

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(params=["sqlite"] + (["postgresql"] if databases.postgres_admin_url() else []))
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    return databases.create_postgres_database()


def flask(*args, database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "wsgi",
           "ASYNC_MODE": "threading"}
    return subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


# SQLite cannot reflect the expression index on lower(email), so the comparison skips it
# there (PostgreSQL compares it); test_end_user_lookup_by_email_uses_an_index checks it.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_upgrade_gives_exactly_the_models_schema(empty_database):
    done = flask("db", "upgrade", database_url=empty_database)
    assert done.returncode == 0, done.stderr

    import app.models  # noqa: F401
    from app.extensions import db
    from app.models.types import in_schema_of

    url = empty_database
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "include_object": in_schema_of(engine.dialect.name)})
            diff = compare_metadata(context, db.metadata)
    finally:
        engine.dispose()
    assert diff == [], f"migrations differ from the models: {diff}"


def test_end_user_lookup_by_email_uses_an_index(empty_database):
    """Every chat request finds its end user by lower(email): no scan of the person table."""
    assert flask("db", "upgrade", database_url=empty_database).returncode == 0
    url = empty_database
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    engine = sa.create_engine(url)
    lookup = "SELECT id FROM person WHERE lower(email) = 'erin@example.org'"
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {lookup}"))
            else:
                conn.exec_driver_sql("SET enable_seqscan = off")  # the table is empty
                plan = " ".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {lookup}"))
    finally:
        engine.dispose()
    assert "ix_person_email_lower" in plan, plan


def test_migrations_have_a_single_head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(ROOT / "app" / "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_solved_before_search_uses_the_full_text_index():
    """PostgreSQL answers "solved before" from the GIN index on the stored search document
    (not a scan of every SR's text), which the database fills from the SR's texts."""
    if not databases.postgres_admin_url():
        pytest.skip("PostgreSQL only: SQLite has no full-text search")
    url = databases.create_postgres_database()
    assert flask("db", "upgrade", database_url=url).returncode == 0

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SET enable_seqscan = off")  # the table is empty
            plan = " ".join(row[0] for row in conn.exec_driver_sql(
                "EXPLAIN SELECT id FROM service_request WHERE search_document @@ "
                "to_tsquery('english', 'vpn | drops')"))
            conn.exec_driver_sql(
                "INSERT INTO service_request (number, summary, solution, status, source, "
                "created_at, changed_at, version) VALUES ('SR1', 'VPN drops', 'Updated the "
                "client', 'RESOLVED', 'CHAT', now(), now(), 1)")
            document = conn.exec_driver_sql(
                "SELECT search_document::text FROM service_request").scalar()
    finally:
        engine.dispose()
    assert "ix_service_request_fulltext" in plan, plan
    assert document == "'client':5B 'drop':2A 'updat':3B 'vpn':1A"
