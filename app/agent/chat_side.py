"""What the Agent Chat window shows beside a chat: the end user's context, his earlier
requests and chats, and the resolved SRs most like his question ("solved before")."""

from __future__ import annotations

from flask import jsonify

from app.agent import bp
from app.agent.api import _me, login_required
from app.desk import chat_access, chat_context, solved_before


def chat_for(chat_id: int):
    """The chat and who asks: a manager reads any chat, an agent his own and his queues'."""
    user = _me()
    return user, chat_access.agent_chat(user, chat_id)


@bp.get("/agent/api/chats/<int:chat_id>/side")
@login_required
def chat_side(chat_id: int):
    user, chat = chat_for(chat_id)
    return jsonify(ok=True, context=chat_context.of_chat(chat.id),
                   earlier=chat_context.earlier_requests(user, chat),
                   solved_before=solved_before.for_chat(chat))


@bp.get("/agent/api/chats/<int:chat_id>/solved-before")
@login_required
def chat_solved_before(chat_id: int):
    """Asked again when the end user adds details."""
    _, chat = chat_for(chat_id)
    return jsonify(ok=True, solved_before=solved_before.for_chat(chat))
