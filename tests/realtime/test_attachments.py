"""Files in chats over real HTTP and sockets: upload, send, receive on the other side,
download allowed or refused per role, expired and altered links, and every bad input."""

from __future__ import annotations

import re
import socket
import time
from urllib.parse import urlsplit

import pytest
import requests
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.realtime.peers import TIMEOUT, client_id, request_chat
from tests.support import files
from tests.support.accounts import http_session

pytestmark = pytest.mark.live


class _OldSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 2 * 24 * 3600


def agent_http(server, username: str) -> requests.Session:
    """An agent's browser session with the page's CSRF token, as the console sends it."""
    session = http_session(server.url, username)
    page = session.get(f"{server.url}/my-work", timeout=TIMEOUT).text
    session.headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"',
                                               page).group(1)
    return session


def upload(server, chat_id: int, name: str, data: bytes, *, token: str | None = None,
           session: requests.Session | None = None, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return (session or requests).post(
        f"{server.url}/api/chats/{chat_id}/attachments", files={"file": (name, data)},
        headers=headers, timeout=TIMEOUT, **kwargs)


def fetch(server, url: str, *, token: str | None = None,
          session: requests.Session | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return (session or requests).get(server.url + url, headers=headers, timeout=TIMEOUT)


@pytest.fixture
def live_chat(server, peers):
    """A Software chat accepted by alice: her console, her HTTP session, the end user."""
    made = request_chat(server.url)
    alice = peers.agent(server, "alice")
    assert alice.call("accept", {"chat_id": made["chat_id"]}, "/queue")["ok"]
    end_user = peers.visitor(server, made["visitor_token"])
    end_user.wait("history", "/chat")
    return made, alice, agent_http(server, "alice"), end_user


def test_end_user_sends_a_screenshot_and_the_agent_sees_it(server, live_chat):
    made, alice, alice_http, end_user = live_chat
    screenshot = files.png()
    stored = upload(server, made["chat_id"], "screenshot.png", screenshot,
                    token=made["visitor_token"])
    assert stored.status_code == 201, stored.text
    attachment = stored.json()
    assert {k: attachment[k] for k in ("name", "size", "content_type")} == {
        "name": "screenshot.png", "size": len(screenshot), "content_type": "image/png"}
    assert attachment["url"].startswith("/api/attachments/") and attachment["thumbnail_url"]

    ack = end_user.call("send", {"chat_id": made["chat_id"], "body": "",
                                 "client_id": client_id(), "attachment_ids": [attachment["id"]]})
    assert ack["ok"], ack
    assert [a["id"] for a in ack["message"]["attachments"]] == [attachment["id"]]
    received = alice.wait("message", "/chat", lambda m: m["attachments"])
    assert received["body"] == "" and received["attachments"][0]["name"] == "screenshot.png"

    original = fetch(server, received["attachments"][0]["url"], session=alice_http)
    assert original.status_code == 200 and original.content == screenshot
    assert original.headers["Content-Type"] == "image/png"
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    assert original.headers["Content-Disposition"].startswith("inline")
    assert "sandbox" in original.headers["Content-Security-Policy"]
    thumbnail = fetch(server, received["attachments"][0]["thumbnail_url"], session=alice_http)
    assert thumbnail.status_code == 200 and thumbnail.headers["Content-Type"] == "image/webp"
    assert thumbnail.content[8:12] == b"WEBP"
    # The history (a reload) carries the file too, with fresh links.
    history = alice.call("history", {"chat_id": made["chat_id"]})
    assert [m["attachments"][0]["id"] for m in history["messages"] if m["attachments"]] == [
        attachment["id"]]


def test_agent_sends_a_pdf_with_a_caption_and_the_end_user_downloads_it(server, live_chat):
    made, alice, alice_http, end_user = live_chat
    document = files.pdf()
    stored = upload(server, made["chat_id"], "vpn-setup.pdf", document, session=alice_http)
    assert stored.status_code == 201, stored.text
    assert stored.json()["thumbnail_url"] is None
    ack = alice.call("send", {"chat_id": made["chat_id"], "body": "The guide, page 2",
                              "client_id": client_id(), "attachment_ids": [stored.json()["id"]]})
    assert ack["ok"], ack
    message = end_user.wait("message", "/chat", lambda m: m["attachments"])
    assert message["body"] == "The guide, page 2"
    download = fetch(server, message["attachments"][0]["url"], token=made["visitor_token"])
    assert download.status_code == 200 and download.content == document
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "vpn-setup.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_a_file_is_fetched_only_by_those_who_may_see_the_chat(server, peers):
    made = request_chat(server.url, queue="Hardware", question="The docking station is dead")
    alice = peers.agent(server, "alice")  # Hardware and Software
    assert alice.call("accept", {"chat_id": made["chat_id"]}, "/queue")["ok"]
    photo = upload(server, made["chat_id"], "dock.png", files.png(),
                   token=made["visitor_token"]).json()
    unsent_url = photo["url"]
    other = request_chat(server.url, email="mallory@example.org")
    # Before it is sent, only its uploader sees it.
    assert fetch(server, unsent_url, session=agent_http(server, "alice")).status_code == 403
    assert fetch(server, unsent_url, token=made["visitor_token"]).status_code == 200
    end_user = peers.visitor(server, made["visitor_token"])
    assert end_user.call("send", {"chat_id": made["chat_id"], "client_id": client_id(),
                                  "attachment_ids": [photo["id"]]})["ok"]
    url = photo["url"]
    assert fetch(server, url, session=agent_http(server, "alice")).status_code == 200
    assert fetch(server, url, session=agent_http(server, "maria")).status_code == 200  # manager
    bob = fetch(server, url, session=agent_http(server, "bob"))  # Software and Network only
    assert (bob.status_code, bob.json()["error"]) == (403, "forbidden")
    stranger = fetch(server, url, token=other["visitor_token"])
    assert (stranger.status_code, stranger.json()["error"]) == (403, "forbidden")
    nobody = fetch(server, url)
    assert (nobody.status_code, nobody.json()["error"]) == (403, "login_required")
    forged = fetch(server, url, token=other["visitor_token"][:-3] + "abc")
    assert forged.status_code == 403 and forged.json()["error"] == "bad_token"


def test_altered_guessed_and_expired_links_give_nothing(server, live_chat):
    made, _, alice_http, end_user = live_chat
    attachment = upload(server, made["chat_id"], "notes.txt", b"ping 10.0.0.1: timeout\n",
                        token=made["visitor_token"]).json()
    assert end_user.call("send", {"chat_id": made["chat_id"], "body": "log",
                                  "client_id": client_id(),
                                  "attachment_ids": [attachment["id"]]})["ok"]
    good = fetch(server, attachment["url"], session=alice_http)
    assert good.status_code == 200 and good.headers["Content-Type"].startswith("text/plain")
    token = urlsplit(attachment["url"]).path.split("/")[3]
    payload, stamp, signature = token.split(".")
    flip = {"A": "B"}.get(signature[0], "A")  # a first character: every bit of it counts
    altered = f"{payload}.{stamp}.{flip}{signature[1:]}"
    other_file = f"{payload[:-2]}xy.{stamp}.{signature}"
    for url in (attachment["url"].replace(token, altered),
                attachment["url"].replace(token, other_file),
                f"/api/attachments/{attachment['id']}/notes.txt",
                "/api/attachments/1/notes.txt"):
        reply = fetch(server, url, session=alice_http)
        assert (reply.status_code, reply.json()["error"]) == (404, "unknown_file"), url
    old = URLSafeTimedSerializer("live-test-secret", salt="attachment-link-v1",
                                 signer=_OldSigner).dumps({"a": attachment["id"], "v": "file"})
    expired = fetch(server, f"/api/attachments/{old}/notes.txt", session=alice_http)
    assert (expired.status_code, expired.json()["error"]) == (403, "link_expired")


@pytest.mark.parametrize("name, data, status, error", [
    ("page.html", files.HTML, 415, "unsupported_type"),
    ("notes.txt", files.HTML, 415, "unsupported_type"),
    ("logo.svg", files.SVG, 415, "unsupported_type"),
    ("logo.png", files.SVG, 415, "unsupported_type"),
    ("setup.exe", files.EXECUTABLE, 415, "unsupported_type"),
    ("invoice.pdf", files.png(), 415, "type_mismatch"),
    ("script.js", b"alert(1)\n", 415, "unsupported_type"),
    ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, 415, "unsupported_type"),
    ("empty.txt", b"", 400, "empty_file"),
    ("../../etc/passwd.txt", b"root\n", 400, "invalid_name"),
    ("C:\\Users\\erin\\shot.png", files.png(), 400, "invalid_name"),  # as sent raw
    ("C:\\\\Users\\\\erin\\\\shot.png", files.png(), 400, "invalid_name"),  # quoted
    ("bell\x07.txt", b"ding\n", 400, "invalid_name"),
])
def test_bad_files_are_refused_and_nothing_is_stored(server, live_chat, name, data, status,
                                                     error):
    made, _, _, end_user = live_chat
    reply = upload(server, made["chat_id"], name, data, token=made["visitor_token"])
    assert (reply.status_code, reply.json()["error"]) == (status, error), reply.text
    assert reply.json()["message"]
    good = upload(server, made["chat_id"], "fine.txt", b"fine\n", token=made["visitor_token"])
    assert good.status_code == 201  # the chat still takes files: nothing was half-stored


def test_an_oversized_upload_is_refused_before_its_body_is_read(server, live_chat):
    made = live_chat[0]
    host, port = "127.0.0.1", int(server.url.rsplit(":", 1)[1])
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        sock.sendall((f"POST /api/chats/{made['chat_id']}/attachments HTTP/1.1\r\n"
                      f"Host: {host}:{port}\r\nAuthorization: Bearer {made['visitor_token']}\r\n"
                      "Content-Type: multipart/form-data; boundary=x\r\n"
                      "Content-Length: 50000000\r\n\r\n--x\r\n").encode())
        answer = sock.recv(65536).decode(errors="replace")  # no more of the body is sent
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert '"too_large"' in answer


def test_uploads_are_refused_to_outsiders(server, live_chat, peers):
    made, _, _, _ = live_chat
    other = request_chat(server.url, email="olga@example.org")
    reply = upload(server, made["chat_id"], "x.txt", b"x\n", token=other["visitor_token"])
    assert (reply.status_code, reply.json()["error"]) == (403, "not_yours")
    bob = upload(server, made["chat_id"], "x.txt", b"x\n", session=agent_http(server, "bob"))
    assert (bob.status_code, bob.json()["error"]) == (403, "not_yours")
    no_csrf = http_session(server.url, "alice")
    reply = upload(server, made["chat_id"], "x.txt", b"x\n", session=no_csrf)
    assert (reply.status_code, reply.json()["error"]) == (403, "csrf")
    nobody = upload(server, made["chat_id"], "x.txt", b"x\n")
    assert (nobody.status_code, nobody.json()["error"]) == (403, "login_required")
    two = requests.post(f"{server.url}/api/chats/{made['chat_id']}/attachments",
                        files=[("file", ("a.txt", b"a\n")), ("file", ("b.txt", b"b\n"))],
                        headers={"Authorization": f"Bearer {made['visitor_token']}"},
                        timeout=TIMEOUT)
    assert (two.status_code, two.json()["error"]) == (400, "required")


def test_send_refuses_files_it_may_not_carry(server, live_chat):
    made, alice, alice_http, end_user = live_chat
    other = request_chat(server.url, email="olga@example.org")
    foreign = upload(server, other["chat_id"], "theirs.txt", b"theirs\n",
                     token=other["visitor_token"]).json()
    agents = upload(server, made["chat_id"], "agent.txt", b"agent's\n",
                    session=alice_http).json()
    mine = upload(server, made["chat_id"], "mine.txt", b"mine\n",
                  token=made["visitor_token"]).json()
    cases = [([foreign["id"]], "unknown_attachment"), ([agents["id"]], "unknown_attachment"),
             (["no-such-file"], "unknown_attachment"), ([mine["id"], mine["id"]], "invalid"),
             ("not a list", "invalid"), ([], "empty")]
    for ids, error in cases:
        ack = end_user.call("send", {"chat_id": made["chat_id"], "body": "",
                                     "client_id": client_id(), "attachment_ids": ids})
        assert (ack["ok"], ack["error"]) == (False, error), ids
    assert end_user.call("send", {"chat_id": made["chat_id"], "client_id": client_id(),
                                  "attachment_ids": [mine["id"]]})["ok"]
    again = end_user.call("send", {"chat_id": made["chat_id"], "client_id": client_id(),
                                   "attachment_ids": [mine["id"]]})
    assert (again["ok"], again["error"]) == (False, "attachment_sent")
    messages = end_user.call("history", {"chat_id": made["chat_id"]})["messages"]
    assert [a["name"] for m in messages for a in m["attachments"]] == ["mine.txt"]


def test_a_phone_photo_loses_its_gps_position_and_gets_a_thumbnail(server, live_chat):
    made, alice, alice_http, end_user = live_chat
    photo = files.jpeg_with_gps()
    assert files.gps_of(photo)  # it has one
    stored = upload(server, made["chat_id"], "IMG_2041.JPG", photo,
                    token=made["visitor_token"]).json()
    assert (stored["width"], stored["height"]) == (1200, 900)
    assert end_user.call("send", {"chat_id": made["chat_id"], "body": "The broken hinge",
                                  "client_id": client_id(),
                                  "attachment_ids": [stored["id"]]})["ok"]
    original = fetch(server, stored["url"], session=alice_http)
    thumbnail = fetch(server, stored["thumbnail_url"], session=alice_http)
    assert original.status_code == thumbnail.status_code == 200
    assert files.gps_of(original.content) == {} and files.gps_of(thumbnail.content) == {}
    kept = files.exif_of(original.content)
    assert kept == {files.ORIENTATION: 1}  # no camera, no time: only how to turn it
    assert files.exif_of(thumbnail.content) == {}
    assert files.size_of(original.content) == (1200, 900)
    assert max(files.size_of(thumbnail.content)) == 480
