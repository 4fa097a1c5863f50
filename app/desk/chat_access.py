"""Who may see or act on a chat over the realtime channel.

An end user's visitor token opens exactly one chat; an agent works in the chats he accepted
and may read those of his queues.
"""

from __future__ import annotations

from app.desk import people
from app.desk.chats import Sender, get_chat
from app.desk.errors import Conflict, Forbidden
from app.desk.validation import clean_id
from app.models import Chat, ChatStatus, SenderRole, User


def visitor_chat(token_chat_id: int, chat_id: object) -> Chat:
    """The visitor's own chat; any other id, existing or not, is refused the same way."""
    if clean_id(chat_id, "chat_id") != token_chat_id:
        raise Forbidden("not_yours", "This is not your chat.", "chat_id")
    # The end user's name signs what he sends: one SELECT for chat and person.
    return get_chat(token_chat_id, with_visitor=True)


def visitor_sender(token_chat_id: int, chat_id: object, name: str) -> Sender:
    """The visitor writing in his own chat, checked without a query.

    The token named the chat when the socket connected; whether the chat is still open is
    checked by `post_message` in the same statement that stores the message.
    """
    if clean_id(chat_id, "chat_id") != token_chat_id:
        raise Forbidden("not_yours", "This is not your chat.", "chat_id")
    return Sender(SenderRole.VISITOR, name, None)


def agent_chat(user: User, chat_id: object) -> Chat:
    """A chat the agent may read: his own, or one of his queues'; a manager reads any (he
    watches any live chat, and pages through its history)."""
    chat = get_chat(chat_id)
    if chat.agent_id != user.id and not user.is_manager \
            and not people.is_queue_member(user, chat.queue_id):
        raise Forbidden("not_yours", "This chat belongs to a queue you are not in.", "chat_id")
    return chat


def agent_live_chat(user: User, chat_id: object) -> Chat:
    """A live chat the agent himself accepted (typing, writing)."""
    chat = get_chat(chat_id)
    if chat.agent_id != user.id:
        raise Forbidden("not_yours", "This chat belongs to another agent.", "chat_id")
    if chat.status != ChatStatus.ACTIVE:
        raise Conflict("closed", "This chat is not live.", "chat_id")
    return chat


def visitor_open_chat(token_chat_id: int, chat_id: object) -> Chat:
    """The visitor's own chat while it is still open (typing)."""
    chat = visitor_chat(token_chat_id, chat_id)
    if chat.status not in (ChatStatus.WAITING, ChatStatus.ACTIVE):
        raise Conflict("closed", "This chat is closed.", "chat_id")
    return chat
