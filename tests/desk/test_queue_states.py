"""queue_states: every agent's indicator state at once, the same as asking one by one."""

from __future__ import annotations

from app.desk import chats, presence


def _request(queue: str, n: int):
    return chats.request_chat(name=f"Visitor {n}", email=f"v{n}@example.com", queue=queue,
                              question=f"Question {n}")


def test_batch_equals_one_by_one_with_waiting_chats_and_agents_online(desk):
    _request("Hardware", 1)
    _request("Software", 2)
    _request("Software", 3)
    presence.agent_connected("sid-alice", desk.alice, "node-a")
    presence.agent_connected("sid-bob-1", desk.bob, "node-a")
    presence.agent_connected("sid-bob-2", desk.bob, "node-b")  # two consoles, one agent

    states = chats.queue_states([desk.alice, desk.bob, desk.maria])

    assert states == {user.id: chats.queue_state(user)
                      for user in (desk.alice, desk.bob, desk.maria)}
    alice = {q["name"]: q for q in states[desk.alice.id]["queues"]}
    bob = {q["name"]: q for q in states[desk.bob.id]["queues"]}
    assert list(alice) == ["Hardware", "Software"]
    assert list(bob) == ["Network", "Software"]
    assert (alice["Hardware"]["waiting"], alice["Software"]["waiting"]) == (1, 2)
    assert states[desk.alice.id]["total"] == 3
    assert states[desk.bob.id]["total"] == 2
    assert alice["Software"]["agents_online"] == 2  # alice and bob, bob counted once
    assert alice["Hardware"]["agents_online"] == 1
    assert bob["Network"]["agents_online"] == 1
    maria = states[desk.maria.id]
    assert (maria["queues"], maria["total"], maria["oldest_wait_seconds"]) == ([], 0, None)
    assert maria["agent"]["status"] == "offline"  # no console open


def test_no_users_no_queries_needed(desk):
    assert chats.queue_states([]) == {}
