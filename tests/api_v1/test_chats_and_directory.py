"""Chats with their messages, persons, queues with live figures, per role."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.live


def test_chats_of_ones_queues_and_all_for_a_manager(api_desk):
    facts = api_desk.facts
    alice = {c["id"] for c in api_desk.get("/chats", "alice").json()["items"]}
    bob = {c["id"] for c in api_desk.get("/chats", "bob").json()["items"]}
    maria = {c["id"] for c in api_desk.get("/chats", "maria").json()["items"]}
    assert facts["hardware_chat"] in alice and facts["network_chat"] not in alice
    assert facts["network_chat"] in bob and facts["hardware_chat"] not in bob
    assert {facts["hardware_chat"], facts["network_chat"]} <= maria
    waiting = api_desk.get("/chats", "maria", params={"status": "WAITING"}).json()["items"]
    assert {c["status"] for c in waiting} == {"WAITING"}

    chat = api_desk.get(f"/chats/{facts['hardware_chat']}").json()
    assert chat["status"] == "ACTIVE" and chat["agent"]["name"] == "Alice Agent"
    assert chat["queue"]["name"] == "Hardware" and chat["end_user"]["name"] == "Hal Hardware"
    assert chat["sr"]["number"] == facts["hardware_sr"]
    assert chat["verified"] is False  # the end user typed his address; no host vouched


def test_a_chats_messages_in_order_page_by_page(api_desk):
    path = f"/chats/{api_desk.facts['hardware_chat']}/messages"
    everything = api_desk.get(path).json()
    bodies = [m["body"] for m in everything["items"]]
    assert bodies[0] == "Laptop fan is loud" and bodies[-5:] == [f"visitor {n}"
                                                                 for n in range(5)]
    assert everything["next_after"] is None
    seen, after = [], None
    while True:
        page = api_desk.get(path, params={"limit": 2, **({"after": after} if after else {})})
        seen += [m["body"] for m in page.json()["items"]]
        after = page.json()["next_after"]
        if after is None:
            break
    assert seen == bodies


def test_persons_each_user_may_see(api_desk):
    facts = api_desk.facts
    alice = {p["id"] for p in api_desk.get("/persons", "alice").json()["items"]}
    assert facts["hal"] in alice and facts["nina"] not in alice
    found = api_desk.get("/persons", "maria", params={"q": "nina"}).json()["items"]
    assert [p["name"] for p in found] == ["Nina Network"]
    assert api_desk.get(f"/persons/{facts['hal']}", "alice").json()["email"] == "hal@example.com"


def test_queues_with_live_figures(api_desk):
    alice = {q["name"]: q for q in api_desk.get("/queues", "alice").json()}
    assert set(alice) == {"Hardware", "Software"}
    maria = {q["name"]: q for q in api_desk.get("/queues", "maria").json()}
    assert set(maria) == {"Hardware", "Software", "Network"}
    assert maria["Network"]["waiting"] >= 1 and maria["Network"]["oldest_wait_seconds"] >= 0
    assert {"agents_online", "is_chat_queue"} <= set(maria["Network"])
