"""``make cluster``: the production shape on one machine, in the foreground.

nginx with the production configuration (deploy/nginx/service-desk-chat.conf) in front of N
app processes (``python -m wsgi``), the outbox senders as processes of their own, on the
PostgreSQL of DATABASE_URL and the Redis of SOCKETIO_MESSAGE_QUEUE. It migrates the database
once, starts everything, waits until every process is ready, prints the URL, and then:

- Ctrl-C (or SIGTERM) stops everything;
- SIGHUP restarts the app processes one by one, each ready again before the next stops (a
  rolling restart, as for an upgrade), then the senders;
- a process that dies is started again.

Settings (environment): DATABASE_URL and SOCKETIO_MESSAGE_QUEUE (required); CLUSTER_PORT
(nginx's port on 127.0.0.1, default 8080); CLUSTER_PROCESSES (default 2); CLUSTER_APP_PORT
(first app port; default: free ports); CLUSTER_DIR (configuration, logs, pids; default
instance/cluster); CLUSTER_SEED_DEMO=true loads the demo desk. Every other setting
(SECRET_KEY, WIDGET_ALLOWED_ORIGINS, ...) reaches the app processes unchanged.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE_CONF = ROOT / "deploy" / "nginx" / "service-desk-chat.conf"
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
# Outbox senders, one process each: (name, `flask --app wsgi` arguments, the settings that
# turn the same sender off inside the app processes). Another sender is one more line.
SENDERS = [
    ("mail", ["send-mail", "--loop"], {"MAIL_WORKER_INTERVAL": "0"}),
    ("webhook", ["send-webhooks", "--loop"], {"WEBHOOK_WORKER_INTERVAL": "0"}),
]
SETTLE = 4.0  # seconds between two restarts: > nginx's fail_timeout for a restarted process


def fail(message: str) -> None:
    print(f"cluster: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


class Process:
    """One child process; its output goes to our stdout (prefixed) and to DIR/<name>.log."""

    lock = threading.Lock()

    def __init__(self, name: str, argv: list[str], env: dict, run_dir: Path,
                 port: int | None = None) -> None:
        self.name, self.argv, self.env, self.port = name, argv, env, port
        self.log_path = run_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> None:
        self.popen = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_die_with_parent)
        threading.Thread(target=self._pump, args=(self.popen,), daemon=True).start()

    def _pump(self, popen: subprocess.Popen) -> None:
        with open(self.log_path, "ab") as log:
            for line in popen.stdout:
                log.write(line)
                log.flush()
                with Process.lock:
                    sys.stdout.write(f"{self.name:>9} | {line.decode(errors='replace')}")
                    sys.stdout.flush()

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
        if not self.alive:
            return
        self.popen.send_signal(sig)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False


def _die_with_parent() -> None:
    """Children are stopped with this script even when it is killed (Linux)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


# --- checks and configuration ------------------------------------------------------------

