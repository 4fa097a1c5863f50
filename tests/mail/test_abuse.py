"""The transcript button is no mail cannon and a display name never adds a recipient: over
real HTTP and sockets, with the server's own sender delivering to a real SMTP server."""

from __future__ import annotations

import time
from email import message_from_bytes
from email.policy import default as default_policy

import pytest

from tests.conftest import seeded_database
from tests.mail.support import SENDER, SmtpServer
from tests.realtime.peers import request_chat, visitor
from tests.support.server import LiveServer, free_port, wait_until

pytestmark = pytest.mark.live

HOSTILE_NAMES = [
    "IT Security <attacker@evil.example>, Helpdesk",
    "IT Security <attacker@evil.example>, Helpdesk " + "very long name " * 5,
    '"Boss" <boss@evil.example>; Bcc: spy@evil.example',
    "=?utf-8?q?attacker=40evil.example?= <x@evil.example>",
    "Zoë (Müller), Ops: <a@evil.example>",
]


@pytest.fixture(scope="module")
def mailing_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mailabuse")
    smtp = SmtpServer(free_port())
    smtp.start()
    server = LiveServer(seeded_database("sqlite", tmp), log_path=tmp / "server.log", env={
        "MAIL_WORKER_INTERVAL": "0.3", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port),
        "MAIL_SENDER": f"Service Desk <{SENDER}>"})
    server.start()
    yield server, smtp
    server.stop()
    smtp.stop()


def ended_chat(server, name: str, email: str):
    made = request_chat(server.url, name=name, email=email)
    end_user = visitor(server.url, made["visitor_token"])
    assert end_user.call("close", {"chat_id": made["chat_id"]})["ok"] is True
    return made, end_user


def test_one_transcript_per_chat_only_to_its_address(mailing_server):
    server, smtp = mailing_server
    made, end_user = ended_chat(server, "Victor Victim", "victor@example.org")
    try:
        replies = [end_user.call("request_transcript", {"chat_id": made["chat_id"]})
                   for _ in range(10)]
    finally:
        end_user.disconnect()
    assert replies[0]["ok"] is True
    assert all(r["ok"] is False and r["error"] == "transcript_sent" for r in replies[1:])
    assert "victor@example.org" in replies[1]["message"]
    assert wait_until(lambda: any(m.rcpt_tos == ["victor@example.org"] for m in smtp.received), 20)
    time.sleep(1.5)  # several more passes of the server's sender
    assert [m.rcpt_tos for m in smtp.received if "victor" in m.rcpt_tos[0]] == [
        ["victor@example.org"]]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_display_name_never_adds_or_changes_a_recipient(mailing_server, name):
    server, smtp = mailing_server
    address = f"n{abs(hash(name)) % 10**8}@example.org"
    made, end_user = ended_chat(server, name, address)
    try:
        assert end_user.call("request_transcript", {"chat_id": made["chat_id"]})["ok"] is True
    finally:
        end_user.disconnect()
    assert wait_until(lambda: any(m.rcpt_tos == [address] for m in smtp.received), 20)
    [mail] = [m for m in smtp.received if m.rcpt_tos == [address]]
    written = message_from_bytes(mail.raw, policy=default_policy)  # the message as written
    recipients = [a.addr_spec for field in ("To", "Cc", "Bcc")
                  for header in written.get_all(field, [])
                  for a in header.addresses]
    assert recipients == [address], (name, written["To"])
    assert "evil.example" not in written["To"].addresses[0].addr_spec
    assert "evil.example" not in str(written["To"]).split("<")[-1]
