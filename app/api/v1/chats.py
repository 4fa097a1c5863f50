"""/api/v1/chats: chats the token's user may see, and their messages (read only).

Chats change only through the people in them (the widget and the agent console), so the API
reads: a CMDB or a reporting warehouse follows them here, or live through webhooks.
"""

from __future__ import annotations

from flask.views import MethodView

from app import wire
from app.api.v1 import current_user, resource
from app.api.v1.schemas import ChatPage, ChatQuery, ChatSchema, MessagePage, MessageQuery
from app.desk import chats as chat_rules
from app.desk import lookups

blp = resource("Chats", __name__, "/chats", "Chats with their messages (read only).")


@blp.route("")
class Chats(MethodView):
    @blp.arguments(ChatQuery, location="query")
    @blp.response(200, ChatPage)
    @blp.errors(400)
    def get(self, query: dict):
        """Chats of the user's queues and his own (a manager: all), newest first."""
        page = lookups.chats(current_user(), status=query.get("status"),
                             queue_id=query.get("queue_id"), cursor=query.get("cursor"),
                             limit=query.get("limit"))
        return {"items": [wire.chat_record(chat) for chat in page.items],
                "next_cursor": page.next_cursor}


@blp.route("/<int:chat_id>")
class ChatItem(MethodView):
    @blp.response(200, ChatSchema)
    @blp.errors(404)
    def get(self, chat_id: int):
        """One chat: its state, queue, SR, end user and agent."""
        return wire.chat_record(lookups.chat(current_user(), chat_id))


@blp.route("/<int:chat_id>/messages")
class ChatMessages(MethodView):
    @blp.arguments(MessageQuery, location="query")
    @blp.response(200, MessagePage)
    @blp.errors(400, 404)
    def get(self, query: dict, chat_id: int):
        """The chat's messages in order, from the first or after a message id."""
        chat = lookups.chat(current_user(), chat_id)
        limit = lookups.clean_limit(query.get("limit"))
        messages = chat_rules.history(chat.id, query.get("after"))
        page = messages[:limit]
        return {"items": page,
                "next_after": page[-1]["id"] if len(messages) > limit else None}
