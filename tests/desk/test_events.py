"""How the desk tells its listeners what happened: after the commit, once, per app."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.desk import chats, events, requests
from app.desk.errors import Conflict, ValidationError
from app.desk.unit_of_work import transaction
from app.extensions import db
from app.models import Chat, ServiceRequest


def test_events_of_a_batch_reach_listeners_together_and_in_order(app, published):
    with events.batched():
        with transaction():
            events.record("first")
        with events.batched():  # nested: the outer block delivers
            with transaction():
                events.record("second", "third")
        assert published == []
    with transaction():
        events.record("alone")
    try:
        with events.batched():
            with transaction():
                events.record("committed before the error")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert published == ["first", "second", "third", "alone", "committed before the error"]


def test_an_event_of_a_use_case_that_rolls_back_is_never_published(app, desk, published):
    before = db.session.scalar(select(func.count(ServiceRequest.id)))
    with pytest.raises(ValidationError):
        with transaction():
            chats.request_chat(name="Ann", email="ann@example.com", queue="Software",
                               question="Printer jammed")
            requests.open_service_request(summary="", reported_by=desk.alice.person,
                                          owner_group=desk.software)  # refused: no summary
    assert published == []
    assert db.session.scalar(select(func.count(ServiceRequest.id))) == before
    assert db.session.scalar(select(func.count(Chat.id))) == 0


def test_a_conflict_at_commit_drops_the_events_of_the_use_case(app, desk, published):
    sr = chats.request_chat(name="Ann", email="ann@example.com", queue="Software",
                            question="VPN down").sr
    published.clear()
    version = sr.version
    requests.update_service_request(sr.id, actor=desk.bob, expected_version=version,
                                    changes={"impact": 2})
    assert len(published) == 1
    with pytest.raises(Conflict):
        requests.update_service_request(sr.id, actor=desk.alice, expected_version=version,
                                        changes={"impact": 4})
    assert len(published) == 1  # nothing for the refused edit
    db.session.expire_all()
    assert db.session.get(ServiceRequest, sr.id).impact == 2


def test_a_committed_use_case_is_published_exactly_once(app, desk, published):
    result = chats.request_chat(name="Ann", email="ann@example.com", queue="Software",
                                question="Mail is slow")
    assert [type(e).__name__ for e in published] == ["ServiceRequestChanged", "ChatWaiting"]
    with transaction():  # nested scopes: one commit, one delivery at the end of the outer
        chats.accept_chat(result.chat.id, desk.alice)
        assert [type(e).__name__ for e in published] == ["ServiceRequestChanged",
                                                        "ChatWaiting"]
    names = [type(e).__name__ for e in published]
    assert names.count("ChatAccepted") == 1
    db.session.commit()  # a later, empty commit delivers nothing again
    with transaction():
        pass
    assert [type(e).__name__ for e in published] == names


def test_events_are_recorded_only_inside_a_use_case(app):
    with pytest.raises(RuntimeError):
        events.record("outside")


def test_two_apps_in_one_process_keep_separate_listeners(app, database_url, tmp_path):
    from app import create_app

    other = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'b.db'}")
    heard_here, heard_there = [], []
    events.subscribe(app, heard_here.extend)
    events.subscribe(other, heard_there.extend)
    try:
        with transaction():
            events.record("for this app")
        with other.app_context():
            with transaction():
                events.record("for the other app")
            db.session.remove()
    finally:
        events.unsubscribe(app, heard_here.extend)
        events.unsubscribe(other, heard_there.extend)
    assert heard_here == ["for this app"]
    assert heard_there == ["for the other app"]
    assert app.extensions["realtime"] is not other.extensions["realtime"]
    assert app.extensions["realtime"].chat is not other.extensions["realtime"].chat
