"""An accepted chat between a simulated end user and an agent, for timing round trips.

The end user requests a chat over HTTP, the agent accepts it on `/queue` and joins `/chat`
(with his other live chats), the end user joins `/chat` with his visitor token; a round trip
is the end user's `send` until the agent's `message` event, both ends in this process, one
clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import requests

from bench.load import USER_AGENT
from bench.sioclient import Connection


@dataclass
class ChatPair:
    chat_id: int
    visitor_token: str
    end_user: Connection
    agent: Connection
    received: dict[str, asyncio.Future] = field(default_factory=dict)
    sent: int = 0

    async def round_trip(self, timeout: float = 60) -> float:
        """Seconds from the end user's message to the agent's receiving it."""
        self.sent += 1
        key = f"trip-{self.sent}"
        self.received[key] = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        self.end_user.emit("/chat", "send", {"chat_id": self.chat_id, "body": f"ping {self.sent}",
                                             "client_id": key})
        try:
            return await asyncio.wait_for(self.received[key], timeout) - started
        finally:
            del self.received[key]

    async def close(self) -> None:
        await self.end_user.close()
        await self.agent.close()


async def open_chat_pair(base: str, agent_cookie: str, *, queue: str = "Hardware",
                         live_chats: Iterable[int] = (), name: str = "Loop Visitor",
                         email: str = "loop@bench.example") -> ChatPair:
    """Open, accept and join a chat; `live_chats` are the agent's other live chats (joined
    too, as his console does)."""
    answer = requests.post(base + "/api/chat-requests", timeout=30, headers={
        "User-Agent": USER_AGENT}, json={"name": name, "email": email,
                                         "queue": queue, "question": "Are you there?"})
    if answer.status_code != 201:
        raise RuntimeError(f"chat request: HTTP {answer.status_code} {answer.text}")
    opened = answer.json()
    agent = Connection(base, headers={"Cookie": agent_cookie, "User-Agent": USER_AGENT})
    pair = ChatPair(opened["chat_id"], opened["visitor_token"], Connection(base), agent)

    def message(data: dict) -> None:
        future = pair.received.get(data.get("client_id"))
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    agent.on("/chat", "message", message)
    await agent.open()
    await agent.join("/queue")
    ack = await agent.call("/queue", "accept", {"chat_id": pair.chat_id})
    if not ack.get("ok"):
        raise RuntimeError(f"accept refused: {ack}")
    await agent.join("/chat", {"last_message_ids": {
        str(chat): 2**31 - 1 for chat in [*live_chats, pair.chat_id]}})
    await pair.end_user.open()
    await pair.end_user.join("/chat", {"visitor_token": pair.visitor_token})
    return pair
