"""Every bad input over the wire is refused with an error acknowledgement; nothing is stored
and the connection stays usable."""

from __future__ import annotations

import time

import pytest
import socketio
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.realtime.conftest import WIDGET_ORIGIN
from tests.realtime.peers import Peer, client_id, login_cookie, request_chat

pytestmark = pytest.mark.live

SECRET = "live-test-secret"  # LiveServer's SECRET_KEY


def open_chat(server, peers, queue="Software", agent_name="alice"):
    """A chat accepted by `agent_name`, with its end user connected."""
    agent = peers.agent(server, agent_name)
    made = request_chat(server.url, queue=queue)
    end_user = peers.visitor(server, made["visitor_token"])
    assert agent.call("accept", {"chat_id": made["chat_id"]}, "/queue")["ok"] is True
    end_user.wait("agent_joined", "/chat")
    return made, agent, end_user


def stored_bodies(agent, chat_id):
    reply = agent.call("history", {"chat_id": chat_id})
    assert reply["ok"] is True, reply
    return [m["body"] for m in reply["messages"]]


def refused_connect(server, **kwargs) -> dict:
    peer = Peer(server.url, ["/chat"], reconnection=False, **kwargs)
    with pytest.raises(socketio.exceptions.ConnectionError):
        peer.connect()
    peer.sio.disconnect()
    assert peer.connect_errors, "no connect_error received"
    return peer.connect_errors[-1]


