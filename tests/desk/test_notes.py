"""Internal notes and whispers: who writes them, where they are kept, what the end user sees."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.desk import chats, events, notes
from app.desk.errors import Conflict, Forbidden, ValidationError
from app.extensions import db
from app.models import ChatNote, SenderRole, ServiceRequest, WorkLogType


def live_chat(desk, queue="Software"):
    result = chats.request_chat(name="Eve End-User", email="eve@example.com", queue=queue,
                                question="Outlook asks for my password")
    return chats.accept_chat(result.chat.id, desk.alice)


def work_log(chat):
    sr = db.session.get(ServiceRequest, chat.sr_id)
    db.session.refresh(sr)
    return [(e.log_type, e.summary, e.details, e.client_visible) for e in sr.work_log]


def test_agent_note_is_kept_apart_from_messages_and_on_the_work_log(desk, published):
    chat = live_chat(desk)
    before = chats.history(chat.id)
    note = notes.write_note(chat.id, desk.alice, "Caller sounds <b>upset</b>", "n-1")
    assert note["kind"] == "NOTE" and note["author"]["name"] == "Alice Agent"
    assert note["body"] == "Caller sounds <b>upset</b>" and note["to"] is None
    # The end user's stream is unchanged: no message, no gap.
    assert chats.history(chat.id) == before
    assert notes.notes_of([chat.id])[chat.id] == [note]
    assert (WorkLogType.NOTE, "Internal note in the chat by Alice Agent",
            "Caller sounds <b>upset</b>", False) in work_log(chat)
    assert events.NoteWritten(chat.id, note, desk.alice.id) in published


def test_a_note_is_stored_once_per_client_id(desk):
    chat = live_chat(desk)
    first = notes.write_note(chat.id, desk.alice, "Once", "n-1")
    again = notes.write_note(chat.id, desk.alice, "Once", "n-1")
    assert again == first
    assert len(db.session.scalars(select(ChatNote)).all()) == 1


def test_notes_never_reach_the_transcript(desk):
    chat = live_chat(desk)
    notes.write_note(chat.id, desk.alice, "Internal: VIP customer", "n-1")
    chats.close_chat(chat.id, by=SenderRole.AGENT, agent=desk.alice)
    [transcript] = [details for kind, _, details, _ in work_log(chat)
                    if kind == WorkLogType.TRANSCRIPT]
    assert "VIP" not in transcript


def test_only_the_chats_agent_or_a_manager_writes_notes(desk):
    chat = live_chat(desk)
    with pytest.raises(Forbidden):
        notes.write_note(chat.id, desk.bob, "Not my chat", "n-1")
    assert notes.write_note(chat.id, desk.maria, "Manager's note", "n-2")["kind"] == "NOTE"
    assert [n["body"] for n in notes.notes_of([chat.id])[chat.id]] == ["Manager's note"]


@pytest.mark.parametrize("body, client_id, code", [("", "n-1", "required"),
                                                    ("x" * 4001, "n-1", "too_long"),
                                                    ("ok", "", "invalid"), (7, "n-1", "invalid")])
def test_bad_notes_are_refused(desk, body, client_id, code):
    chat = live_chat(desk)
    with pytest.raises(ValidationError) as refused:
        notes.write_note(chat.id, desk.alice, body, client_id)
    assert refused.value.code == code
    assert notes.notes_of([chat.id])[chat.id] == []


def test_no_note_on_a_closed_chat(desk):
    chat = live_chat(desk)
    chats.close_chat(chat.id, by=SenderRole.AGENT, agent=desk.alice)
    with pytest.raises(Conflict) as refused:
        notes.write_note(chat.id, desk.alice, "Too late", "n-1")
    assert refused.value.code == "closed"


def test_manager_whispers_to_the_chats_agent(desk, published):
    chat = live_chat(desk)
    whisper = notes.whisper(chat.id, desk.maria, "Offer a replacement laptop", "w-1")
    assert whisper["kind"] == "WHISPER"
    assert whisper["to"] == {"id": desk.alice.id, "name": "Alice Agent"}
    assert notes.notes_of([chat.id])[chat.id] == [whisper]
    assert any(summary == "Whisper from Maria Manager to Alice Agent in the chat"
               and not visible for _, summary, _, visible in work_log(chat))
    assert events.NoteWritten(chat.id, whisper, desk.alice.id) in published


def test_only_managers_whisper(desk):
    chat = live_chat(desk)
    with pytest.raises(Forbidden):
        notes.whisper(chat.id, desk.bob, "psst", "w-1")
    assert notes.notes_of([chat.id])[chat.id] == []


def test_whisper_on_a_closed_or_waiting_chat_is_refused(desk):
    waiting = chats.request_chat(name="Eve", email="eve@example.com", queue="Software",
                                 question="Hello").chat
    with pytest.raises(Conflict) as refused:
        notes.whisper(waiting.id, desk.maria, "psst", "w-1")
    assert refused.value.code == "not_accepted"
    chat = live_chat(desk)
    chats.close_chat(chat.id, by=SenderRole.VISITOR)
    with pytest.raises(Conflict) as refused:
        notes.whisper(chat.id, desk.maria, "psst", "w-2")
    assert refused.value.code == "closed"
    assert db.session.scalars(select(ChatNote)).all() == []


def test_a_transfer_carries_a_note_for_the_next_agent(desk):
    chat = live_chat(desk)
    notes.transfer_with_note(chat.id, desk.alice, "Network", "VPN, not Outlook: over to you")
    [note] = notes.notes_of([chat.id])[chat.id]
    assert note["body"] == "VPN, not Outlook: over to you"
    taken = chats.accept_chat(chat.id, desk.bob)
    assert taken.queue.name == "Network"
    assert notes.notes_of([chat.id])[chat.id] == [note]


def test_a_refused_transfer_keeps_no_note(desk):
    chat = live_chat(desk)
    with pytest.raises(ValidationError):
        notes.transfer_with_note(chat.id, desk.alice, "Software", "Same queue")
    db.session.rollback()
    assert notes.notes_of([chat.id])[chat.id] == []
