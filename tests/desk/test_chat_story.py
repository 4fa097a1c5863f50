"""The seed's story through the service layer: request, notify, accept, chat, close."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.desk import chats, events, presence
from app.desk.chats import Sender
from app.desk.errors import Conflict, DeskError, Forbidden, NotFound
from app.extensions import db
from app.models import Chat, ChatStatus, SenderRole, SRSource, SRStatus, WorkLogType


def ask(queue="Software", email="eve@example.com", question="Outlook keeps asking for my password"):
    return chats.request_chat(name="Eve End-User", email=email, phone="+1 555 0199",
                              queue=queue, question=question)


def test_chat_request_opens_queued_sr_owned_by_the_queue_group(desk, published):
    result = ask()
    sr = result.sr
    assert sr.number == f"SR{1000 + sr.id}"
    assert sr.status == SRStatus.QUEUED
    assert sr.source == SRSource.CHAT
    assert sr.owner_group.name == "Software"
    assert sr.owner is None
    assert sr.reported_by.display_name == "Eve End-User"
    assert sr.affected_person.email == "eve@example.com"
    assert sr.summary == "Outlook keeps asking for my password"
    assert [h.to_status for h in sr.history] == [SRStatus.QUEUED]
    assert result.chat.status == ChatStatus.WAITING
    assert result.position == 1
    assert events.ChatWaiting(result.chat.id, desk.software.id) in published


def test_waiting_counts_per_agent_cover_all_and_only_their_queues(desk):
    ask("Software", "a@example.com")
    ask("Software", "b@example.com")
    ask("Hardware", "c@example.com")
    ask("Network", "d@example.com")
    alice = chats.queue_state(desk.alice)  # Hardware, Software
    bob = chats.queue_state(desk.bob)  # Software, Network
    assert {q["name"]: q["waiting"] for q in alice["queues"]} == {"Hardware": 1, "Software": 2}
    assert alice["total"] == 3
    assert {q["name"]: q["waiting"] for q in bob["queues"]} == {"Network": 1, "Software": 2}
    assert bob["total"] == 3
    maria = chats.queue_state(desk.maria)
    assert (maria["queues"], maria["total"], maria["oldest_wait_seconds"]) == ([], 0, None)
    waiting = chats.waiting_chats(desk.alice)
    assert [c.visitor.email for c in waiting] == ["a@example.com", "b@example.com",
                                                  "c@example.com"]


def test_positions_move_up_when_the_first_chat_is_accepted(desk):
    first, second = ask(email="a@example.com"), ask(email="b@example.com")
    assert (first.position, second.position) == (1, 2)
    chats.accept_chat(first.chat.id, desk.alice)
    assert chats.queue_position(db.session.get(Chat, second.chat.id)) == 1
    assert chats.waiting_positions(desk.software.id) == [(second.chat.id, 1)]


def test_accept_makes_agent_owner_keeps_sr_queued_and_greets(desk, published):
    result = ask()
    chat = chats.accept_chat(result.chat.id, desk.alice)
    assert chat.status == ChatStatus.ACTIVE
    assert chat.agent_id == desk.alice.id
    sr = chat.service_request
    assert sr.owner.display_name == "Alice Agent"
    assert sr.status == SRStatus.QUEUED
    bodies = [m["body"] for m in chats.history(chat.id)]
    assert bodies[0] == "Outlook keeps asking for my password"
    assert bodies[1] == ("Hello, this is Alice Agent from the Software desk. "
                         "How can I help you today?")
    assert any(isinstance(e, events.ChatAccepted) and e.agent_name == "Alice Agent"
               for e in published)
    assert chats.queue_state(desk.bob)["total"] == 0


def test_second_agent_cannot_accept_taken_chat(desk):
    result = ask()
    chats.accept_chat(result.chat.id, desk.alice)
    with pytest.raises(Conflict) as err:
        chats.accept_chat(result.chat.id, desk.bob)
    assert err.value.code == "taken"
    assert db.session.get(Chat, result.chat.id).agent_id == desk.alice.id


def test_agent_outside_the_queue_is_refused(desk):
    result = ask("Network")
    with pytest.raises(Forbidden) as err:
        chats.accept_chat(result.chat.id, desk.alice)
    assert err.value.code == "not_your_queue"
    assert db.session.get(Chat, result.chat.id).status == ChatStatus.WAITING


def test_unknown_chat_cannot_be_accepted(desk):
    with pytest.raises(NotFound) as err:
        chats.accept_chat(999999, desk.alice)
    assert err.value.code == "unknown_chat"


def test_messages_both_ways_are_ordered_time_stamped_and_deduplicated(desk, published):
    result = ask()
    chat = chats.accept_chat(result.chat.id, desk.alice)
    visitor = Sender.visitor(chat)
    agent = Sender.agent(desk.alice)
    m1, created1 = chats.post_message(chat.id, visitor, "It started this morning", "v-1")
    m2, created2 = chats.post_message(chat.id, agent, "Let me check your mailbox", "a-1")
    again, created_again = chats.post_message(chat.id, visitor, "It started this morning", "v-1")
    assert created1 and created2 and not created_again
    assert again == m1
    assert m1["sender"] == {"role": "VISITOR", "name": "Eve End-User"}
    assert m2["sender"] == {"role": "AGENT", "name": "Alice Agent"}
    assert m1["sent_at"].endswith("Z") and m1["sent_at"] <= m2["sent_at"]
    assert set(m1) == {"id", "chat_id", "seq", "sender", "body", "sent_at", "client_id",
                       "attachments"}
    history = chats.history(chat.id)
    assert [m["client_id"][:8] for m in history] == ["question", "greeting", "v-1", "a-1"]
    assert [m["seq"] for m in history] == [1, 2, 3, 4]  # the retry took no number
    assert chats.history(chat.id, after_id=m1["id"]) == [m2]
    posted = [e for e in published if isinstance(e, events.MessagePosted)]
    assert [e.message["client_id"][:8] for e in posted] == ["greeting", "v-1", "a-1"]


def test_html_in_messages_is_stored_as_plain_text(desk):
    chat = chats.accept_chat(ask().chat.id, desk.alice)
    message, _ = chats.post_message(chat.id, Sender.visitor(chat),
                                    "<script>alert(1)</script>", "x")
    assert message["body"] == "<script>alert(1)</script>"


def test_close_attaches_the_transcript_to_the_sr(desk, published):
    chat = chats.accept_chat(ask().chat.id, desk.alice)
    chats.post_message(chat.id, Sender.visitor(chat), "Thanks, that fixed it", "v-1")
    closed = chats.close_chat(chat.id, by=SenderRole.AGENT, agent=desk.alice)
    assert closed.status == ChatStatus.CLOSED and closed.closed_by == "AGENT"
    log = [w for w in closed.service_request.work_log if w.log_type == WorkLogType.TRANSCRIPT]
    assert len(log) == 1
    assert "Eve End-User: Outlook keeps asking for my password" in log[0].details
    assert "Alice Agent: Hello, this is Alice Agent" in log[0].details
    assert log[0].details.index("Outlook") < log[0].details.index("Thanks, that fixed it")
    assert any(isinstance(e, events.ChatClosed) for e in published)
    with pytest.raises(Conflict) as err:
        chats.post_message(chat.id, Sender.visitor(chat), "hello?", "v-2")
    assert err.value.code == "closed"
    # Closing twice is harmless: still one transcript.
    chats.close_chat(chat.id, by=SenderRole.VISITOR)
    assert len([w for w in closed.service_request.work_log
                if w.log_type == WorkLogType.TRANSCRIPT]) == 1


def test_only_the_chat_agent_may_write_or_close(desk):
    chat = chats.accept_chat(ask().chat.id, desk.alice)
    with pytest.raises(Forbidden):
        chats.post_message(chat.id, Sender.agent(desk.bob), "I'll take over", "b-1")
    with pytest.raises(Forbidden):
        chats.close_chat(chat.id, by=SenderRole.AGENT, agent=desk.bob)
    assert [m["client_id"][:8] for m in chats.history(chat.id)] == ["question", "greeting"]


def test_visitor_who_leaves_before_accept_is_abandoned_after_the_grace_period(desk, published):
    result = ask()
    presence.visitor_left(result.chat.id)
    assert chats.abandon_expired(grace_seconds=3600) == []
    assert chats.abandon_expired(grace_seconds=0) == [result.chat.id]
    chat = db.session.get(Chat, result.chat.id)
    assert chat.status == ChatStatus.ABANDONED
    assert chats.queue_state(desk.alice)["total"] == 0
    assert events.ChatLeftQueue(chat.id, desk.software.id, "abandoned") in published


def test_visitor_who_comes_back_is_not_abandoned(desk):
    result = ask()
    presence.visitor_left(result.chat.id)
    presence.visitor_connected(result.chat.id, "node-a")
    assert chats.abandon_expired(grace_seconds=0) == []


def test_idle_chats_are_closed_by_the_system_with_a_reason(desk):
    chat = chats.accept_chat(ask().chat.id, desk.alice)
    assert chats.close_idle_chats(timeout_seconds=3600) == []
    assert chats.close_idle_chats(timeout_seconds=0) == [chat.id]
    db.session.refresh(chat)
    assert chat.status == ChatStatus.CLOSED and chat.closed_by == "SYSTEM"
    assert "without messages" in chat.close_reason


def test_transfer_puts_the_chat_back_in_another_queue(desk, published):
    chat = chats.accept_chat(ask().chat.id, desk.alice)
    moved = chats.transfer_chat(chat.id, desk.alice, "Network")
    assert moved.status == ChatStatus.WAITING and moved.queue_id == desk.network.id
    sr = moved.service_request
    assert sr.owner_group.name == "Network" and sr.owner is None
    assert sr.history[-1].memo == "Chat transferred from Software to Network"
    assert chats.queue_state(desk.bob)["total"] == 1
    assert chats.queue_state(desk.alice)["total"] == 0
    chats.accept_chat(moved.id, desk.bob)
    with pytest.raises(Forbidden):
        chats.transfer_chat(moved.id, desk.alice, "Hardware")


def test_rating_and_transcript_request_after_the_chat(desk):
    chat = chats.accept_chat(ask().chat.id, desk.alice)
    with pytest.raises(Conflict):
        chats.rate_chat(chat.id, 5)
    chats.close_chat(chat.id, by=SenderRole.VISITOR)
    chats.rate_chat(chat.id, 4, "Quick and friendly")
    assert chat.service_request.rating == 4
    assert chat.service_request.rating_comment == "Quick and friendly"
    chats.request_transcript(chat.id)
    from app.models import OutboxMessage

    row = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "transcript")).one()
    assert row.to_address == "eve@example.com"
    assert chat.service_request.number in row.subject


def test_a_typed_address_never_finds_shows_or_renames_the_desks_person(desk):
    maria = desk.maria.person
    first = chats.request_chat(name="Mallory", email="MARIA@example.com", phone="+1 555 0666",
                               queue="Hardware", question="hi")
    typed = first.sr.reported_by
    assert typed.id != maria.id and not first.chat.verified
    assert (typed.display_name, typed.phone, typed.verified) == ("Mallory", "+1 555 0666", False)
    assert (maria.display_name, maria.phone) == ("Maria Manager", "+1 555 0103")
    second = chats.request_chat(name="Eve", email="maria@example.com", queue="Hardware",
                                question="hi again")
    assert second.sr.reported_by_id not in (maria.id, typed.id)  # nor one typed before


def test_a_vouched_for_address_is_the_desks_person(desk, app):
    from app.desk.identity import identity_hash

    app.config["WIDGET_IDENTITY_SECRET"] = "a secret of the host sites"
    signed = identity_hash("a secret of the host sites", "maria@example.com")
    made = chats.request_chat(name="M.", email="maria@example.com", queue="Hardware",
                              question="hi", identity_hash=signed)
    assert made.chat.verified and made.sr.reported_by_id == desk.maria.person_id
    assert made.sr.reported_by.display_name == "Maria Manager"
    with pytest.raises(DeskError) as err:
        chats.request_chat(name="M.", email="maria@example.com", queue="Hardware",
                           question="hi", identity_hash=signed[:-1] + ("0" if signed[-1] != "0" else "1"))
    assert err.value.code == "not_verified"


def test_sr_numbers_are_unique_and_sequential(desk):
    numbers = [ask(email=f"u{i}@example.com").sr.number for i in range(5)]
    assert len(set(numbers)) == 5
    assert numbers == sorted(numbers, key=lambda n: int(n[2:]))


def test_desk_errors_name_field_and_reason(desk):
    with pytest.raises(DeskError) as err:
        chats.request_chat(name="", email="x@example.com", queue="Software", question="q")
    assert err.value.field == "name" and err.value.to_dict()["ok"] is False
