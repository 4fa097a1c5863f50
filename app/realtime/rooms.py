"""Room names. Every emit goes to a room, so it reaches clients on every server process."""

QUEUE_NS = "/queue"
CHAT_NS = "/chat"


def queue_room(queue_id: int) -> str:
    """/queue: every agent console of a chat queue."""
    return f"queue:{queue_id}"


def chat_room(chat_id: int) -> str:
    """/chat: the end user's sockets of one chat."""
    return f"chat:{chat_id}"


def agent_room(user_id: int) -> str:
    """/queue and /chat: every socket of one agent, on whichever process it is connected."""
    return f"agent:{user_id}"


def watch_room(chat_id: int) -> str:
    """/chat: the sockets of managers watching (or joined to) one chat."""
    return f"watch:{chat_id}"


def staff_rooms(chat_id: int, agent_id: int | None) -> list[str]:
    """Where what only agents and managers see goes (internal notes): the chat's agent and
    its watchers, never its end user."""
    rooms = [watch_room(chat_id)]
    if agent_id is not None:
        rooms.append(agent_room(agent_id))
    return rooms


def chat_rooms(chat_id: int, agent_id: int | None) -> list[str]:
    """Where a chat's traffic goes: its visitor, its watching managers and, when accepted,
    its agent's sockets.

    The agent is reached through his personal room rather than by joining the chat's room,
    because a socket can only be put in a room by the process it is connected to, while the
    chat may be accepted or transferred through another process.
    """
    return [chat_room(chat_id), *staff_rooms(chat_id, agent_id)]
