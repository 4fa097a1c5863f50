"""Where an index decides whether a page stays fast on a desk with years of data, the plan of
the very SQL the page sends is checked (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN).

The desk is filled by bench/large_desk.py at a small scale (a few thousand SRs, analysed, so
that the planners choose as they do on a large desk); what is checked is how the database
would read, which is what still holds at a million rows (bench/volume.py measures that).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app.desk import search, stats
from app.extensions import db
from app.models import Chat, ChatStatus, Person, ServiceRequest, StatusTally
from tests.conftest import BACKENDS
from tests.support import databases
from tests.support.accounts import sign_in
from tests.support.sql import full_scans, plan, recorded

ROOT = Path(__file__).resolve().parents[1]
BIG_TABLES = {"service_request", "chat", "chat_message", "person"}

pytestmark = pytest.mark.slow  # fills and migrates two databases
WAITING, ACTIVE = 20, 10


@pytest.fixture(scope="module", params=BACKENDS)
def filled_app(request, tmp_path_factory):
    """An app on a small large desk: migrated, the demo loaded, filled, analysed."""
    from app import create_app

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('filled') / 'desk.sqlite3'}"
    else:
        url = databases.create_postgres_database()
    env = {**os.environ, "ASYNC_MODE": "threading"}
    done = subprocess.run(
        [sys.executable, "-m", "bench.large_desk", url, "--scale", "0.003",
         "--waiting", str(WAITING), "--active", str(ACTIVE)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    application = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture
def filled(filled_app):
    with filled_app.app_context():
        yield filled_app
        db.session.remove()


@pytest.fixture
def manager(filled):
    client = filled.test_client()
    sign_in(client, "maria")
    return client


def test_the_fill_is_a_desk_at_steady_state(filled):
    count = db.session.scalar
    srs = count(select(func.count(ServiceRequest.id)))
    assert srs == count(select(func.count(Chat.id))) >= 3000
    waiting = count(select(func.count(Chat.id)).where(Chat.status == ChatStatus.WAITING))
    active = count(select(func.count(Chat.id)).where(Chat.status == ChatStatus.ACTIVE))
    assert (waiting, active) == (WAITING, ACTIVE)
    # Every chat's agent is an agent of the chat's queue.
    strangers = db.session.execute(text(
        "SELECT count(*) FROM chat JOIN user_account u ON u.id = chat.agent_id WHERE NOT EXISTS "
        "(SELECT 1 FROM person_group_member m WHERE m.person_id = u.person_id "
        "AND m.group_id = chat.queue_id)")).scalar()
    assert strangers == 0
    # The status tally was rebuilt from the filled SRs.
    tally = dict(db.session.execute(
        select(StatusTally.status, func.sum(StatusTally.delta)).group_by(StatusTally.status)).all())
    direct = dict(db.session.execute(
        select(ServiceRequest.status, func.count()).group_by(ServiceRequest.status)).all())
    assert {str(k): int(v) for k, v in tally.items()} == {str(k): v for k, v in direct.items()}


def _list_query(manager, url: str):
    with recorded(db.engine) as seen:
        assert manager.get(url).status_code == 200
    pages = [s for s in seen if s.touches("service_request") and "LIMIT" in s.sql]
    assert len(pages) == 1, [s.sql for s in seen]
    # No "page 1 of 50,000": nothing counts the SRs.
    assert not [s for s in seen if "count(" in s.sql.lower() and s.touches("service_request")]
    return pages[0]


def _sorted_by_an_index(steps: list[str]) -> bool:
    return not any("TEMP B-TREE FOR ORDER BY" in step or step.lstrip(" ->").startswith("Sort")
                   for step in steps)


@pytest.mark.parametrize("url", [
    "/admin/servicerequest/",  # newest change first
    "/admin/servicerequest/?flt0_status_equals=CLOSED",
    "/admin/servicerequest/?flt0_status_equals=QUEUED",
    "/admin/servicerequest/?sort=2",  # by priority
])
def test_sr_list_pages_come_in_index_order_and_count_nothing(manager, url):
    steps = plan(db.engine, _list_query(manager, url))
    assert _sorted_by_an_index(steps), steps


def test_an_sr_number_is_looked_up_in_its_index(manager):
    steps = " ".join(plan(db.engine, _list_query(manager, "/admin/servicerequest/?search=SR1500")))
    # SQLite names the index of a unique constraint itself.
    assert "uq_service_request_number" in steps or "(number=?)" in steps, steps


def test_search_words_use_the_trigram_indexes_on_postgresql(manager):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite reads the tables (the same answers: tests/desk/test_search.py)")
    steps = " ".join(plan(db.engine, _list_query(manager, "/admin/servicerequest/?search=zz9")))
    assert "ix_service_request_summary_trgm" in steps, steps
    with recorded(db.engine) as seen:
        list(db.session.scalars(select(Person).where(search.persons_matching("garcia"))))
    steps = " ".join(plan(db.engine, seen[0]))
    for column in ("display_name", "email", "phone"):
        assert f"ix_person_{column}_trgm" in steps, steps


def test_dashboard_never_reads_a_whole_table(filled):
    with recorded(db.engine) as seen:
        figures = stats.dashboard()
    assert sum(figures["srs_by_status_all"].values()) >= 3000
    for statement in seen:
        assert full_scans(db.engine, statement, BIG_TABLES) == [], statement.sql
    abandoned = [s for s in seen if "chat.closed_at" in s.sql]
    assert abandoned and "ix_chat_status_closed" in " ".join(plan(db.engine, abandoned[0]))
