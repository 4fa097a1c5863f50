"""Races that happen when a busy desk gets many clicks and many chats at once."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from app.desk import chats
from app.desk.errors import DeskError
from app.extensions import db
from app.models import Chat, ChatStatus, ServiceRequest, User


def run_at_once(app, *jobs):
    """Run each job in its own thread with its own app context and session, released together."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def worker(index, job):
        with app.app_context():
            barrier.wait()
            try:
                results[index] = job()
            except DeskError as exc:
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_two_agents_racing_to_accept_always_give_exactly_one_winner(app, desk, database_url):
    rounds = 50 if database_url.startswith("postgresql") else 15
    alice_id, bob_id = desk.alice.id, desk.bob.id
    db.session.remove()

    def accept_as(user_id, chat_id):
        def job():
            return chats.accept_chat(chat_id, db.session.get(User, user_id)).agent_id
        return job

    for round_no in range(rounds):
        chat_id = chats.request_chat(name="Racer", email=f"r{round_no}@example.com",
                                     queue="Software", question="who wins?").chat.id
        db.session.remove()
        results = run_at_once(app, accept_as(alice_id, chat_id), accept_as(bob_id, chat_id))
        winners = [r for r in results if isinstance(r, int)]
        losers = [r for r in results if isinstance(r, DeskError)]
        assert len(winners) == 1, results
        assert len(losers) == 1 and losers[0].code == "taken", results
        chat = db.session.get(Chat, chat_id)
        assert chat.status == ChatStatus.ACTIVE and chat.agent_id == winners[0]
        owner = chat.service_request.owner
        assert owner.user.id == winners[0]
        db.session.remove()


def test_many_simultaneous_requests_get_distinct_sr_numbers(app, desk):
    db.session.remove()

    def request(i):
        return lambda: chats.request_chat(name=f"User {i}", email=f"u{i}@example.com",
                                          queue="Hardware", question="printer").sr.number

    numbers = run_at_once(app, *(request(i) for i in range(8)))
    assert all(isinstance(n, str) and n.startswith("SR") for n in numbers), numbers
    assert len(set(numbers)) == 8
    assert db.session.scalar(select(func.count(ServiceRequest.id))) == 8


def test_same_message_sent_twice_at_once_is_stored_once(app, desk):
    chat = chats.accept_chat(chats.request_chat(
        name="Eve", email="eve@example.com", queue="Software", question="q").chat.id, desk.alice)
    chat_id = chat.id
    db.session.remove()

    def send():
        visitor = chats.Sender.visitor(db.session.get(Chat, chat_id))
        return chats.post_message(chat_id, visitor, "only once", "dup-1")[0]["id"]

    ids = run_at_once(app, send, send, send)
    assert len(set(ids)) == 1, ids
    bodies = [m["body"] for m in chats.history(chat_id)]
    assert bodies.count("only once") == 1
