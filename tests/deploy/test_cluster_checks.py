"""`make cluster` refuses to start on what it cannot use, and says what to do."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.deploy.support import SCRIPT
from tests.support import databases
from tests.support.server import ROOT


def _cluster(tmp_path, **settings) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST_"))}
    env.update(CLUSTER_DIR=str(tmp_path), **settings)
    return subprocess.run([sys.executable, str(SCRIPT)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def test_sqlite_is_not_the_production_shape(tmp_path):
    done = _cluster(tmp_path, DATABASE_URL="sqlite:///desk.sqlite3",
                    SOCKETIO_MESSAGE_QUEUE="redis://127.0.0.1:6379/0")
    assert done.returncode == 2
    assert "DATABASE_URL must name a PostgreSQL database" in done.stderr


def test_an_unreachable_database_is_named(tmp_path):
    done = _cluster(tmp_path, DATABASE_URL="postgresql://desk:hunter2@127.0.0.1:9/desk",
                    SOCKETIO_MESSAGE_QUEUE="redis://127.0.0.1:6379/0")
    assert done.returncode == 2
    assert "cannot reach the database postgresql+psycopg://desk:***@127.0.0.1:9/desk" in \
        done.stderr
    assert "hunter2" not in done.stderr + done.stdout
    assert not (tmp_path / "cluster.json").exists()  # nothing was started


@pytest.mark.skipif(not databases.postgres_admin_url(), reason="needs TEST_DATABASE_URL")
def test_an_unreachable_redis_is_named(tmp_path):
    done = _cluster(tmp_path, DATABASE_URL=databases.postgres_admin_url(),
                    SOCKETIO_MESSAGE_QUEUE="redis://:hunter2@127.0.0.1:9/0")
    assert done.returncode == 2
    assert "cannot reach Redis at redis://***@127.0.0.1:9/0" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout
