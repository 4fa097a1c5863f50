"""Fixtures that build real objects: an app on a real database, and the demo desk (docs/domain.md).

Every database-backed test runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is
set (CI sets it). Live-server fixtures run ``python wsgi.py`` on a loopback port.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from tests.support import compiled, databases
from tests.support.server import LiveServer

compiled.install()  # each test builds its own app: its routes' URL builders compiled once

pytest_plugins = ["tests.support.chromium"]

BACKENDS = ["sqlite"] + (["postgresql"] if databases.postgres_admin_url() else [])

# Fixtures that start a real server process: a test using one is in the `live` tier.
LIVE_FIXTURES = {"live_server", "sqlite_live_server", "server", "quick_timers_server",
                 "widget_desk", "shared_desk", "agent_console"}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    """Tiers: `browser` (tests/browser), `live` (a real server process); modules mark `slow`
    and `fault` themselves. `make test-fast` runs what is in none of them.

    Under pytest-xdist (`-n`, `--dist loadgroup`), the fault suite runs in one worker (its
    package-wide private Redis and PostgreSQL cluster are started once, not once per
    worker), and so does each module whose tests share a module-scoped fixture. `make test`
    runs the tests marked `alone` (the fault suite, the cluster's rolling restart, the server's
    memory under a client that reads nothing) afterwards, one at a time, with nothing else
    loading the machine.

    A module marked `one_backend` proves something the database cannot change (SMTP's TLS,
    the S3 server, HTTP headers, the login form): it runs on SQLite only, its PostgreSQL
    copies are deselected."""
    repeated = []
    for item in items:
        if "browser" in item.path.parts:
            item.add_marker(pytest.mark.browser)
        if LIVE_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.live)
        if item.get_closest_marker("fault"):
            item.add_marker(pytest.mark.xdist_group("fault"))
            item.add_marker(pytest.mark.alone)
        elif _uses_a_module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.path.relative_to(config.rootpath)
                                                    .as_posix()))
        if item.get_closest_marker("one_backend") and "postgresql" in _backend_params(item):
            repeated.append(item)
    if repeated:
        config.hook.pytest_deselected(items=repeated)
        items[:] = [item for item in items if item not in set(repeated)]


def _uses_a_module_fixture(item) -> bool:
    """Whether the test shares a module-scoped fixture (a cluster, a live server, a browser's
    desk): its module then runs in one worker, which sets the fixture up once."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(defs and defs[-1].scope == "module"
               for name, defs in info.name2fixturedefs.items() if name in item.fixturenames)


def _backend_params(item) -> set:
    callspec = getattr(item, "callspec", None)
    return {value for value in callspec.params.values() if isinstance(value, str)} \
        if callspec else set()


def pytest_sessionstart(session):
    """A configured service that cannot be reached fails the run; it is never skipped."""
    url = databases.postgres_admin_url()
    if url:
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("select 1"))
        except Exception as exc:  # noqa: BLE001
            raise pytest.UsageError(f"TEST_DATABASE_URL is set but unreachable: {exc}") from exc
        finally:
            engine.dispose()
    redis_url = os.environ.get("TEST_REDIS_URL")
    if redis_url:
        import redis

        try:
            redis.Redis.from_url(redis_url, socket_timeout=3).ping()
        except Exception as exc:  # noqa: BLE001
            raise pytest.UsageError(f"TEST_REDIS_URL is set but unreachable: {exc}") from exc


def pytest_sessionfinish(session, exitstatus):
    databases.drop_created_databases()


@pytest.fixture(scope="session")
def _postgres_url():
    return databases.create_postgres_database() if databases.postgres_admin_url() else None


