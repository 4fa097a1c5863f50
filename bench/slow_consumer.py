"""A client that stops reading: does it grow the server's memory or slow other chats?

Chat A's end user connects and then stops reading its socket (its TCP window fills). The
agent of chat A then sends `--flood` messages of 3 KB into it, while the round trips of
another chat B (end user -> agent) are timed. Reported: chat B's round trips (p50, p99)
alone and during the flood, and the server process's resident memory before and after.

    .venv/bin/python -m bench.slow_consumer
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

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


async def measure(base: str, pid: int, logins, flood: int, count: int) -> dict:
    cookie = login(base, *logins[0])
    stalled = await open_chat_pair(base, cookie, email=f"stalled-{uuid.uuid4().hex[:6]}@b.example")
    other = await open_chat_pair(base, cookie, live_chats=[stalled.chat_id],
                                 email=f"other-{uuid.uuid4().hex[:6]}@b.example")
    alone = await trips(other, count)
    before = rss_mb(pid)
    stalled.end_user._task.cancel()  # stops reading: the socket's buffers fill up
    body = "x" * 3000

    async def flood_it():
        for n in range(flood):
            stalled.agent.emit("/chat", "send", {"chat_id": stalled.chat_id, "body": body,
                                                 "client_id": f"flood-{n}"})
            if n % 50 == 0:
                await asyncio.sleep(0)

    flooding = asyncio.create_task(flood_it())
    during = await trips(other, count)
    await flooding
    await asyncio.sleep(2)
    after = rss_mb(pid)
    return {"round_trip_ms_alone": {"p50": round(statistics.median(alone) * 1000, 1),
                                    "p99": round(percentile(alone, 0.99) * 1000, 1)},
            "round_trip_ms_during_flood": {"p50": round(statistics.median(during) * 1000, 1),
                                           "p99": round(percentile(during, 0.99) * 1000, 1)},
            "flood_messages": flood, "flood_bytes": flood * 3000,
            "server_rss_mb_before": before, "server_rss_mb_after": after}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A client that stops reading.")
    parser.add_argument("--flood", type=int, default=2000)
    parser.add_argument("--trips", type=int, default=200)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="sdc-slow-"))
    url = servers.sqlite_url(workdir)
    logins, _ = servers.prepare_database(url, agents=1)
    proc = servers.app_process(url, workdir).start(timeout=120)
    try:
        result = asyncio.run(measure(proc.url, proc.popen.pid, logins, args.flood, args.trips))
    finally:
        proc.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
