"""Load drivers: K concurrent chats over real Socket.IO connections, and idle visitors.

The same driver runs against the real app and against the floor server; only the way a chat
comes to exist differs (the app: HTTP chat request, agent login and `accept`; the floor: the
chat id is the room). Each visitor sends M messages in turn: it sends one, waits for the
acknowledgement and for its agent to receive it (each wait bounded), then sends the next.
Latency is visitor send -> agent receives, both ends in this process on one clock.
"""

from __future__ import annotations

import asyncio
import re
import resource
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from bench.sioclient import ConnectError, Connection

USER_AGENT = "sdc-bench/1"
BODY = "My laptop will not connect to the VPN since this morning, message {n} of {m}."
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
QUEUE_NAMES = ("Hardware", "Software", "Network")


@dataclass
class ChatRun:
    """What one chat-load run measured."""

    server: str
    chats: int
    messages_per_chat: int
    sent: int = 0
    acked: int = 0
    delivered: int = 0
    duplicates: int = 0
    refused: dict = field(default_factory=dict)
    latencies_ms: list = field(default_factory=list)
    duration_s: float = 0.0
    requests_per_s: float | None = None
    accepts_per_s: float | None = None
    driver_cpu_share: float = 0.0
    server_cpu_share: float | None = None
    setup_s: float | None = None

    @property
    def lost(self) -> int:
        return self.acked - self.delivered

    @property
    def rate(self) -> float:
        return self.delivered / self.duration_s if self.duration_s else 0.0

    def percentile(self, p: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]

    def summary(self) -> dict:
        return {
            "server": self.server, "chats": self.chats, "messages_per_chat": self.messages_per_chat,
            "sent": self.sent, "acked": self.acked, "delivered": self.delivered,
            "lost": self.lost, "duplicates": self.duplicates, "refused": self.refused,
            "duration_s": round(self.duration_s, 3), "msgs_per_s": round(self.rate, 1),
            "p50_ms": _round(self.percentile(50)), "p95_ms": _round(self.percentile(95)),
            "p99_ms": _round(self.percentile(99)),
            "chat_requests_per_s": _round(self.requests_per_s),
            "accepts_per_s": _round(self.accepts_per_s),
            "driver_cpu_share": round(self.driver_cpu_share, 2),
            "server_cpu_share": _round(self.server_cpu_share),
            "setup_s": _round(self.setup_s),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- HTTP side of the app (agents log in, visitors request chats) --------------------------

def login(base_url: str, username: str, password: str) -> str:
    """Log an agent in through the /login form; returns the Cookie header for Socket.IO."""
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    page = session.get(base_url + "/login", timeout=30)
    page.raise_for_status()
    match = CSRF_RE.search(page.text)
    data = {"username": username, "password": password}
    if match:
        data["csrf_token"] = match.group(1) or match.group(2)
    answer = session.post(base_url + "/login", data=data, allow_redirects=False, timeout=30)
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"login of {username} failed: HTTP {answer.status_code}")
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def request_chat(session: requests.Session, base_url: str, number: int, queue: str) -> dict:
    answer = session.post(base_url + "/api/chat-requests", json={
        "name": f"Bench Visitor {number}", "email": f"visitor{number}@bench.example",
        "phone": "", "queue": queue,
        "question": f"Bench question {number}: the printer on floor 2 is offline.",
    }, timeout=30)
    if answer.status_code != 201:
        raise RuntimeError(f"chat request {number}: HTTP {answer.status_code} {answer.text[:200]}")
    return answer.json()


# --- the chat load -----------------------------------------------------------------------

class _Tracker:
    """Matches what agents receive with what visitors sent."""

    def __init__(self, run: ChatRun) -> None:
        self.run = run
        self.pending: dict[str, tuple[float, asyncio.Future]] = {}
        self.seen: set[str] = set()

    def expect(self, client_id: str) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.pending[client_id] = (time.perf_counter(), future)
        return future

    def on_agent_message(self, message: dict) -> None:
        if not isinstance(message, dict):
            return
        client_id = message.get("client_id")
        if (message.get("sender") or {}).get("role") != "VISITOR" or client_id is None:
            return
        if client_id in self.seen:
            self.run.duplicates += 1
            return
        entry = self.pending.pop(client_id, None)
        if entry is None:
            return
        self.seen.add(client_id)
        started, future = entry
        self.run.delivered += 1
        self.run.latencies_ms.append((time.perf_counter() - started) * 1000)
        if not future.done():
            future.set_result(True)


