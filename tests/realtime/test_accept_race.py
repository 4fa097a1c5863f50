"""Two agents click accept at the same moment: exactly one wins, the other is told."""

from __future__ import annotations

import threading

from tests.realtime.peers import request_chat


def race_to_accept(agents, chat_id) -> dict:
    """Every agent presses accept at the same moment; returns {id(agent): ack}."""
    barrier = threading.Barrier(len(agents))
    replies = {}

    def accept(agent):
        barrier.wait(5)
        replies[id(agent)] = agent.call("accept", {"chat_id": chat_id}, "/queue")

    threads = [threading.Thread(target=accept, args=(agent,)) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    return replies


def test_two_agents_racing_to_accept_one_wins_each_time(server, peers):
    alice = peers.agent(server, "alice")
    bob = peers.agent(server, "bob")
    names = {id(alice): "Alice Agent", id(bob): "Bob Builder"}
    for round_number in range(3):
        made = request_chat(server.url, email=f"race{round_number}@example.org")
        erin = peers.visitor(server, made["visitor_token"])
        for agent in (alice, bob):
            agent.wait("chat_waiting", "/queue", lambda c, m=made: c["chat_id"] == m["chat_id"])
        chat_id = made["chat_id"]
        replies = race_to_accept([alice, bob], chat_id)
        winners = [agent for agent in (alice, bob) if replies[id(agent)]["ok"]]
        assert len(winners) == 1, replies
        winner = winners[0]
        loser = bob if winner is alice else alice
        refusal = replies[id(loser)]
        assert refusal["ok"] is False and refusal["error"] == "taken"
        assert "already accepted" in refusal["message"]
        assert replies[id(winner)]["chat"]["agent"] == names[id(winner)]
        # The loser's console hears who took it; the end user hears of exactly one agent.
        taken = loser.wait("chat_taken", "/queue", lambda c, chat_id=chat_id: c["chat_id"] == chat_id)
        assert taken["agent"] == names[id(winner)]
        joined = erin.wait("agent_joined", "/chat")
        assert joined == {"chat_id": made["chat_id"], "agent": names[id(winner)]}
        # Only the winner may write in it.
        assert loser.call("send", {"chat_id": made["chat_id"], "body": "me too",
                                   "client_id": "loser"})["error"] == "not_yours"
        assert winner.call("close", {"chat_id": made["chat_id"]})["ok"] is True
    assert not alice.received("chat_taken", "/queue", lambda c: c["agent"] == "Alice Agent")
    assert not bob.received("chat_taken", "/queue", lambda c: c["agent"] == "Bob Builder")
    assert len(erin.received("agent_joined", "/chat")) == 1
