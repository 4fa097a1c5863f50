"""`python wsgi.py` serves the whole chat under each async mode the product supports."""

from __future__ import annotations

import pytest

from tests.conftest import seeded_database
from tests.realtime.peers import agent, client_id, request_chat, visitor
from tests.support.server import LiveServer

pytestmark = pytest.mark.live


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_chat_round_trip_under_each_async_mode(mode, tmp_path):
    url = seeded_database("sqlite", tmp_path)
    with LiveServer(url, env={"ASYNC_MODE": mode}, log_path=tmp_path / "server.log") as server:
        bob = agent(server.url, "bob")
        chat = request_chat(server.url, queue="Network", question=f"VPN down ({mode})")
        bob.wait("chat_waiting", "/queue", lambda d: d["chat_id"] == chat["chat_id"])
        reply = bob.call("accept", {"chat_id": chat["chat_id"]}, "/queue")
        assert reply["ok"], reply
        erin = visitor(server.url, chat["visitor_token"])
        erin.wait("history", "/chat")
        sent = erin.call("send", {"chat_id": chat["chat_id"], "body": "Still down",
                                  "client_id": client_id()})
        assert sent["ok"], sent
        got = bob.wait("message", "/chat", lambda m: m["body"] == "Still down")
        assert got["sender"]["role"] == "VISITOR"
        erin.disconnect()
        bob.disconnect()
    log = (tmp_path / "server.log").read_text()
    assert f"async mode: {mode}" in log


def test_the_server_takes_its_start_up_objects_out_of_the_collectors_sight():
    """What the start-up built is frozen before serving: a full collection then walks only
    what the traffic created, instead of holding the event loop over every module, mapper
    and template of the app."""
    import gc

    import wsgi

    before = gc.get_freeze_count()
    try:
        wsgi.freeze_startup_objects()
        assert gc.get_freeze_count() > max(before, 50_000)
    finally:
        gc.unfreeze()
