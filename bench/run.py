"""Service Desk Chat benchmark: the real app against the bare Socket.IO floor, same run.

    .venv/bin/python -m bench.run --quick                       # under a minute, SQLite
    .venv/bin/python -m bench.run                               # the full table
    .venv/bin/python -m bench.run --postgres postgresql://postgres@127.0.0.1:5432/postgres \
        --redis redis://127.0.0.1:6379/0

Everything runs on loopback: servers are subprocesses (``python wsgi.py`` for the app, and
bench/floor_server.py for the floor), the load comes from one asyncio driver process. Each
scenario starts fresh servers on a fresh database; results go to stdout as a Markdown table
and to bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psutil

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import load, profiling, servers  # noqa: E402

CHATS_PER_AGENT = 5
RESULTS = Path(__file__).resolve().parent / "results"


# --- scenarios ---------------------------------------------------------------------------

class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="sdc-bench-"))
        self.results: dict = {"chat_runs": [], "repeats": [], "idle": [], "growth": []}
        self._pg_databases: list[str] = []

    # databases -------------------------------------------------------------------------
    def database(self, backend: str) -> str:
        if backend == "sqlite":
            return servers.sqlite_url(self.workdir)
        url = servers.create_postgres_database(self.args.postgres)
        self._pg_databases.append(url)
        return url

    def cleanup(self) -> None:
        for url in self._pg_databases:
            try:
                servers.drop_postgres_database(self.args.postgres, url)
            except Exception as exc:  # noqa: BLE001
                print(f"could not drop {url}: {exc}", file=sys.stderr)

    # one chat comparison -------------------------------------------------------------------
    def chat_pair(self, *, backend: str, processes: int, chats: int, messages: int,
                  name: str) -> tuple[load.ChatRun, load.ChatRun]:
        agents_needed = max(1, math.ceil(chats / CHATS_PER_AGENT))
        redis_url = self.args.redis if processes > 1 else None
        channel = f"bench-{uuid.uuid4().hex[:8]}"
        url = self.database(backend)
        logins, _ = servers.prepare_database(url, agents=agents_needed)
        apps = [servers.app_process(url, self.workdir, redis_url=redis_url, channel=channel,
                                    index=i) for i in range(processes)]
        try:
            for proc in apps:
                proc.start()
            spy = profiling.start(apps[0], _slug(name)) if self.args.profile else None
            app_run = asyncio.run(load.drive_app(
                [p.url for p in apps], chats=chats, messages=messages, agents=logins,
                timeout=self.args.timeout, label=f"app {name}",
                server_cpu=lambda: sum(p.cpu_seconds() for p in apps)))
            if spy is not None:
                self.results.setdefault("profiles", {})[name] = profiling.stop(spy)
        finally:
            for proc in apps:
                proc.stop()
        floors = [servers.floor_process(self.workdir, redis_url=redis_url,
                                        channel=f"floor-{channel}", index=i)
                  for i in range(processes)]
        try:
            for proc in floors:
                proc.start()
            floor_run = asyncio.run(load.drive_floor(
                [p.url for p in floors], chats=chats, messages=messages,
                agents=agents_needed, timeout=self.args.timeout, label=f"floor {name}",
                server_cpu=lambda: sum(p.cpu_seconds() for p in floors)))
        finally:
            for proc in floors:
                proc.stop()
        row = {"name": name, "backend": backend, "processes": processes,
               "app": app_run.summary(), "floor": floor_run.summary()}
        row["rate_ratio"] = _ratio(app_run.rate, floor_run.rate)
        row["p99_ratio"] = _ratio(app_run.percentile(99), floor_run.percentile(99))
        self.results["chat_runs"].append(row)
        _progress(f"{name}: app {app_run.rate:.0f} msg/s p99 {app_run.percentile(99)} ms, "
                  f"floor {floor_run.rate:.0f} msg/s p99 {floor_run.percentile(99)} ms, "
                  f"lost {app_run.lost}/{floor_run.lost}")
        return app_run, floor_run

    def repeated(self, backend: str, *, chats: int, messages: int, repeat: int) -> None:
        """The main comparison `repeat` times on `backend`; the targets use the medians."""
        label = "SQLite" if backend == "sqlite" else "PostgreSQL"
        name = f"{label}, 1 process, K={chats}"
        ratios = []
        for run in range(repeat):
            self.chat_pair(backend=backend, processes=1, chats=chats, messages=messages,
                           name=name if repeat == 1 else f"{name}, run {run + 1}")
            row = self.results["chat_runs"][-1]
            ratios.append((row["rate_ratio"], row["p99_ratio"]))
        self.results["repeats"].append({
            "name": name, "rate_ratios": [r for r, _ in ratios],
            "p99_ratios": [p for _, p in ratios],
            "median_rate_ratio": _median([r for r, _ in ratios]),
            "median_p99_ratio": _median([p for _, p in ratios])})

    # idle visitors ---------------------------------------------------------------------------
    def idle(self, counts: list[int], hold_seconds: float) -> None:
        top = max(counts)
        url = self.database("sqlite")
        _progress(f"idle: opening {top} waiting chats in the database")
        _, tokens = servers.prepare_database(url, agents=0, idle_visitors=top)
        for kind in ("app", "floor"):
            if kind == "app":
                # The waiting chats exist before the server starts, which counts their end
                # users as gone until they reconnect; a day's grace keeps the sweeper from
                # abandoning those not back yet, so this measures memory, not that storm.
                proc = servers.app_process(url, self.workdir,
                                           extra_env={"CHAT_ABANDON_GRACE": "86400"})
                auths = [{"visitor_token": token} for token in tokens]
            else:
                proc = servers.floor_process(self.workdir)
                auths = [{"visitor_token": str(i + 1)} for i in range(top)]
            proc.start()
            try:
                row = asyncio.run(self._idle_one(proc, auths, counts, hold_seconds))
            finally:
                proc.stop()
            row["server"] = kind
            self.results["idle"].append(row)
            _progress(f"idle {kind}: {row}")

    async def _idle_one(self, proc: servers.Process, auths: list[dict], counts: list[int],
                        hold_seconds: float) -> dict:
        warm = 20
        conns, failed = await load.hold_idle(proc.url, auths[:warm])
        await asyncio.sleep(1)
        base = proc.rss()
        row: dict = {"baseline_rss_mb": round(base / 2**20, 1), "points": []}
        held = warm
        try:
            for count in sorted(counts):
                t0 = time.perf_counter()
                more, more_failed = await load.hold_idle(proc.url, auths[held:count])
                connect_s = time.perf_counter() - t0
                conns += more
                failed += more_failed
                held = count
                await asyncio.sleep(hold_seconds)
                alive = sum(1 for c in conns if c.connected)
                rss = proc.rss()
                row["points"].append({
                    "connections": count, "alive_after_hold": alive, "failed": failed,
                    "rss_mb": round(rss / 2**20, 1),
                    "kb_per_connection": round((rss - base) / 1024 / max(1, count - warm), 1),
                    "connects_per_s": round((count - warm) / connect_s, 1) if connect_s else None,
                    "hold_s": hold_seconds,
                })
        finally:
            await asyncio.gather(*(c.close() for c in conns), return_exceptions=True)
        return row

    # latency growth --------------------------------------------------------------------------
    def growth(self, small: int, large: int, total: int) -> None:
        """p50/p99 at K=small and K=large, each sending about `total` messages in all."""
        low_app, low_floor = self.chat_pair(backend="sqlite", processes=1, chats=small,
                                            messages=max(3, total // small),
                                            name=f"growth K={small}")
        high_app, high_floor = self.chat_pair(backend="sqlite", processes=1, chats=large,
                                              messages=max(3, total // large),
                                              name=f"growth K={large}")
        row = {"small": small, "large": large}
        for p in (50, 99):
            app_growth = _ratio(high_app.percentile(p), low_app.percentile(p))
            floor_growth = _ratio(high_floor.percentile(p), low_floor.percentile(p))
            row[f"app_p{p}_growth"] = app_growth
            row[f"floor_p{p}_growth"] = floor_growth
            row[f"relative_p{p}_growth"] = _ratio(app_growth, floor_growth)
        self.results["growth"].append(row)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b in (None, 0):
        return None
    return round(a / b, 2)


def _median(values: list) -> float | None:
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return round((values[middle - 1] + values[middle]) / 2, 2)


def _progress(text: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", file=sys.stderr, flush=True)


# --- report ------------------------------------------------------------------------------

def machine() -> dict:
    load1, load5, _ = os.getloadavg()
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": psutil.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
        "load_average_at_start": [round(load1, 2), round(load5, 2)],
    }


def markdown(results: dict) -> str:
    lines = []
    if results["chat_runs"]:
        lines += ["| scenario | server | msgs/s | p50 ms | p95 ms | p99 ms | lost | "
                  "rate app/floor | p99 app/floor | server CPU |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in results["chat_runs"]:
        for kind in ("app", "floor"):
            s = row[kind]
            ratios = (f"{row['rate_ratio']} | {row['p99_ratio']}" if kind == "app"
                      else " | ")
            lines.append(f"| {row['name']} | {kind} | {s['msgs_per_s']} | {s['p50_ms']} | "
                         f"{s['p95_ms']} | {s['p99_ms']} | {s['lost']} | {ratios} | "
                         f"{s['server_cpu_share']} |")
    lines.append("")
    apps = [row["app"] for row in results["chat_runs"] if row["app"]["chat_requests_per_s"]]
    if apps:
        lines.append("| scenario | chat requests/s (HTTP POST, 8 at once) | accepts/s (20 at a time) |")
        lines.append("|---|---:|---:|")
        for row in results["chat_runs"]:
            s = row["app"]
            lines.append(f"| {row['name']} | {s['chat_requests_per_s']} | {s['accepts_per_s']} |")
        lines.append("")
    if results["idle"]:
        lines.append("| idle visitor connections | server | held after hold | failed | RSS MB | "
                     "KB per connection | connects/s |")
        lines.append("|---:|---|---:|---:|---:|---:|---:|")
        for row in results["idle"]:
            for point in row["points"]:
                lines.append(f"| {point['connections']} | {row['server']} | "
                             f"{point['alive_after_hold']} | {point['failed']} | "
                             f"{point['rss_mb']} | {point['kb_per_connection']} | "
                             f"{point['connects_per_s']} |")
        lines.append("")
    for repeats in results.get("repeats", []):
        if len(repeats["rate_ratios"]) < 2:
            continue
        lines.append(f"| {repeats['name']}, {len(repeats['rate_ratios'])} runs | each run | "
                     "median |")
        lines.append("|---|---|---:|")
        lines.append(f"| rate app/floor | {', '.join(map(str, repeats['rate_ratios']))} | "
                     f"{repeats['median_rate_ratio']} |")
        lines.append(f"| p99 app/floor | {', '.join(map(str, repeats['p99_ratios']))} | "
                     f"{repeats['median_p99_ratio']} |")
        lines.append("")
    for row in results["growth"]:
        lines.append(f"| latency growth K={row['small']} → K={row['large']} | app | floor | "
                     "app growth / floor growth |")
        lines.append("|---|---:|---:|---:|")
        for p in (50, 99):
            lines.append(f"| p{p} | ×{row[f'app_p{p}_growth']} | ×{row[f'floor_p{p}_growth']} | "
                         f"{row[f'relative_p{p}_growth']} |")
        lines.append("")
    verdicts = targets(results)
    if verdicts:
        lines.append("| target | result | met |")
        lines.append("|---|---|---|")
        lines += [f"| {name} | {result} | {'yes' if ok else '**no**'} |"
                  for name, result, ok in verdicts]
        lines.append("")
    return "\n".join(lines)


def targets(results: dict) -> list[tuple[str, str, bool]]:
    """The steady-state targets, judged from this run's results (only those it measured)."""
    verdicts = []
    for repeats in results.get("repeats", []):
        rate, p99 = repeats["median_rate_ratio"], repeats["median_p99_ratio"]
        runs = len(repeats["rate_ratios"])
        where = f" (median of {runs} runs)" if runs > 1 else ""
        verdicts.append((f"{repeats['name']}: rate ≥ 0.5× the floor's", f"{rate}×{where}",
                         rate is not None and rate >= 0.5))
        verdicts.append((f"{repeats['name']}: p99 ≤ 3× the floor's", f"{p99}×{where}",
                         p99 is not None and p99 <= 3))
    if results["chat_runs"]:
        lost = sum(row["app"]["lost"] for row in results["chat_runs"])
        sent = sum(row["app"]["sent"] for row in results["chat_runs"])
        verdicts.append(("nothing lost (every scenario)", f"{lost} lost of {sent} sent",
                         lost == 0))
    for row in results["idle"]:
        if row["server"] == "app":
            top = max(row["points"], key=lambda point: point["connections"])
            verdicts.append((f"{top['connections']:,} idle visitor connections held by one "
                             "process", f"{top['alive_after_hold']:,} still connected after "
                             f"{top['hold_s']} s, {top['kb_per_connection']} KB each",
                             top["alive_after_hold"] == top["connections"]))
    for row in results["growth"]:
        worst = max(row["relative_p50_growth"] or 0, row["relative_p99_growth"] or 0)
        verdicts.append((f"latency growth K={row['small']} → K={row['large']} ≤ 3× the floor's",
                         f"{row['relative_p50_growth']}× (p50), {row['relative_p99_growth']}× "
                         "(p99)", worst <= 3))
    for row in results["chat_runs"]:
        if row["processes"] > 1:
            app = row["app"]
            verdicts.append((f"{row['name']}: every message delivered",
                             f"{app['delivered']} of {app['sent']}",
                             app["delivered"] == app["sent"] and app["lost"] == 0))
    return verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the app against the Socket.IO floor.")
    parser.add_argument("--quick", action="store_true", help="a small run, under a minute")
    parser.add_argument("--postgres", help="PostgreSQL admin URL: also run on PostgreSQL")
    parser.add_argument("--redis", help="Redis URL: also run two processes with Redis")
    parser.add_argument("--chats", type=int, default=None, help="K for the main comparison")
    parser.add_argument("--messages", type=int, default=None, help="M per visitor")
    parser.add_argument("--idle", default=None, help="idle connection counts, e.g. 1000,5000")
    parser.add_argument("--growth", default=None, help="K small,large for latency growth")
    parser.add_argument("--timeout", type=float, default=20, help="bound for every wait, s")
    parser.add_argument("--only", default=None,
                        help="comma list of parts: chats,postgres,redis,idle,growth")
    parser.add_argument("--profile", action="store_true",
                        help="sample the app process with py-spy during each chat run")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs of the main comparison on each database (median ratios); "
                             "full: 3")
    parser.add_argument("--json", default=str(RESULTS / "latest.json"))
    args = parser.parse_args(argv)

    servers.raise_fd_limit()
    chats = args.chats or 20
    # Long enough message phases (K × M messages) that a scheduling hiccup of the shared
    # machine does not decide the ratio.
    messages = args.messages or (50 if args.quick else 200)
    repeat = args.repeat or (1 if args.quick else 3)
    idle = [int(x) for x in (args.idle or ("200" if args.quick else "1000,5000")).split(",")]
    growth = [int(x) for x in (args.growth or ("5,25" if args.quick else "10,500")).split(",")]
    parts = set((args.only or "chats,postgres,redis,idle,growth").split(","))
    bench = Bench(args)
    started = time.perf_counter()
    bench.results["machine"] = machine()
    bench.results["started_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    bench.results["mode"] = "quick" if args.quick else "full"
    try:
        backends = (["sqlite"] if "chats" in parts else []) + (
            ["postgresql"] if "postgres" in parts and args.postgres else [])
        for backend in backends:
            bench.repeated(backend, chats=chats, messages=messages, repeat=repeat)
        if "redis" in parts and args.redis:
            backend = "postgresql" if args.postgres else "sqlite"
            bench.chat_pair(backend=backend, processes=2, chats=chats, messages=messages,
                            name=f"{'PostgreSQL' if args.postgres else 'SQLite'}, "
                                 f"2 processes + Redis, K={chats}")
        if "idle" in parts:
            bench.idle(idle, hold_seconds=2 if args.quick else 12)
        if "growth" in parts:
            bench.growth(growth[0], growth[1], total=200 if args.quick else 5000)
    finally:
        bench.cleanup()
    bench.results["elapsed_s"] = round(time.perf_counter() - started, 1)
    bench.results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()[:2]]
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(bench.results, indent=2))
    print(markdown(bench.results))
    print(f"\nmachine: {bench.results['machine']}; elapsed {bench.results['elapsed_s']} s; "
          f"load average at end {bench.results['load_average_at_end']}")
    return 0 if all(ok for _, _, ok in targets(bench.results)) else 1


if __name__ == "__main__":
    sys.exit(main())
