"""A client that stops reading: does it grow the server's memory or slow other chats?

Chat A's end user connects and then stops reading its socket (its TCP window fills). The
agent of chat A then sends `--flood` messages of 3 KB into it (18 MB by default, over the
8 MiB that may wait for one connection, SOCKET_OUTBOX_MAX_BYTES), while the round trips of
another chat B (end user -> agent) are timed. Reported: chat B's round trips (p50, p99)
alone and during the flood; the server process's resident memory before, at its peak during
the flood and two seconds after it; and when the server dropped the stalled end user.

    .venv/bin/python -m bench.slow_consumer [--reading]

`--reading` is the control: the same flood while chat A's end user reads.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

from bench import servers
from bench.chat_pair import open_chat_pair
from bench.load import login


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def trips(pair, count: int) -> list[float]:
    return [await pair.round_trip() for _ in range(count)]


def visitor_sockets(base: str) -> int:
    text = requests.get(f"{base}/metrics", timeout=10).text
    found = re.search(r'desk_sockets_connected\{kind="visitor",namespace="/chat"\} (\S+)', text)
    return int(float(found.group(1))) if found else 0


async def watch(base: str, pid: int, connected: int, seen: dict) -> None:
    """Peak memory, and when the stalled end user's socket is no longer counted."""
    started = time.perf_counter()
    while True:
        seen["peak"] = max(seen.get("peak", 0), rss_mb(pid))
        if "dropped_after_s" not in seen:
            try:
                count = await asyncio.to_thread(visitor_sockets, base)
            except requests.RequestException as exc:
                seen["error"] = repr(exc)
                count = connected
            if count < connected:
                seen["dropped_after_s"] = round(time.perf_counter() - started, 1)
        await asyncio.sleep(0.05)


async def measure(base: str, pid: int, logins, flood: int, count: int, reading: bool) -> dict:
    stalled = await open_chat_pair(base, login(base, *logins[0]),
                                   email=f"stalled-{uuid.uuid4().hex[:6]}@b.example")
    # Chat B has an agent of its own: the flood into chat A is not his to read.
    other = await open_chat_pair(base, login(base, *logins[1]),
                                 email=f"other-{uuid.uuid4().hex[:6]}@b.example")
    alone = await trips(other, count)
    before = rss_mb(pid)
    if not reading:
        stalled.end_user._task.cancel()  # stops reading: the socket's buffers fill up
    seen: dict = {}
    watcher = asyncio.create_task(watch(base, pid, visitor_sockets(base), seen))
    body = "x" * 3000

    window = asyncio.Semaphore(20)  # sends in flight, as many as the agent's burst

    async def one(n: int) -> None:
        async with window:
            await stalled.agent.call("/chat", "send", {"chat_id": stalled.chat_id, "body": body,
                                                       "client_id": f"flood-{n}"})

    async def flood_it():
        await asyncio.gather(*(one(n) for n in range(flood)))

    flooding = asyncio.create_task(flood_it())
    during = await trips(other, count)
    await flooding
    await asyncio.sleep(2)
    after = rss_mb(pid)
    watcher.cancel()
    if watcher.done() and not watcher.cancelled() and watcher.exception():
        raise watcher.exception()
    return {"round_trip_ms_alone": {"p50": round(statistics.median(alone) * 1000, 1),
                                    "p99": round(percentile(alone, 0.99) * 1000, 1)},
            "round_trip_ms_during_flood": {"p50": round(statistics.median(during) * 1000, 1),
                                           "p99": round(percentile(during, 0.99) * 1000, 1)},
            "chat_a_end_user": "reading" if reading else "stalled", "flood_messages": flood, "flood_bytes": flood * 3000,
            "server_rss_mb_before": before, "server_rss_mb_peak": seen.get("peak"),
            "server_rss_mb_after": after,
            "stalled_end_user_dropped_after_s": seen.get("dropped_after_s")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A client that stops reading.")
    parser.add_argument("--flood", type=int, default=6000)
    parser.add_argument("--trips", type=int, default=200)
    parser.add_argument("--reading", action="store_true",
                        help="the control: chat A's end user keeps reading")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="sdc-slow-"))
    url = servers.sqlite_url(workdir)
    logins, _ = servers.prepare_database(url, agents=2)
    proc = servers.app_process(url, workdir).start(timeout=120)
    try:
        result = asyncio.run(measure(proc.url, proc.popen.pid, logins, args.flood, args.trips,
                                     args.reading))
    finally:
        proc.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
