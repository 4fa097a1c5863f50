"""Every message of a chat has a seq, 1, 2, 3, ... without gaps, whoever stores it (a batch of
many chats' messages with refusals and retries among them, a greeting, a transfer note); and a
chat's history comes in pages bounded by count and by bytes."""

from __future__ import annotations

from app.desk import chats
from app.desk.chats import Draft, Sender
from app.desk.errors import DeskError
from app.extensions import db
from app.models import Chat


def ask(email):
    return chats.request_chat(name="Eve End-User", email=email, queue="Software",
                              question="It does not work").chat.id


def seqs(chat_id):
    return [m["seq"] for m in chats.history(chat_id)]


def test_a_batch_numbers_each_chats_messages_without_gaps(desk):
    live = chats.accept_chat(ask("one@example.com"), desk.alice).id  # question 1, greeting 2
    waiting = ask("two@example.com")
    bobs = chats.accept_chat(ask("three@example.com"), desk.bob).id
    visitor = {chat_id: Sender.visitor(db.session.get(Chat, chat_id))
               for chat_id in (live, waiting, bobs)}
    drafts = [Draft(live, visitor[live], "v1", "v1"),
              Draft(waiting, visitor[waiting], "w1", "w1"),
              Draft(live, Sender.agent(desk.alice), "a1", "a1"),
              Draft(bobs, Sender.agent(desk.alice), "not mine", "x1"),  # refused: bob's chat
              Draft(waiting, Sender.agent(desk.alice), "too early", "x2"),  # refused: waiting
              Draft(live, visitor[live], "", "x3"),  # refused: empty
              Draft(live, visitor[live], "v2", "v2"),
              Draft(bobs, visitor[bobs], "b1", "b1")]
    outcomes = chats.post_messages(drafts)
    assert [isinstance(o, DeskError) for o in outcomes] == [
        False, False, False, True, True, True, False, False]
    assert [o[0]["seq"] for o in outcomes if not isinstance(o, DeskError)] == [3, 2, 4, 5, 3]
    # A retried batch (every client id stored already) takes no number.
    again = chats.post_messages([drafts[0], drafts[6], Draft(live, visitor[live], "v3", "v3")])
    assert [(o[0]["seq"], o[1]) for o in again] == [(3, False), (5, False), (6, True)]
    assert seqs(live) == [1, 2, 3, 4, 5, 6]
    assert seqs(waiting) == [1, 2]
    assert seqs(bobs) == [1, 2, 3]
    assert db.session.get(Chat, live).last_seq == 6


def test_a_transfer_note_takes_the_next_seq(desk):
    chat_id = chats.accept_chat(ask("moved@example.com"), desk.alice).id
    chats.post_message(chat_id, Sender.agent(desk.alice), "Moving you on", "a1")
    chats.transfer_chat(chat_id, desk.alice, "Hardware")
    history = chats.history(chat_id)
    assert [m["sender"]["role"] for m in history] == ["VISITOR", "AGENT", "AGENT", "SYSTEM"]
    assert [m["seq"] for m in history] == [1, 2, 3, 4]


def test_history_comes_in_pages_bounded_by_count_and_bytes(desk):
    chat_id = ask("pages@example.com")
    visitor = Sender.visitor(db.session.get(Chat, chat_id))
    chats.post_messages([Draft(chat_id, visitor, f"{n} " + "x" * 900, f"m{n}")
                         for n in range(30)])
    whole = chats.history(chat_id)
    assert len(whole) == 31

    def walk(**limits):
        pages, after = [], None
        while True:
            page, more = chats.history_pages({chat_id: after}, **limits)[chat_id]
            pages.append(page)
            if not more:
                return pages
            after = page[-1]["id"]

    by_count = walk(max_messages=7, max_bytes=10**6)
    assert [len(p) for p in by_count] == [7, 7, 7, 7, 3]
    assert [m for p in by_count for m in p] == whole
    by_bytes = walk(max_messages=100, max_bytes=4000)
    assert all(1 <= len(p) <= 4 for p in by_bytes)
    assert [m for p in by_bytes for m in p] == whole
    # One message larger than a page still comes (alone).
    assert [len(p) for p in walk(max_messages=100, max_bytes=10)] == [1] * 31
