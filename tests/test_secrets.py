"""The production server refuses to start without a real SECRET_KEY."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.server import ROOT, free_port


def start_production_server(tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("TEST_", "PYTEST_", "SECRET_KEY"))}
    environment.update(APP_ENV="production", PORT=str(free_port()),
                       DATABASE_URL=f"sqlite:///{tmp_path / 'desk.sqlite3'}", **env)
    return subprocess.run([sys.executable, str(ROOT / "wsgi.py")], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("secret", [None, "dev-only-change-me", "short"])
def test_production_refuses_the_development_or_a_weak_secret_key(tmp_path, secret):
    result = start_production_server(tmp_path, **({"SECRET_KEY": secret} if secret else {}))
    assert result.returncode != 0
    assert "Refusing to start: SECRET_KEY must be set" in result.stderr
    assert "Traceback" not in result.stderr


def test_development_and_tests_keep_working_without_one():
    from app import create_app

    assert create_app("development").config["SECRET_KEY"] == "dev-only-change-me"
    assert create_app("testing").secret_key