async def _visitor_loop(tracker: _Tracker, conn: Connection, chat_id: int, tag: str, m: int,
                        timeout: float) -> None:
    run = tracker.run
    for n in range(1, m + 1):
        client_id = f"{tag}-{chat_id}-{n}"
        delivered = tracker.expect(client_id)
        run.sent += 1
        try:
            ack = await conn.call("/chat", "send", {
                "chat_id": chat_id, "body": BODY.format(n=n, m=m), "client_id": client_id,
            }, timeout=timeout)
        except (TimeoutError, ConnectError):
            ack = {"ok": False, "error": "no_ack" if conn.connected else "disconnected"}
        if isinstance(ack, dict) and ack.get("ok"):
            run.acked += 1
        else:
            code = ack.get("error", "bad_ack") if isinstance(ack, dict) else "bad_ack"
            run.refused[code] = run.refused.get(code, 0) + 1
            tracker.pending.pop(client_id, None)
            continue
        try:
            await asyncio.wait_for(asyncio.shield(delivered), timeout)
        except TimeoutError:
            pass  # counted as lost unless it turns up before the end


async def _message_phase(tracker: _Tracker, visitors: list[tuple[Connection, int]], m: int,
                         tag: str, timeout: float, server_cpu=None) -> None:
    """`server_cpu()`, when given, returns the servers' CPU seconds so far."""
    run = tracker.run
    server0 = server_cpu() if server_cpu else None
    cpu0, t0 = _cpu(), time.perf_counter()
    await asyncio.gather(*(_visitor_loop(tracker, conn, chat_id, tag, m, timeout)
                           for conn, chat_id in visitors))
    run.duration_s = time.perf_counter() - t0
    run.driver_cpu_share = (_cpu() - cpu0) / run.duration_s if run.duration_s else 0.0
    if server_cpu and run.duration_s:
        run.server_cpu_share = (server_cpu() - server0) / run.duration_s
    # A late delivery still counts as delivered (not lost), but not in the rate above.
    deadline = time.perf_counter() + min(timeout, 5)
    while tracker.pending and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)


async def _open(url: str, namespaces: list[tuple[str, dict | None]], headers=None,
                handlers=(), timeout: float = 30) -> Connection:
    conn = Connection(url, headers=headers)
    for namespace, event, handler in handlers:
        conn.on(namespace, event, handler)
    await conn.open(timeout=timeout)
    for namespace, auth in namespaces:
        await conn.join(namespace, auth, timeout=timeout)
    return conn


def _agent_for(chat_index: int, agents: int) -> int:
    return chat_index % agents


def _url_for_visitor(urls: list[str], agent_index: int) -> str:
    """With several processes a visitor sits on another process than its agent."""
    return urls[(agent_index + 1) % len(urls)]