def test_forged_expired_and_missing_tokens_are_refused(server):
    made = request_chat(server.url)
    forged = made["visitor_token"][:-4] + ("AAAA" if not made["visitor_token"].endswith("AAAA")
                                           else "BBBB")
    assert refused_connect(server, auth={"visitor_token": forged})["data"]["error"] == "bad_token"
    other_secret = URLSafeTimedSerializer("not-the-secret", salt="visitor-token-v1").dumps(
        {"c": made["chat_id"], "k": "guess"})
    assert refused_connect(server, auth={"visitor_token": other_secret}
                           )["data"]["error"] == "bad_token"

    class ThreeDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3 * 24 * 3600

    serializer = URLSafeTimedSerializer(SECRET, salt="visitor-token-v1", signer=ThreeDaysAgo)
    payload = URLSafeTimedSerializer(SECRET, salt="visitor-token-v1").loads(made["visitor_token"])
    expired = serializer.dumps(payload)
    assert refused_connect(server, auth={"visitor_token": expired}
                           )["data"]["error"] == "token_expired"
    assert refused_connect(server, auth={"visitor_token": 12345})["data"]["error"] == "bad_token"
    refusal = refused_connect(server, auth={"visitor_token": made["visitor_token"],
                                            "last_message_id": "yesterday"})
    assert refusal["data"] == {"ok": False, "error": "invalid",
                               "message": "last_message_id must be an id.",
                               "field": "last_message_id"}
    # No session cookie and no token: neither namespace lets an anonymous socket in.
    assert refused_connect(server)["data"]["error"] == "unauthorized"
    anonymous = Peer(server.url, ["/queue"], reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        anonymous.connect()
    assert anonymous.connect_errors[-1]["data"]["error"] == "unauthorized"


def test_end_user_cannot_reach_another_chat(server, peers):
    made, alice, erin = open_chat(server, peers)
    other = request_chat(server.url, email="oscar@example.org", name="Oscar Other")
    before = stored_bodies(alice, made["chat_id"])
    for event, data in [
        ("send", {"chat_id": other["chat_id"], "body": "hello there", "client_id": "x1"}),
        ("history", {"chat_id": other["chat_id"]}),
        ("typing", {"chat_id": other["chat_id"], "typing": True}),
        ("close", {"chat_id": other["chat_id"]}),
        ("send", {"chat_id": 99999999, "body": "hello", "client_id": "x2"}),
    ]:
        reply = erin.call(event, data)
        assert reply["ok"] is False and reply["error"] == "not_yours", (event, reply)
    assert stored_bodies(alice, made["chat_id"]) == before
    other_history = alice.call("history", {"chat_id": other["chat_id"]})
    assert [m["body"] for m in other_history["messages"]] == [
        "My mail client keeps asking for a password."]
    assert other_history["status"] == "WAITING"  # the close was refused too
    assert erin.sio.connected


def test_malformed_payloads_and_unknown_events_get_error_acks(server, peers):
    made, alice, erin = open_chat(server, peers)
    chat_id = made["chat_id"]
    cases = [
        ("send", "just a string", "invalid"),
        ("send", ["a", "list"], "invalid"),
        ("send", 42, "invalid"),
        ("send", None, "required"),
        ("send", {"chat_id": chat_id, "body": "x"}, "required"),
        ("send", {"chat_id": chat_id, "body": "x", "client_id": "c", "html": True},
         "unknown_field"),
        ("send", {"chat_id": "abc", "body": "x", "client_id": "c"}, "invalid"),
        ("send", {"chat_id": chat_id, "body": 123, "client_id": "c"}, "invalid"),
        ("send", {"chat_id": chat_id, "body": "x", "client_id": ["c"]}, "invalid"),
        ("send", {"chat_id": chat_id, "body": "x", "client_id": "c" * 65}, "invalid"),
        ("send", {"chat_id": chat_id, "body": "   \n ", "client_id": "c"}, "empty"),
        ("send", {"chat_id": chat_id, "body": "x" * 4001, "client_id": "c"}, "too_long"),
        ("typing", {"chat_id": chat_id, "typing": "yes"}, "invalid"),
        ("history", {"chat_id": chat_id, "after_id": "last"}, "invalid"),
        ("rate", {"chat_id": chat_id, "rating": 5}, "not_closed"),
        ("transfer", {"chat_id": chat_id, "queue": "Network"}, "forbidden"),
        ("drop_tables", {"chat_id": chat_id}, "unknown_event"),
        ("connect", {}, "unknown_event"),
    ]
    for event, data, code in cases:
        reply = erin.call(event, data)
        assert reply["ok"] is False and reply["error"] == code, (event, data, reply)
        assert isinstance(reply["message"], str) and reply["message"]
    # Two arguments instead of one object.
    assert erin.call("send", {"chat_id": chat_id}, "/chat", {"x": 1})["error"] == "invalid"
    # Agents get the same treatment, plus their own rules.
    assert alice.call("rate", {"chat_id": chat_id, "rating": 5})["error"] == "forbidden"
    assert alice.call("accept", "17", "/queue")["error"] == "invalid"
    assert alice.call("accept", {"chat_id": None}, "/queue")["error"] == "invalid"
    assert alice.call("accept", {"chat_id": 99999999}, "/queue")["error"] == "unknown_chat"
    assert alice.call("waiting_list", {"all": True}, "/queue")["error"] == "unknown_field"
    assert alice.call("send", {"chat_id": chat_id, "body": "y" * 4001, "client_id": "c"}
                      )["error"] == "too_long"

    # Nothing was stored, and both connections still work: exactly the limit is fine.
    bodies = stored_bodies(alice, chat_id)
    assert bodies[0] == "My mail client keeps asking for a password."
    assert len(bodies) == 2 and bodies[1].startswith("Hello, this is Alice Agent")
    longest = erin.call("send", {"chat_id": chat_id, "body": "z" * 4000, "client_id": client_id()})
    assert longest["ok"] is True and len(longest["message"]["body"]) == 4000
    assert alice.wait("message", "/chat", lambda m: m["id"] == longest["message"]["id"])


def test_agents_are_held_to_their_queues_and_chats(server, peers):
    made, alice, erin = open_chat(server, peers)  # a Software chat, Alice's
    bob = peers.agent(server, "bob")
    network = request_chat(server.url, queue="Network", email="nina@example.org")
    # Alice is not in Network; Bob did not accept Alice's chat.
    assert alice.call("accept", {"chat_id": network["chat_id"]}, "/queue")["error"] == \
        "not_your_queue"
    assert bob.call("send", {"chat_id": made["chat_id"], "body": "hi", "client_id": "b1"}
                    )["error"] == "not_yours"
    assert bob.call("close", {"chat_id": made["chat_id"]})["error"] == "not_yours"
    assert bob.call("typing", {"chat_id": made["chat_id"], "typing": True})["error"] == \
        "not_yours"
    assert alice.call("history", {"chat_id": network["chat_id"]})["error"] == "not_yours"
    assert bob.call("send", {"chat_id": network["chat_id"], "body": "hi", "client_id": "b2"}
                    )["error"] == "not_accepted"
    assert alice.call("transfer", {"chat_id": made["chat_id"], "queue": "Software"}
                      )["error"] == "same_queue"
    assert alice.call("transfer", {"chat_id": made["chat_id"], "queue": "Nowhere"}
                      )["error"] == "unknown_queue"
    closed = alice.call("close", {"chat_id": made["chat_id"]})
    assert closed["status"] == "CLOSED"
    assert alice.call("send", {"chat_id": made["chat_id"], "body": "late", "client_id": "a1"}
                      )["error"] == "closed"
    assert erin.call("send", {"chat_id": made["chat_id"], "body": "late", "client_id": "e1"}
                     )["error"] == "closed"
    assert erin.call("typing", {"chat_id": made["chat_id"], "typing": True})["error"] == "closed"
    assert "late" not in stored_bodies(alice, made["chat_id"])


def test_a_flood_from_one_socket_is_rate_limited_and_the_socket_recovers(server, peers):
    made, alice, erin = open_chat(server, peers)
    replies = [erin.call("send", {"chat_id": made["chat_id"], "body": f"flood {n}",
                                  "client_id": f"flood-{n}"}) for n in range(80)]
    accepted = [r for r in replies if r["ok"]]
    limited = [r for r in replies if not r["ok"]]
    assert limited and all(r["error"] == "rate_limited" for r in limited)
    assert "slow down" in limited[0]["message"]
    flood_stored = [b for b in stored_bodies(alice, made["chat_id"]) if b.startswith("flood")]
    assert flood_stored == [r["message"]["body"] for r in accepted]
    # Another socket is not affected, and this one works again after a pause.
    assert alice.call("send", {"chat_id": made["chat_id"], "body": "still here",
                               "client_id": client_id()})["ok"] is True
    time.sleep(1.5)
    again = erin.call("send", {"chat_id": made["chat_id"], "body": "calm now",
                               "client_id": client_id()})
    assert again["ok"] is True


def test_agent_sockets_refuse_other_sites_pages_even_allowed_widget_hosts(server):
    """A page on a widget host may open end-user sockets, never ride an agent's cookie."""
    cookie = login_cookie(server.url, "alice")
    for namespace in ("/queue", "/chat"):
        hijack = Peer(server.url, [namespace], reconnection=False,
                      headers={"Cookie": cookie}, origin=WIDGET_ORIGIN)
        with pytest.raises(socketio.exceptions.ConnectionError):
            hijack.connect()
        assert hijack.connect_errors[-1]["data"]["error"] == "forbidden_origin"
    own = Peer(server.url, ["/queue"], reconnection=False,
               headers={"Cookie": cookie}, origin=server.url).connect()
    assert own.wait("queue_state", "/queue")["queues"]
    own.disconnect()
    made = request_chat(server.url, email="shopper@example.org")
    shopper = Peer(server.url, ["/chat"], reconnection=False,
                   origin=WIDGET_ORIGIN,
                   auth={"visitor_token": made["visitor_token"]}).connect()
    assert shopper.wait("history", "/chat")["chat_id"] == made["chat_id"]
    shopper.disconnect()
