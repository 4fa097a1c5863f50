"""The end user's context beside a chat: where he asks from, his earlier requests, and the
resolved SRs most like his question."""

from __future__ import annotations

import pytest

from app import demo_history
from app.desk import chat_context, chats, identity, people, requests, solved_before
from app.desk.errors import DeskError
from app.desk.identity import identity_hash
from app.extensions import db
from app.models import ChatContext, ServiceRequest, SRSource

WINDOWS_CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                  "Gecko) Chrome/131.0.0.0 Safari/537.36")
HOST_SECRET = "the host sites' secret"
CONTEXT = {"page_url": "https://intranet.example.com/it/vpn", "page_title": "VPN · IT help",
           "referrer": "https://intranet.example.com/", "language": "en-GB",
           "time_zone": "Europe/Berlin"}


def ask(question: str, email: str = "erin@example.org", **extra):
    return chats.request_chat(name="Erin End-User", email=email, queue="Network",
                              question=question, **extra).chat


def test_the_chat_keeps_the_page_language_time_zone_browser_and_os(desk):
    chat = ask("VPN drops", context=CONTEXT, user_agent=WINDOWS_CHROME)
    assert chat_context.of_chat(chat.id) == {**CONTEXT, "browser": "Chrome 131",
                                             "os": "Windows 10"}
    assert chat_context.latest_of_service_request(chat.sr_id)["time_zone"] == "Europe/Berlin"


@pytest.mark.parametrize("context, field", [
    ("https://x.example", "context"),
    ({"page_url": "javascript:alert(1)"}, "context.page_url"),
    ({"referrer": "file:///etc/passwd"}, "context.referrer"),
    ({"language": "en_GB<script>"}, "context.language"),
    ({"time_zone": "../../etc/localtime"}, "context.time_zone"),
    ({"page_title": 42}, "context.page_title"),
    ({"page_url": "https://x.example/" + "a" * 2000}, "context.page_url"),
    ({"cookies": "session=1"}, "context.cookies"),
])
def test_bad_context_is_refused_and_no_chat_is_opened(desk, context, field):
    with pytest.raises(DeskError) as refused:
        ask("VPN drops", context=context)
    assert refused.value.field == field
    assert ServiceRequest.query.count() == 0 and ChatContext.query.count() == 0


def test_earlier_requests_newest_first_and_only_visible_ones_when_not_verified(desk):
    demo_history.seed_history()  # Erin: a resolved Network SR and an open Software one
    chat = ask("The VPN again")
    bob = chat_context.earlier_requests(desk.bob, chat)  # Software and Network
    assert bob["verified"] is False
    assert [r["summary"] for r in bob["requests"]] == [
        "Cannot open shared calendar", "VPN disconnects on hotel Wi-Fi"]
    assert bob["requests"][0]["link"] == f"/sr/{bob['requests'][0]['number']}"
    alice = chat_context.earlier_requests(desk.alice, chat)  # Hardware and Software
    assert [r["summary"] for r in alice["requests"]] == ["Cannot open shared calendar"]
    assert len(chat_context.earlier_requests(desk.maria, chat)["requests"]) == 2  # manager
    stranger = chat_context.earlier_requests(desk.bob, ask("Hi", email="new@example.org"))
    assert stranger["requests"] == []


def test_a_verified_chat_lists_the_persons_own_requests_unmarked(app, desk):
    demo_history.seed_history()  # Erin's own: a resolved Network SR and an open Software one
    typed = ask("Is this the desk?")  # someone typed Erin's address: not her SR
    app.config["WIDGET_IDENTITY_SECRET"] = HOST_SECRET
    vouched = ask("The VPN again", identity_hash=identity_hash(HOST_SECRET, "erin@example.org"))
    assert vouched.verified and not typed.verified
    # alice (Hardware and Software) sees all of the person's SRs, even Network's, and no
    # mark; the SR of the typed chat is not hers, so it is not there.
    mine = chat_context.earlier_requests(desk.alice, vouched)
    assert mine["verified"] is True
    assert [r["summary"] for r in mine["requests"]] == [
        "Cannot open shared calendar", "VPN disconnects on hotel Wi-Fi"]
    # The typed chat beside it: marked, and only what alice may open anyway.
    typed_list = chat_context.earlier_requests(desk.alice, typed)
    assert typed_list["verified"] is False
    assert [r["summary"] for r in typed_list["requests"]] == ["Cannot open shared calendar"]


def test_solved_before_ranks_resolved_requests_like_the_question(desk):
    demo_history.seed_history()
    chat = ask("my vpn disconnects every few minutes from home")
    found = solved_before.for_chat(chat)
    assert found[0]["summary"] == "VPN drops every few minutes"
    assert "VPN client to 5.2" in found[0]["solution"]
    assert all(item["status"] == "RESOLVED" for item in found)
    assert "Cannot open shared calendar" not in [item["summary"] for item in found]  # open
    # The end user adds details: the answer follows what he says.
    chats.post_message(chat.id, chats.Sender.visitor(chat),
                       "Actually it is Outlook asking for my password again", "c1")
    assert solved_before.for_chat(chat)[0]["summary"] == "Outlook keeps asking for my password"
    assert solved_before.similar("zzzz qqqq") == [] and solved_before.similar("") == []


def test_the_demo_customer_pages_employee_has_an_open_request_to_chat_about(app, desk):
    from app.widget.demo_host import EMPLOYEE

    demo_history.seed_history()
    app.config["WIDGET_IDENTITY_SECRET"] = HOST_SECRET
    signed = identity_hash(HOST_SECRET, EMPLOYEE["email"])
    mine = identity.my_open_requests(EMPLOYEE["email"], signed)
    assert [sr.summary for sr in mine] == ["Docking station does not charge my laptop"]


def _resolved(desk, summary: str, solution: str) -> None:
    sr = requests.open_service_request(
        summary=summary, details=summary, owner_group=desk.network, source=SRSource.CHAT,
        reported_by=people.end_user("Dana Field", "dana@example.org", verified=True))
    requests.update_service_request(sr.id, actor=desk.maria, expected_version=sr.version,
                                     changes={"solution": solution}, status="RESOLVED")


def test_a_solution_given_many_times_is_listed_once(desk):
    for _ in range(3):
        _resolved(desk, "VPN drops every few minutes", "Update the VPN client to 5.2.")
    _resolved(desk, "VPN drops at night", "The gateway restarts at 2:00; reconnect.")
    found = solved_before.similar("my vpn drops every few minutes")
    assert [sr.solution for sr in found] == ["Update the VPN client to 5.2.",
                                             "The gateway restarts at 2:00; reconnect."]


def test_postgresql_ranks_the_most_recent_matches(desk, monkeypatch):
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite scores every match")
    _resolved(desk, "VPN drops every few minutes", "Long ago: the old client.")
    _resolved(desk, "Printer offline", "Restarted the VPN appliance's printer share.")
    _resolved(desk, "Teams has no sound", "Reinstalled the audio driver after the VPN update.")
    assert solved_before.similar("vpn drops every few minutes")[0].solution.startswith("Long")
    monkeypatch.setattr(solved_before, "CANDIDATES", 2)  # the two newest mention the VPN
    assert "Long ago: the old client." not in [
        sr.solution for sr in solved_before.similar("vpn drops every few minutes")]