async def drive_app(urls: list[str], *, chats: int, messages: int,
                    agents: list[tuple[str, str]], queue: str | None = None,
                    timeout: float = 20, label: str = "app", server_cpu=None,
                    accept_concurrency: int = 20) -> ChatRun:
    """K chats against the real app: request, accept, then M visitor messages each."""
    run = ChatRun(label, chats, messages)
    tracker = _Tracker(run)
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(max_workers=8)
    conns: list[Connection] = []
    setup_started = time.perf_counter()
    try:
        cookies = await asyncio.gather(*(
            loop.run_in_executor(pool, login, urls[a % len(urls)], name, password)
            for a, (name, password) in enumerate(agents)))
        agent_conns = await asyncio.gather(*(
            _open(urls[a % len(urls)], [("/queue", None), ("/chat", None)],
                  headers={"Cookie": cookie, "User-Agent": USER_AGENT},
                  handlers=[("/chat", "message", tracker.on_agent_message)], timeout=timeout)
            for a, cookie in enumerate(cookies)))
        conns.extend(agent_conns)

        sessions = [requests.Session() for _ in range(8)]
        t0 = time.perf_counter()
        opened = await asyncio.gather(*(
            loop.run_in_executor(pool, request_chat, sessions[i % 8],
                                 urls[(_agent_for(i, len(agents)) + 1) % len(urls)], i,
                                 queue or QUEUE_NAMES[i % len(QUEUE_NAMES)])
            for i in range(chats)))
        run.requests_per_s = chats / (time.perf_counter() - t0)

        joined = {row["chat_id"]: asyncio.Event() for row in opened}
        visitor_conns = await asyncio.gather(*(
            _open(_url_for_visitor(urls, _agent_for(i, len(agents))),
                  [("/chat", {"visitor_token": row["visitor_token"]})],
                  handlers=[("/chat", "agent_joined",
                             lambda data, e=joined[row["chat_id"]]: e.set())],
                  timeout=timeout)
            for i, row in enumerate(opened)))
        conns.extend(visitor_conns)

        t0 = time.perf_counter()
        gate = asyncio.Semaphore(accept_concurrency)

        async def accept(i: int, row: dict):
            async with gate:
                return await agent_conns[_agent_for(i, len(agents))].call(
                    "/queue", "accept", {"chat_id": row["chat_id"]}, timeout=timeout)

        acks = await asyncio.gather(*(accept(i, row) for i, row in enumerate(opened)))
        run.accepts_per_s = chats / (time.perf_counter() - t0)
        refused = [a for a in acks if not (isinstance(a, dict) and a.get("ok"))]
        if refused:
            raise RuntimeError(f"{len(refused)} accepts refused, e.g. {refused[0]}")
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in joined.values())), timeout)
        run.setup_s = time.perf_counter() - setup_started
        gone = sum(1 for c in conns if not c.connected)
        if gone:
            raise RuntimeError(f"{gone} sockets were closed by the server during set-up")

        visitors = [(conn, row["chat_id"]) for conn, row in zip(visitor_conns, opened,
                                                                 strict=True)]
        await _message_phase(tracker, visitors, messages, "m", timeout, server_cpu)
    finally:
        await asyncio.gather(*(c.close() for c in conns), return_exceptions=True)
        pool.shutdown(wait=False)
    return run


async def drive_floor(urls: list[str], *, chats: int, messages: int, agents: int,
                      timeout: float = 20, label: str = "floor", server_cpu=None) -> ChatRun:
    """The same K chats against the bare relay: rooms instead of requests and accepts."""
    run = ChatRun(label, chats, messages)
    tracker = _Tracker(run)
    conns: list[Connection] = []
    try:
        by_agent: dict[int, list[int]] = {a: [] for a in range(agents)}
        for i in range(chats):
            by_agent[_agent_for(i, agents)].append(i + 1)
        agent_conns = await asyncio.gather(*(
            _open(urls[a % len(urls)], [("/chat", {"chats": by_agent[a]})],
                  handlers=[("/chat", "message", tracker.on_agent_message)], timeout=timeout)
            for a in range(agents)))
        conns.extend(agent_conns)
        visitor_conns = await asyncio.gather(*(
            _open(_url_for_visitor(urls, _agent_for(i, agents)),
                  [("/chat", {"visitor_token": str(i + 1)})], timeout=timeout)
            for i in range(chats)))
        conns.extend(visitor_conns)
        visitors = [(conn, i + 1) for i, conn in enumerate(visitor_conns)]
        await _message_phase(tracker, visitors, messages, "f", timeout, server_cpu)
    finally:
        await asyncio.gather(*(c.close() for c in conns), return_exceptions=True)
    return run


# --- idle connections --------------------------------------------------------------------

async def hold_idle(url: str, auths: list[dict], *, concurrency: int = 100,
                    timeout: float = 60) -> tuple[list[Connection], int]:
    """Open one /chat connection per auth (bounded concurrency); returns (open, failed)."""
    gate = asyncio.Semaphore(concurrency)
    failed = 0

    async def one(auth: dict) -> Connection | None:
        nonlocal failed
        async with gate:
            try:
                return await _open(url, [("/chat", auth)], timeout=timeout)
            except (ConnectError, TimeoutError, OSError):
                failed += 1
                return None

    conns = await asyncio.gather(*(one(auth) for auth in auths))
    return [c for c in conns if c is not None], failed
