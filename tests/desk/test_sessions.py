"""Which session still opens the desk, and what ends them all."""

from __future__ import annotations

from app.desk import events, people, sessions
from app.extensions import db


def test_a_session_names_the_user_and_his_current_generation(desk):
    alice = desk.alice
    assert alice.get_id() == f"{alice.id}:0"
    assert sessions.user_for_session(alice.get_id()).username == "alice"
    for malformed in (str(alice.id), f"{alice.id}:", f"{alice.id}:x", "x:0", None, 17,
                      f"{alice.id}:0:1", "9" * 50):
        assert sessions.user_for_session(malformed) is None, malformed


def test_logout_password_change_and_disabling_end_every_session(desk, published):
    old = desk.bob.get_id()
    sessions.end_sessions(desk.bob.id, sessions.LOGGED_OUT)
    assert sessions.user_for_session(old) is None
    fresh = db.session.get(type(desk.bob), desk.bob.id)
    db.session.refresh(fresh)
    assert sessions.user_for_session(fresh.get_id()) is not None

    people.set_password(desk.bob.id, "another long passphrase")
    people.update_account(desk.bob.id, actor=desk.maria, is_enabled=False)
    people.update_account(desk.bob.id, actor=desk.maria, is_enabled=True)  # nothing ends
    assert [e for e in published if isinstance(e, events.SessionsEnded)] == [
        events.SessionsEnded(desk.bob.id, "logged_out"),
        events.SessionsEnded(desk.bob.id, "password_changed"),
        events.SessionsEnded(desk.bob.id, "disabled"),
    ]
    assert sessions.current_generations({desk.bob.id, desk.alice.id}) == {
        desk.bob.id: 3, desk.alice.id: 0}


def test_changing_a_queues_members_is_told_for_those_who_joined_or_left(desk, published):
    members = [p.id for p in desk.software.members if p.id != desk.alice.person_id]
    people.set_group_members(desk.software.id, members + [desk.maria.person_id])
    assert published == [events.MembershipChanged(
        tuple(sorted([desk.alice.person_id, desk.maria.person_id])), (desk.software.id,))]
    people.set_group_members(desk.software.id, members + [desk.maria.person_id])
    assert len(published) == 1  # no change, nothing told
