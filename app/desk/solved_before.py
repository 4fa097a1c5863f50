"""Solved before: the resolved SRs most like what an end user is asking, with their solutions.

On PostgreSQL this is the database's own full-text search: the SR's summary, solution and
details weighted in that order (A, B, C), kept by the database in a stored, GIN-indexed
column, matched against any word of the question (stemmed, stop words dropped) and ranked by
cover density (`ts_rank_cd`). Ranking is bounded: the CANDIDATES most recent matching SRs
are ranked, not every match, which on a desk with a million SRs is a third of them for a
common word ("printer": seconds to rank them all, milliseconds for the most recent thousand;
`bench/volume.py` measures it). SQLite has no such search: it scores the longest words of
the question by plain substring matches, good enough for the small desks that run on it.
The same solution given many times is listed once (its best-ranked SR). No model is downloaded; nothing leaves
the database.
"""

from __future__ import annotations

import re

from sqlalchemy import case, func, literal_column, or_, select

from app import wire
from app.extensions import db
from app.models import Chat, ChatMessage, SenderRole, ServiceRequest, SRStatus

LIMIT = 3
SPARE = 10  # SQLite: ranked rows read per one shown, so that repeated solutions can go
CANDIDATES = 1000  # the most recent matching SRs that are ranked
QUERY_TEXT_MAX = 2000
QUERY_WORDS_MAX = 30
SQLITE_WORDS_MAX = 8
_WORD = re.compile(r"\w+", re.UNICODE)
_SOLVED = (SRStatus.RESOLVED, SRStatus.CLOSED)
_COMMON = frozenset("""about after again also because been before being cannot could does
doing from have having here into just like more most need needs only other over please same
should some still than that their them then there these they this those through very want
what when where which while will with would your""".split())


def question_of(chat: Chat) -> str:
    """What the end user has asked so far: his question and his messages (the latest
    last), bounded."""
    bodies = db.session.scalars(
        select(ChatMessage.body).where(ChatMessage.chat_id == chat.id,
                                       ChatMessage.sender_role == SenderRole.VISITOR)
        .order_by(ChatMessage.id.desc()).limit(20))
    said = " ".join(reversed([body for body in bodies if body]))
    return said[-QUERY_TEXT_MAX:] or chat.question


def for_chat(chat: Chat, limit: int = LIMIT) -> list[dict]:
    return [wire.solved_before(sr) for sr in similar(question_of(chat), exclude=chat.sr_id,
                                                      limit=limit)]


def similar(question: str, *, exclude: int | None = None, limit: int = LIMIT
            ) -> list[ServiceRequest]:
    """The resolved SRs (with a solution) closest to the question, best first, each
    solution once."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(question) if len(w) > 1))
    if not words:
        return []
    solved = [ServiceRequest.status.in_(_SOLVED), ServiceRequest.solution.is_not(None)]
    if exclude is not None:
        solved.append(ServiceRequest.id != exclude)
    if db.session.get_bind().dialect.name == "postgresql":
        ranked = _ranked_by_full_text(words[:QUERY_WORDS_MAX], solved, limit * SPARE)
    else:
        ranked = _ranked_by_substrings(words, solved, limit * SPARE)
    return _distinct_solutions(ranked)[:limit]


def _distinct_solutions(ranked: list[ServiceRequest]) -> list[ServiceRequest]:
    seen: set[str] = set()
    kept = []
    for sr in ranked:
        solution = " ".join((sr.solution or "").lower().split())
        if solution not in seen:
            seen.add(solution)
            kept.append(sr)
    return kept


def _ranked_by_full_text(words: list[str], solved: list, limit: int) -> list[ServiceRequest]:
    query = func.to_tsquery(literal_column("'english'"), " | ".join(words))
    document = ServiceRequest.search_document
    recent = (select(ServiceRequest.id).where(*solved, document.op("@@")(query))
              .order_by(ServiceRequest.id.desc()).limit(CANDIDATES).subquery())
    rank = func.ts_rank_cd(document, query).label("rank")
    solution = func.lower(ServiceRequest.solution)
    best_of_each = (select(ServiceRequest.id, rank)
                    .join(recent, recent.c.id == ServiceRequest.id)
                    .distinct(solution)  # PostgreSQL's DISTINCT ON: the best SR per solution
                    .order_by(solution, rank.desc(), ServiceRequest.id.desc()).subquery())
    return list(db.session.scalars(
        select(ServiceRequest).join(best_of_each, best_of_each.c.id == ServiceRequest.id)
        .order_by(best_of_each.c.rank.desc(), ServiceRequest.id.desc()).limit(limit)))


def _ranked_by_substrings(words: list[str], solved: list, limit: int) -> list[ServiceRequest]:
    telling = sorted((w for w in words if len(w) >= 4 and w not in _COMMON), key=len,
                     reverse=True)[:SQLITE_WORDS_MAX]
    if not telling:
        return []
    fields = {ServiceRequest.summary: 3, ServiceRequest.solution: 2, ServiceRequest.details: 1}
    score = sum(case((func.lower(func.coalesce(column, "")).contains(word, autoescape=True),
                      weight), else_=0)
                for word in telling for column, weight in fields.items())
    return list(db.session.scalars(
        select(ServiceRequest).where(*solved, or_(*(
            func.lower(func.coalesce(column, "")).contains(word, autoescape=True)
            for word in telling for column in fields)))
        .order_by(score.desc(), ServiceRequest.id.desc()).limit(limit)))
