"""The cost of webhooks: message rate with one receiver on every event against none, same run.

    .venv/bin/python -m bench.webhooks                       # SQLite, K=20, M=100, 3 pairs
    .venv/bin/python -m bench.webhooks --postgres postgresql://postgres@127.0.0.1:5432/postgres

Each pair runs the real server (``python wsgi.py``) twice on a fresh database with the same
load (K chats, each end user sending M messages in turn to its agent, bench/load.py): once
with no webhook, once with one webhook subscribed to every event whose receiver (a process of
its own, answering 200 at once) is on loopback. The server's own sender delivers (woken by
each commit that wrote deliveries); the run then waits for the outbox to drain and reports
how long that took after the last message. The ratio is rate with / rate without; the pairs
alternate their order and the medians are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import sqlalchemy as sa

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import load, servers  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RECEIVER = """
import sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
count = 0
lock = threading.Lock()
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        global count
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with lock:
            count += 1
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def do_GET(self):
        body = str(count).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def _register_webhook(database_url: str, url: str) -> None:
    code = ("from app import create_app\nfrom app.integration import webhooks\n"
            f"app = create_app('testing', SQLALCHEMY_DATABASE_URI={database_url!r})\n"
            f"with app.app_context():\n    webhooks.add_webhook({url!r}, "
            "secret='bench-secret-0123456789')\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def _backlog(database_url: str) -> int:
    engine = sa.create_engine(servers._psycopg(database_url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(
                "SELECT count(*) FROM webhook_delivery WHERE status IN ('PENDING', 'SENDING')"
            )).scalar() or 0)
    finally:
        engine.dispose()


def one_run(args, workdir: Path, *, hooked: bool) -> dict:
    if args.postgres:
        url = servers.create_postgres_database(args.postgres)
    else:
        folder = workdir / f"run-{time.monotonic_ns()}"
        folder.mkdir()
        url = servers.sqlite_url(folder)
    logins, _ = servers.prepare_database(url, agents=max(1, args.chats // 5))
    receiver = None
    env = {"WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOK_WORKER_INTERVAL": "1"}
    if hooked:
        port = servers.free_port()
        receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port)])
        _register_webhook(url, f"http://127.0.0.1:{port}/hook")
    app = servers.app_process(url, workdir, extra_env=env)
    try:
        app.start()
        run = asyncio.run(load.drive_app([app.url], chats=args.chats, messages=args.messages,
                                         agents=logins, timeout=args.timeout,
                                         label="webhook" if hooked else "none"))
        ended = time.monotonic()
        drained, delivered = None, None
        if hooked:
            while _backlog(url) and time.monotonic() - ended < 120:
                time.sleep(0.1)
            drained = round(time.monotonic() - ended, 2)
            delivered = int(requests.get(f"http://127.0.0.1:{port}/", timeout=5).text)
        return {"hooked": hooked, "rate": round(run.rate, 1), "p99_ms": run.percentile(99),
                "lost": run.lost, "drained_after_s": drained, "delivered": delivered}
    finally:
        app.stop()
        if receiver is not None:
            receiver.terminate()
            receiver.wait(10)
        if args.postgres:
            servers.drop_postgres_database(args.postgres, url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="PostgreSQL admin URL (default: SQLite)")
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "webhooks.json"))
    args = parser.parse_args(argv)
    servers.raise_fd_limit()
    workdir = Path(tempfile.mkdtemp(prefix="sdc-webhooks-"))
    rows = []
    for pair in range(args.pairs):
        order = (False, True) if pair % 2 == 0 else (True, False)
        runs = {hooked: one_run(args, workdir, hooked=hooked) for hooked in order}
        ratio = runs[True]["rate"] / runs[False]["rate"] if runs[False]["rate"] else None
        rows.append({"none": runs[False], "webhook": runs[True], "ratio": round(ratio, 3)})
        print(f"pair {pair + 1}: none {runs[False]['rate']} msg/s, one webhook on every "
              f"event {runs[True]['rate']} msg/s (ratio {ratio:.2f}), "
              f"{runs[True]['delivered']} deliveries, outbox empty "
              f"{runs[True]['drained_after_s']} s after the last message", flush=True)
    backend = "PostgreSQL" if args.postgres else "SQLite"
    median = statistics.median(row["ratio"] for row in rows)
    print("\n| scenario | msgs/s, no webhook | msgs/s, one webhook on every event | ratio "
          "| outbox empty after |\n|---|---:|---:|---:|---:|\n"
          + "\n".join(f"| {backend}, K={args.chats}, M={args.messages}, pair {n + 1} "
                      f"| {row['none']['rate']} | {row['webhook']['rate']} | {row['ratio']} "
                      f"| {row['webhook']['drained_after_s']} s |" for n, row in enumerate(rows))
          + f"\n\nmedian ratio {median:.2f}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"backend": backend, "chats": args.chats,
                                           "messages": args.messages, "pairs": rows,
                                           "median_ratio": median}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
