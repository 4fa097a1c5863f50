"""The migration that adds the reports' chat figures fills them in for chats that ended before,
with the same values the desk writes when a chat ends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.test_migrations import empty_database, flask  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow

FIGURES = "SELECT id, first_response_at, message_count, sr_resolved_at FROM chat ORDER BY id"


def _chats_that_ended(url: str) -> list[tuple]:
    """A resolved chat with replies, a chat without a reply, an abandoned one and a live one,
    made through the desk's use cases; their figures as the desk wrote them."""
    from app import create_app, demo
    from app.desk import chats, requests
    from app.desk.chats import Sender
    from app.extensions import db
    from app.models import Chat, SenderRole, User

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        demo.seed_demo()
        bob = db.session.scalars(sa.select(User).where(User.username == "bob")).one()

        def asked() -> Chat:
            return chats.request_chat(name="Eve", email="eve@example.com", queue="Network",
                                      question="My VPN drops").chat

        resolved = asked()
        chats.accept_chat(resolved.id, bob)
        chats.post_message(resolved.id, Sender.agent(bob), "Let me look", "a1")
        chats.post_message(resolved.id, Sender.visitor(resolved), "Thanks", "v1")
        chats.post_message(resolved.id, Sender.agent(bob), "Try now", "a2")
        sr = resolved.service_request
        requests.update_service_request(sr.id, actor=bob, expected_version=sr.version,
                                        changes={"solution": "New profile."}, status="RESOLVED")
        chats.close_chat(resolved.id, by=SenderRole.AGENT, agent=bob)
        silent = asked()
        chats.accept_chat(silent.id, bob)
        chats.close_chat(silent.id, by=SenderRole.VISITOR)
        chats.abandon_chat(asked().id)
        chats.accept_chat(asked().id, bob)
        rows = [tuple(row) for row in db.session.execute(sa.text(FIGURES))]
        db.session.remove()
        db.engine.dispose()
    return rows


def test_backfill_gives_the_figures_the_desk_writes(empty_database):  # noqa: F811
    assert flask("db", "upgrade", database_url=empty_database).returncode == 0
    written = _chats_that_ended(empty_database)
    assert [row[2] for row in written] == [4, 1, 1, None]  # the greeting is not counted
    assert written[0][1] is not None and written[0][3] is not None
    assert written[1][1] is None and written[1][3] is None

    down = flask("db", "downgrade", "0011", database_url=empty_database)
    assert down.returncode == 0, down.stderr
    up = flask("db", "upgrade", database_url=empty_database)
    assert up.returncode == 0, up.stderr

    engine = sa.create_engine(empty_database)
    try:
        with engine.connect() as conn:
            backfilled = [tuple(row) for row in conn.execute(sa.text(FIGURES))]
    finally:
        engine.dispose()
    assert backfilled == written


def _roll_up(url: str) -> tuple[dict, list]:
    from app import create_app
    from app.desk import report_rollup

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as conn:
            cells = {key: cell.row() for key, cell in report_rollup.stored(conn).items()}
            facts = conn.execute(sa.text("SELECT id, report_facts FROM chat ORDER BY id")).all()
    finally:
        engine.dispose()
    return cells, [tuple(row) for row in facts]


def test_upgrade_counts_the_roll_up_the_desk_keeps(empty_database):  # noqa: F811
    assert flask("db", "upgrade", database_url=empty_database).returncode == 0
    _chats_that_ended(empty_database)
    kept, facts = _roll_up(empty_database)
    assert kept and all(text for _, text in facts)
    assert sum(row["requested"] for (scope, span, _, _), row in kept.items()
               if (scope, span) == ("desk", "day")) == 4

    down = flask("db", "downgrade", "0012", database_url=empty_database)
    assert down.returncode == 0, down.stderr
    up = flask("db", "upgrade", database_url=empty_database)
    assert up.returncode == 0, up.stderr
    assert _roll_up(empty_database) == (kept, facts)
