"""Every socket of a busy desk sends its whole burst at once: how long until the last
acknowledgement?

The default per-socket flood limit (`SOCKET_EVENT_BURST`, 20) is kept. `--chats` chats are
opened and accepted by `--agents` agents; then, at the same instant, every end user's socket
sends 20 messages and every agent sends 20 over his chats (each agent's `send` loads his
account from the database first, the case that once took the pool's last connection from
the message writer). The time from the first emit to the last acknowledgement is reported
(median and worst of `--rounds` rounds). This is also what the re-sending of unacknowledged
messages after a restart looks like to the server.

    .venv/bin/python -m bench.burst [--postgres postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench import servers
from bench.chat_pair import open_chat_pair
from bench.load import login

BURST = 20
RESULTS = Path(__file__).resolve().parent / "results"


async def one_round(pairs, agents_of) -> tuple[float, int]:
    """Fire every socket's whole burst; (seconds to the last acknowledgement, refusals)."""
    calls = []
    for pair in pairs:
        for n in range(BURST):
            calls.append(pair.end_user.call("/chat", "send", {
                "chat_id": pair.chat_id, "body": f"burst {n}", "client_id": uuid.uuid4().hex}))
    for agent, chats in agents_of:
        for n in range(BURST):
            calls.append(agent.call("/chat", "send", {
                "chat_id": chats[n % len(chats)], "body": f"agent burst {n}",
                "client_id": uuid.uuid4().hex}))
    started = time.perf_counter()
    acks = await asyncio.gather(*calls)
    return time.perf_counter() - started, sum(1 for ack in acks if not ack.get("ok"))


async def measure(base: str, logins, chats_per_agent: int, rounds: int) -> dict:
    pairs, agents_of = [], []
    for username, password in logins:
        cookie = login(base, username, password)
        mine = []
        for _ in range(chats_per_agent):
            pair = await open_chat_pair(  # one end user each: one event budget each
                base, cookie, live_chats=[p.chat_id for p in mine],
                email=f"burst-{uuid.uuid4().hex[:8]}@bench.example")
            mine.append(pair)
        pairs += mine
        agents_of.append((mine[-1].agent, [p.chat_id for p in mine]))
    times, refused = [], 0
    for _ in range(rounds):
        seconds, refusals = await one_round(pairs, agents_of)
        times.append(seconds)
        refused += refusals
        await asyncio.sleep(BURST / 5 + 1)  # the buckets refill (5 a second)
    messages = (len(pairs) + len(agents_of)) * BURST
    return {"sockets": len(pairs) + len(agents_of), "messages_per_round": messages,
            "median_s": round(statistics.median(times), 3), "worst_s": round(max(times), 3),
            "refused": refused}


def run_on(name: str, url: str, workdir: Path, agents: int, chats: int, rounds: int) -> dict:
    logins, _ = servers.prepare_database(url, agents=agents)
    proc = servers.app_process(url, workdir, extra_env={
        "SOCKET_EVENTS_PER_SECOND": "5", "SOCKET_EVENT_BURST": str(BURST)}).start(timeout=120)
    try:
        return {"database": name, **asyncio.run(measure(proc.url, logins, chats, rounds))}
    finally:
        proc.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Every socket's whole burst at once.")
    parser.add_argument("--postgres", help="PostgreSQL admin URL: also measure on PostgreSQL")
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--chats", type=int, default=3, help="live chats per agent")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", default=str(RESULTS / "burst.json"))
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="sdc-burst-"))
    rows = [run_on("SQLite", servers.sqlite_url(workdir), workdir, args.agents, args.chats,
                   args.rounds)]
    if args.postgres:
        url = servers.create_postgres_database(args.postgres)
        try:
            rows.append(run_on("PostgreSQL", url, workdir, args.agents, args.chats,
                               args.rounds))
        finally:
            servers.drop_postgres_database(args.postgres, url)
    for row in rows:
        print(json.dumps(row))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
