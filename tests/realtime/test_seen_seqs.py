"""What the periodic delivery check counts as arrived at a process: only the gap-free prefix
of a chat's seqs (a message of another process lost while later ones of this process arrive
is still missing)."""

from __future__ import annotations

from app.realtime.message_queue import SeenSeqs


def message(chat_id, seq):
    return {"chat_id": chat_id, "seq": seq, "id": 100 + seq}


def test_only_the_gap_free_prefix_counts():
    seen = SeenSeqs()
    seen.note("history", "/chat", {"chat_id": 7, "last_seq": 3, "messages": []})
    assert seen.seqs[7] == 3
    seen.note("message", "/chat", message(7, 5))  # 4 (from another process) was lost
    seen.note("message", "/chat", message(7, 6))
    assert seen.seqs[7] == 3
    seen.note("message", "/chat", message(7, 4))  # it comes after all (a re-publication)
    assert seen.seqs[7] == 6
    seen.note("message", "/queue", message(7, 7))  # other namespaces, other events: ignored
    seen.note("typing", "/chat", {"chat_id": 7, "seq": 7})
    assert seen.seqs[7] == 6
    seen.reached(7, 9)  # told to resync: its sockets fetch up to 9
    seen.note("message", "/chat", message(7, 10))
    assert seen.seqs[7] == 10
    seen.keep_only([8])
    assert seen.seqs == {}
