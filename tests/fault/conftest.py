"""Private instances for the fault suite: its own redis-server and its own PostgreSQL cluster
(initdb + pg_ctl in a temporary directory), on free loopback ports, which the tests stop and
start at will; never the shared ones. Two server processes use them."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import load_demo
from tests.support.private_services import PrivatePostgres, PrivateRedis
from tests.support.server import LiveServer


@pytest.fixture(scope="package")
def redis_instance():
    instance = PrivateRedis().start()
    yield instance
    instance.stop()


@pytest.fixture(scope="package")
def postgres_instance():
    instance = PrivatePostgres().start()
    yield instance
    instance.remove()


@pytest.fixture(scope="package")
def desk_database(postgres_instance):
    """The demo desk on the private PostgreSQL."""
    url = postgres_instance.create_database()
    load_demo(url)
    return url


@pytest.fixture(scope="package")
def two_servers(desk_database, redis_instance, tmp_path_factory):
    """Processes A and B on the private PostgreSQL and Redis, beating every second and
    checking delivery every second."""
    tmp = tmp_path_factory.mktemp("fault")
    env = {"SOCKETIO_MESSAGE_QUEUE": redis_instance.url,
           "SOCKETIO_CHANNEL": f"sdc-fault-{uuid.uuid4().hex}",
           "PRESENCE_HEARTBEAT": "1", "REALTIME_SWEEP_INTERVAL": "1"}
    servers = [LiveServer(desk_database, env=env, log_path=tmp / f"server-{name}.log")
               for name in ("a", "b")]
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def both_up(two_servers, redis_instance, postgres_instance):
    """Every test starts with both processes, Redis and PostgreSQL running."""
    for server in two_servers:
        if server.process is None or server.process.poll() is not None:
            server.stop()
            server.start()
    return two_servers