@pytest.fixture(scope="session")
def _sqlite_templates(tmp_path_factory) -> dict[str, str]:
    """Two SQLite files made once per run: the models' tables empty, and the same with the
    demo desk. A test's database is a copy of one (a file copy, not create_all and the demo's
    inserts again for each of hundreds of tests)."""
    from app import create_app, demo
    from app.extensions import db

    folder = tmp_path_factory.mktemp("sqlite-templates")
    paths = {"empty": str(folder / "empty.sqlite3"), "desk": str(folder / "desk.sqlite3")}
    for kind, path in paths.items():
        application = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
        with application.app_context():
            db.create_all()
            if kind == "desk":
                demo.seed_demo()
            db.session.remove()
            db.engine.dispose()
        # The last connection's close folded the write-ahead log into the file, which alone
        # is copied.
        assert not os.path.exists(path + "-wal"), path
    return paths


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path, _postgres_url, _sqlite_templates):
    """An empty database of each configured kind (on SQLite, with the demo desk already in it
    when the test asks for `desk`, which then finds it there)."""
    if request.param == "sqlite":
        path = tmp_path / "desk.sqlite3"
        kind = "desk" if "desk" in request.fixturenames else "empty"
        shutil.copyfile(_sqlite_templates[kind], path)
        return f"sqlite:///{path}"
    return _postgres_url


@pytest.fixture
def app(database_url):
    from app import create_app
    from app.extensions import db

    application = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url)
    compiled.share_templates(application)

    @application.before_request
    def _each_request_finds_its_own_user():
        # The test keeps one app context pushed, so `g` outlives requests: without this,
        # Flask-Login would hand every test client the user it loaded first.
        from flask import g

        g.pop("_login_user", None)

    if not database_url.startswith("sqlite"):
        with application.app_context():
            _empty_schema(db)
    ctx = application.app_context()
    ctx.push()
    yield application
    db.session.remove()
    ctx.pop()
    with application.app_context():
        db.engine.dispose()


def _empty_schema(db) -> None:
    """The models' tables, empty. PostgreSQL keeps its tables between tests and empties them
    (ids restart, so SR numbers are predictable); anything else gets them created (the `app`
    fixture's SQLite database is already a fresh copy of a template)."""
    if db.engine.dialect.name != "postgresql":
        db.drop_all()
        db.create_all()
        return
    existing = set(sa.inspect(db.engine).get_table_names())
    if not set(db.metadata.tables) <= existing:
        db.drop_all()
        db.create_all()
        return
    # DELETE, children first, and every sequence back to its start: a test leaves a few rows,
    # and TRUNCATE of every table (new files for each) cost half a second per test.
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
        conn.execute(sa.text(
            "SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false) "
            "FROM pg_sequences WHERE schemaname = current_schema()"))


@dataclass
class DemoDesk:
    alice: object
    bob: object
    maria: object
    hardware: object
    software: object
    network: object


@pytest.fixture
def desk(app):
    """The demo desk: queues Hardware/Software/Network, alice, bob, maria (loaded here on
    PostgreSQL; on SQLite the database was copied with it, and loading again adds nothing)."""
    from app import demo
    from app.extensions import db
    from app.models import PersonGroup, User

    demo.seed_demo()

    def user(name):
        return db.session.scalars(select(User).where(User.username == name)).one()

    def group(name):
        return db.session.scalars(select(PersonGroup).where(PersonGroup.name == name)).one()

    return DemoDesk(alice=user("alice"), bob=user("bob"), maria=user("maria"),
                    hardware=group("Hardware"), software=group("Software"),
                    network=group("Network"))


@pytest.fixture
def receiver():
    """A webhook receiver: a real HTTP server on a loopback port (tests/integration)."""
    from tests.integration.receiver import Receiver

    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def client(app):
    return app.test_client()


def seeded_database(kind: str, tmp_path) -> str:
    """A file or PostgreSQL database migrated to head with the demo loaded (for live servers)."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    else:
        url = databases.create_postgres_database()
    load_demo(url)
    return url


def load_demo(url: str) -> None:
    """Create the schema of an empty database and load the demo desk into it."""
    from app import create_app, demo
    from app.extensions import db

    application = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with application.app_context():
        db.create_all()
        demo.seed_demo()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(params=BACKENDS)
def live_server(request, tmp_path):
    """``python wsgi.py`` (eventlet) on a free loopback port with the demo desk."""
    url = seeded_database(request.param, tmp_path)
    server = LiveServer(url, log_path=tmp_path / "server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sqlite_live_server(tmp_path):
    """A live server on SQLite only (browser tests, where one backend proves the screen)."""
    url = seeded_database("sqlite", tmp_path)
    server = LiveServer(url, log_path=tmp_path / "server.log")
    server.start()
    yield server
    server.stop()
