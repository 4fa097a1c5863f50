"""The package alone: its wheel, installed (not editable) into a fresh virtual environment
outside the checkout, migrates a database, loads the demo and serves the console and the
Socket.IO client from any folder, with no checkout and no npm.

The wheel is built from a copy of just the files the package is made of. Its dependencies are
not downloaded again: the fresh environment sees those of the test's own environment through
a path entry (after its own site-packages, and without that environment's editable install of
the checkout), and `pip check` proves the wheel's requirements are met by them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
import requests

from tests.realtime.peers import login_cookie
from tests.support.server import ROOT, free_port

pytestmark = pytest.mark.slow
PACKAGE_FILES = ["pyproject.toml", "README.md", "wsgi.py", "app"]


def _run(argv: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=180,
                            **kwargs)
    assert result.returncode == 0, f"{argv}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment with only the wheel installed in it."""
    tmp = tmp_path_factory.mktemp("package")
    source = tmp / "source"
    source.mkdir()
    for name in PACKAGE_FILES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
          "-w", tmp / "dist", source])
    wheel = next((tmp / "dist").glob("service_desk_chat-*.whl"))
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
          "-q", wheel])
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                                       "['purelib'])"]).stdout.strip())
    (purelib / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def _environment(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TEST_", "PYTEST_", "FLASK_", "PYTHON", "VIRTUAL_ENV"))}
    env.update({"APP_ENV": "production", "SECRET_KEY": "package-test-" + "p" * 32,
                "DATABASE_URL": f"sqlite:///{tmp / 'desk.sqlite3'}", "HOST": "127.0.0.1",
                "PORT": str(free_port()), "MAIL_WORKER_INTERVAL": "0"})
    return env


def test_the_wheel_holds_the_app_its_migrations_and_browser_libraries(installed, tmp_path):
    python = installed / "bin" / "python"
    where = _run([python, "-c", "import app, wsgi; print(app.__file__); print(wsgi.__file__)"],
                 cwd=tmp_path, env=_environment(tmp_path)).stdout.split()
    assert all(Path(path).is_relative_to(installed) for path in where), where
    package = Path(where[0]).parent
    assert sorted(p.name for p in (package / "migrations" / "versions").glob("0*.py")) == \
        sorted(p.name for p in (ROOT / "app" / "migrations" / "versions").glob("0*.py"))
    versions = json.loads((package / "vendor" / "versions.json").read_text())
    for name, entry in versions.items():
        assert (package / "vendor" / entry["license_file"]).read_text().strip(), name
    checked = _run([sys.executable, "-m", "pip", "--python", python, "check"])
    assert "No broken requirements" in checked.stdout


def test_installed_commands_migrate_and_serve_the_console_from_any_folder(installed,
                                                                         tmp_path):
    command = installed / "bin" / "service-desk-chat"
    env = _environment(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    migrated = _run([command, "db", "upgrade"], cwd=elsewhere, env=env)
    assert "Running upgrade  -> 0001" in migrated.stderr + migrated.stdout
    _run([command, "seed-demo"], cwd=elsewhere, env=env)

    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen([command, "serve"], cwd=elsewhere, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{env['PORT']}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                if requests.get(base + "/readyz", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "the installed server did not start"
            time.sleep(0.2)
        cookie = login_cookie(base, "alice")
        console = requests.get(base + "/", headers={"Cookie": cookie}, timeout=10)
        assert console.status_code == 200 and 'id="chat-queue-indicator"' in console.text
        for name in ("socket.io.min.js", "socket.io.esm.min.js", "chart.umd.min.js"):
            library = requests.get(f"{base}/vendor/{name}", timeout=10)
            assert library.status_code == 200
            assert library.content == (ROOT / "app" / "vendor" / "files" / name).read_bytes()
        assert "Socket.IO v4" in requests.get(base + "/vendor/socket.io.min.js", timeout=10).text
        assert requests.get(base + "/widget.js", timeout=10).status_code == 200
    finally:
        server.terminate()
        server.wait(10)
        log.close()
