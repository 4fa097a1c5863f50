"""The benchmark's harness in a tiny mode: real sockets to a live server, nothing lost.

Behaviour only (every message sent is acknowledged and reaches the agent exactly once); no
timing is asserted. The speed numbers live in bench/README.md.
"""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest

from bench import load, servers

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


def _run(coroutine):
    """asyncio.run in a thread of its own: a browser test's Playwright loop may be running."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_app_delivers_every_visitor_message_to_the_agent(live_server):
    run = _run(load.drive_app(
        [live_server.url], chats=3, messages=4, agents=[("alice", "demo"), ("bob", "demo")],
        queue="Software", timeout=15))

    assert run.refused == {}
    assert run.sent == run.acked == 12
    assert run.delivered == 12
    assert run.lost == 0
    assert run.duplicates == 0
    assert len(run.latencies_ms) == 12


def test_floor_relay_delivers_every_message(tmp_path):
    floor = servers.floor_process(tmp_path).start()
    try:
        run = _run(load.drive_floor([floor.url], chats=3, messages=4, agents=2,
                                           timeout=15))
    finally:
        floor.stop()

    assert (run.sent, run.acked, run.delivered, run.lost, run.duplicates) == (12, 12, 12, 0, 0)


@pytest.mark.timeout(240)
def test_the_webhook_bench_delivers_every_event(tmp_path, capsys):
    """bench.webhooks in a tiny mode: both runs of a pair complete, every event delivered."""
    import json

    from bench import webhooks

    out = tmp_path / "webhooks.json"
    assert webhooks.main(["--pairs", "1", "--chats", "2", "--messages", "3",
                          "--json", str(out)]) == 0
    [pair] = json.loads(out.read_text())["pairs"]
    assert pair["none"]["lost"] == pair["webhook"]["lost"] == 0
    # per chat: requested, accepted, the greeting, 3 messages, closed; per SR: opened, updated
    assert pair["webhook"]["delivered"] >= 2 * 6
    assert "one webhook on every event" in capsys.readouterr().out