def check_backends(env: dict) -> None:
    database, redis_url = env.get("DATABASE_URL", ""), env.get("SOCKETIO_MESSAGE_QUEUE", "")
    if not database.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        fail("DATABASE_URL must name a PostgreSQL database, e.g. "
             "DATABASE_URL=postgresql://desk@127.0.0.1:5432/desk make cluster")
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        fail("SOCKETIO_MESSAGE_QUEUE must name a Redis server, e.g. "
             "SOCKETIO_MESSAGE_QUEUE=redis://127.0.0.1:6379/0 make cluster")
    import redis
    import sqlalchemy as sa

    url = sa.make_url(re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", database))
    engine = sa.create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - reported, then we stop
        fail(f"cannot reach the database {url.render_as_string(hide_password=True)}: "
             f"{str(exc).splitlines()[0]}\nStart PostgreSQL or correct DATABASE_URL.")
    finally:
        engine.dispose()
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        fail(f"cannot reach Redis at {re.sub(r'//[^@/]*@', '//***@', redis_url)}: {exc}\n"
             "Start Redis or correct SOCKETIO_MESSAGE_QUEUE.")


def find_nginx() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("cluster: installing nginx (apt-get install nginx)", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        return find_nginx()
    fail("nginx is not installed: run `sudo apt-get install nginx` (Debian/Ubuntu) and again.")
    raise AssertionError  # unreachable


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def render_site(app_ports: list[int], port: int, run_dir: Path) -> str:
    """The production site file with this machine's listen port, processes and log path."""
    text = SITE_CONF.read_text()
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=3s;\n"
                      for p in app_ports)
    replacements = [
        (r"(# app processes: begin[^\n]*\n).*?(\s*# app processes: end)", rf"\g<1>{servers}\2"),
        (r"\n    listen 80;[^\n]*", f"\n    listen 127.0.0.1:{port};"),
        (r"access_log /var/log/nginx/service-desk-chat.access.log",
         f"access_log {run_dir / 'nginx-access.log'}"),
    ]
    for pattern, replacement in replacements:
        text, count = re.subn(pattern, replacement, text, count=1, flags=re.S)
        if count != 1:
            fail(f"{SITE_CONF} no longer has the line that `{pattern}` finds")
    return text


def write_nginx_conf(run_dir: Path, site: str, temp_dir: Path) -> Path:
    (run_dir / "site.conf").write_text(site)
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    temps = "".join(f"    {kind}_temp_path {temp_dir / kind};\n"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = run_dir / "nginx.conf"
    conf.write_text(
        "# Written by deploy/cluster.py: private paths around the production site file.\n"
        f"{user}daemon off;\nworker_processes 1;\npid {run_dir / 'nginx.pid'};\n"
        f"error_log {run_dir / 'nginx-error.log'} warn;\n"
        "events { worker_connections 4096; }\n"
        f"http {{\n{temps}    include {run_dir / 'site.conf'};\n}}\n")
    return conf


def nginx_temp_dir() -> Path:
    """Temporary files of nginx's workers, which run as nobody when we are root."""
    path = Path(tempfile.mkdtemp(prefix="service-desk-nginx-"))
    if os.geteuid() == 0:
        shutil.chown(path, "nobody", "nogroup")
    return path


def environment(run_dir: Path) -> dict:
    env = dict(os.environ)
    env.update(APP_ENV="production", HOST="127.0.0.1", PYTHONUNBUFFERED="1",
               PROMETHEUS_MULTIPROC_DIR=str(run_dir / "metrics"))
    env.setdefault("TRUSTED_PROXIES", "1")  # nginx, and only nginx, is in front
    env.setdefault("RATELIMIT_STORAGE_URI", env.get("SOCKETIO_MESSAGE_QUEUE", "memory://"))
    if not env.get("SECRET_KEY"):
        key_file = run_dir / "secret_key"
        if not key_file.exists():
            key_file.write_text(os.urandom(32).hex())
            key_file.chmod(0o600)
        env["SECRET_KEY"] = key_file.read_text().strip()
        print(f"cluster: SECRET_KEY not set; using the one kept in {key_file} (set your own in "
              "production)", flush=True)
    env.pop("PORT", None)
    return env


# --- the cluster -------------------------------------------------------------------------

class Cluster:
    def __init__(self, run_dir: Path, processes: int, port: int, app_port: int | None) -> None:
        self.run_dir, self.port = run_dir, port
        self.env = environment(run_dir)
        app_env = dict(self.env)
        for _name, _args, off in SENDERS:
            app_env.update(off)
        ports = (list(range(app_port, app_port + processes)) if app_port
                 else free_ports(processes))
        self.apps = [Process(f"app-{i + 1}", [sys.executable, "-m", "wsgi"],
                             {**app_env, "PORT": str(p)}, run_dir, port=p)
                     for i, p in enumerate(ports)]
        self.senders = [Process(f"{name}-sender", FLASK + args, self.env, run_dir)
                        for name, args, _off in SENDERS]
        self.nginx: Process | None = None
        self.stopping = False
        self.rolling = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def run(self) -> int:
        check_backends(self.env)
        nginx = find_nginx()
        metrics_dir = Path(self.env["PROMETHEUS_MULTIPROC_DIR"])
        shutil.rmtree(metrics_dir, ignore_errors=True)  # figures of a previous run
        metrics_dir.mkdir(parents=True)
        self.command("migrate", ["db", "upgrade"])
        if os.environ.get("CLUSTER_SEED_DEMO", "").lower() in {"1", "true", "yes"}:
            self.command("seed-demo", ["seed-demo"])
        signal.signal(signal.SIGINT, self._stop)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGHUP, self._roll)
        temp_dir = nginx_temp_dir()
        try:
            for app in self.apps:
                app.start()
            for app in self.apps:
                self.wait_ready(app)
            for sender in self.senders:
                sender.start()
            conf = write_nginx_conf(self.run_dir, render_site(
                [a.port for a in self.apps], self.port, self.run_dir), temp_dir)
            self.nginx = Process("nginx", [nginx, "-p", str(self.run_dir), "-c", str(conf),
                                           "-e", str(self.run_dir / "nginx-error.log")],
                                 self.env, self.run_dir)
            self.nginx.start()
            self.write_state()
            print(f"Service Desk Chat cluster on {self.url}  ({len(self.apps)} app processes "
                  f"on ports {', '.join(str(a.port) for a in self.apps)}, "
                  f"{', '.join(s.name for s in self.senders)}, nginx; logs in {self.run_dir}). "
                  "Ctrl-C stops it; kill -HUP "
                  f"{os.getpid()} restarts the app processes one by one.", flush=True)
            return self.supervise()
        finally:
            self.stop_all()
            shutil.rmtree(temp_dir, ignore_errors=True)
            print("cluster: stopped.", flush=True)

    def command(self, name: str, args: list[str]) -> None:
        step = Process(name, FLASK + args, self.env, self.run_dir)
        step.start()
        if step.popen.wait() != 0:
            fail(f"`flask --app wsgi {' '.join(args)}` failed (see above)")

    def wait_ready(self, app: Process, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not app.ready():
            if not app.alive:
                fail(f"{app.name} exited with {app.popen.returncode} while starting")
            if time.monotonic() > deadline:
                fail(f"{app.name} was not ready within {timeout:.0f} s")
            time.sleep(0.2)

    def supervise(self) -> int:
        while not self.stopping:
            if self.rolling:
                self.rolling = False
                self.rolling_restart()
            if not self.nginx.alive:
                print(f"cluster: nginx exited with {self.nginx.popen.returncode}; stopping "
                      f"(see {self.run_dir / 'nginx-error.log'})", flush=True)
                return 1
            for process in self.apps + self.senders:
                if not process.alive and not self.stopping:
                    print(f"cluster: {process.name} exited with {process.popen.returncode}; "
                          "starting it again", flush=True)
                    self.replace(process, wait=False)
            time.sleep(0.2)
        return 0

    def replace(self, process: Process, *, wait: bool = True) -> None:
        old_pid = process.popen.pid if process.popen else None
        process.stop()
        if old_pid is not None:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(old_pid, self.env["PROMETHEUS_MULTIPROC_DIR"])
        process.start()
        if wait and process.port:
            self.wait_ready(process)
        self.write_state()

    def rolling_restart(self) -> None:
        for process in self.apps + self.senders:
            if self.stopping:
                return
            print(f"cluster: restarting {process.name}", flush=True)
            self.replace(process)
            print(f"cluster: {process.name} is back", flush=True)
            if process.port:
                time.sleep(SETTLE)  # nginx sends it traffic again before the next one stops
        print("cluster: rolling restart done", flush=True)

    def write_state(self) -> None:
        state = {"url": self.url, "supervisor_pid": os.getpid(),
                 "nginx_pid": self.nginx.popen.pid if self.nginx and self.nginx.popen else None,
                 "apps": [{"name": a.name, "port": a.port, "pid": a.popen.pid}
                          for a in self.apps if a.popen],
                 "senders": [{"name": s.name, "pid": s.popen.pid}
                             for s in self.senders if s.popen]}
        (self.run_dir / "cluster.json").write_text(json.dumps(state, indent=2))

    def _stop(self, *_) -> None:
        self.stopping = True

    def _roll(self, *_) -> None:
        self.rolling = True

    def stop_all(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        for process in self.senders + self.apps:
            process.stop()


def main() -> int:
    run_dir = Path(os.environ.get("CLUSTER_DIR") or ROOT / "instance" / "cluster").resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        processes = int(os.environ.get("CLUSTER_PROCESSES", "2"))
        port = int(os.environ.get("CLUSTER_PORT", "8080"))
        app_port = int(os.environ.get("CLUSTER_APP_PORT", "0")) or None
    except ValueError as exc:
        fail(f"CLUSTER_PROCESSES, CLUSTER_PORT and CLUSTER_APP_PORT are numbers: {exc}")
    if processes < 1:
        fail("CLUSTER_PROCESSES must be at least 1")
    return Cluster(run_dir, processes, port, app_port).run()


if __name__ == "__main__":
    sys.exit(main())
