"""The volume run: the same pages and socket events on the demo desk and on a large desk.

    .venv/bin/python -m bench.volume --postgres postgresql://postgres@127.0.0.1:5432/postgres \
        --large postgresql://postgres@127.0.0.1:5432/desk_large

Both desks are served by the real server (``python wsgi.py``, eventlet, PostgreSQL) and
measured from outside, over HTTP and Socket.IO on loopback, as a manager (maria) and an agent
(alice) use them: each line is the median of five warm requests (one warm-up first), and
with ``--repeat`` (3) the median of that over as many runs, alternating the desks. The
demo desk is the demo's three queues with a few hundred SRs (filled here, in a database that
is dropped afterwards); the large desk is a database filled by ``bench.large_desk`` (or, with
``--scale`` instead of ``--large``, filled here at that scale). The table prints both times,
their ratio and whether the large desk meets the line's target.

The last line measures the event loop: a chat message's round trip (the end user sends, the
agent receives) while the heaviest admin page renders on the same server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
import sqlalchemy as sa

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import large_desk, servers  # noqa: E402
from bench.chat_pair import open_chat_pair  # noqa: E402
from bench.load import USER_AGENT, login  # noqa: E402
from bench.sioclient import Connection  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
REPEAT = 5
PAGE_MS, POLL_MS, REALTIME_MS = 300.0, 50.0, 100.0
DEMO_DESK = large_desk.Sizes(srs=300, persons=100, queues=3, agents=6, cis=10, assets=10,
                             waiting=6, active=3)
# What the run's end users ask (each chat its own): "Solved before" searches for these.
QUESTIONS = ["The printer on floor 2 is offline.",
             "My VPN disconnects every few minutes when I work from home",
             "Outlook keeps asking for my password since this morning",
             "Excel crashes when I open the big budget file",
             "I cannot log in to the ERP, it says my account is locked",
             "The webcam is not detected in Teams calls"]
# Months of chats would be closed by the idle sweeper, waiting ones abandoned: not here.
SERVER_ENV = {"CHAT_ABANDON_GRACE": str(365 * 86400), "CHAT_IDLE_TIMEOUT": str(365 * 86400)}


@dataclass
class Line:
    """One line of the table: what is requested, its target, and the two desks' times."""

    name: str
    target_ms: float
    runs: dict = field(default_factory=dict)  # desk -> the median ms of each run
    size: dict = field(default_factory=dict)  # desk -> bytes or a count

    def add(self, desk: str, ms: float) -> None:
        self.runs.setdefault(desk, []).append(ms)

    def ms(self, desk: str) -> float | None:
        """The median of the runs' medians."""
        runs = self.runs.get(desk)
        return round(statistics.median(runs), 1) if runs else None

    def ratio(self) -> float | None:
        demo, large = self.ms("demo"), self.ms("large")
        return round(large / demo, 1) if demo and large is not None else None

    def met(self) -> bool:
        return self.ms("large") is not None and self.ms("large") <= self.target_ms


@dataclass
class DeskFacts:
    """Ids the requests need, read from the desk's database."""

    hardware_id: int
    sr_id: int
    waiting: int
    alice_active: list[int]

    @classmethod
    def read(cls, url: str) -> DeskFacts:
        engine = sa.create_engine(_psycopg(url))
        try:
            with engine.connect() as conn:
                alice = conn.exec_driver_sql(
                    "SELECT id, person_id FROM user_account WHERE username = 'alice'").one()
                hardware = conn.exec_driver_sql(
                    "SELECT id FROM person_group WHERE name = 'Hardware'").scalar_one()
                # An ended chat's SR half-way through the desk's life: history, work log, chat.
                sr_id = conn.exec_driver_sql(
                    "SELECT sr_id FROM chat WHERE status = 'CLOSED' ORDER BY id "
                    "OFFSET (SELECT count(*) / 2 FROM chat WHERE status = 'CLOSED') LIMIT 1"
                ).scalar_one()
                waiting = conn.exec_driver_sql(
                    "SELECT count(*) FROM chat WHERE status = 'WAITING' AND queue_id IN "
                    "(SELECT group_id FROM person_group_member WHERE person_id = "
                    f"{alice.person_id})").scalar_one()
                active = list(conn.exec_driver_sql(
                    f"SELECT id FROM chat WHERE agent_id = {alice.id} AND status = 'ACTIVE' "
                    "ORDER BY id").scalars())
        finally:
            engine.dispose()
        return cls(hardware_id=hardware, sr_id=sr_id, waiting=waiting, alice_active=active)


def _psycopg(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


class DeskRun:
    """Every line of the table against one running server."""

    def __init__(self, desk: str, base: str, facts: DeskFacts, lines: dict[str, Line]) -> None:
        self.desk = desk
        self.base = base
        self.facts = facts
        self.lines = lines
        self.manager = self._session("maria", "demo")
        self.agent_cookie = login(base, "alice", "demo")
        self.agent = requests.Session()
        self.agent.headers.update({"User-Agent": USER_AGENT, "Cookie": self.agent_cookie})
        self.opened: list[int] = []  # chats this run opened, closed again at the end

    def _session(self, username: str, password: str) -> requests.Session:
        session = requests.Session()
        session.headers.update({"User-Agent": USER_AGENT, "Cookie": login(self.base, username,
                                                                           password)})
        return session

    def record(self, name: str, target: float, samples: list[float], size=None) -> None:
        line = self.lines.setdefault(name, Line(name, target))
        line.add(self.desk, _median_ms(samples))
        if size is not None:
            line.size[self.desk] = size

    def http(self, name: str, session: requests.Session, path: str, target: float = PAGE_MS
             ) -> None:
        samples, size = [], 0
        for attempt in range(REPEAT + 1):
            started = time.perf_counter()
            answer = session.get(self.base + path, timeout=120, allow_redirects=False)
            elapsed = time.perf_counter() - started
            if answer.status_code != 200:
                raise RuntimeError(f"{self.desk}: GET {path} answered {answer.status_code}")
            size = len(answer.content)
            if attempt:
                samples.append(elapsed)
        self.record(name, target, samples, f"{size / 1024:,.0f} KB")

    def pages(self) -> None:
        f = self.facts
        self.http("admin: new SR form", self.manager, "/admin/servicerequest/new/")
        self.http("admin: person-group edit", self.manager,
                  f"/admin/persongroup/edit/?id={f.hardware_id}")
        self.http("admin: SR edit", self.manager, f"/admin/servicerequest/edit/?id={f.sr_id}")
        self.http('admin: SR list, search "printer"', self.manager,
                  "/admin/servicerequest/?search=printer")
        self.http("admin: SR list, search an SR number", self.manager,
                  f"/admin/servicerequest/?search=SR{1000 + f.sr_id}")
        self.http("admin: SR list, default sort", self.manager, "/admin/servicerequest/")
        self.http("admin: SR list, status CLOSED", self.manager,
                  "/admin/servicerequest/?flt0_status_equals=CLOSED")
        self.http('admin: persons, search "garcia"', self.manager, "/admin/person/?search=garcia")
        self.http("admin: chats list", self.manager, "/admin/chat/")
        self.http("admin: dashboard", self.manager, "/admin/")
        self.http("admin: dashboard's 5-second poll", self.manager, "/admin/dashboard.json",
                  POLL_MS)
        self.http("agent: my work, all statuses", self.agent, "/my-work?status=ALL")

    async def sockets(self) -> None:
        headers = {"Cookie": self.agent_cookie, "User-Agent": USER_AGENT}
        queue = Connection(self.base, headers=headers)
        waiting_events: list[asyncio.Future] = []
        queue.on("/queue", "chat_waiting", lambda data: [
            f.set_result(time.perf_counter()) for f in waiting_events if not f.done()])
        await queue.open()
        await queue.join("/queue")
        try:
            samples = []
            for attempt in range(REPEAT + 1):
                started = time.perf_counter()
                ack = await queue.call("/queue", "waiting_list", {}, timeout=60)
                if attempt:
                    samples.append(time.perf_counter() - started)
            self.record("agent: waiting_list", REALTIME_MS, samples, f"{len(ack['chats'])} waiting")
            await self._chat_connect(headers)
            await self._request_accept_history(queue, waiting_events)
        finally:
            await queue.close()

    async def _chat_connect(self, headers: dict) -> None:
        expected = len(self.facts.alice_active)
        samples = []
        for attempt in range(REPEAT + 1):
            got = 0
            done = asyncio.get_running_loop().create_future()

            def history(data, done=done):
                nonlocal got
                got += 1
                if got >= expected and not done.done():
                    done.set_result(time.perf_counter())

            conn = Connection(self.base, headers=headers)
            conn.on("/chat", "history", history)
            await conn.open()
            started = time.perf_counter()
            await conn.join("/chat")
            if expected:
                await asyncio.wait_for(done, 60)
            if attempt:
                samples.append(time.perf_counter() - started)
            await conn.close()
        self.record("agent: /chat connect (history of every live chat)", REALTIME_MS, samples,
                    f"{expected} live chats")

    async def _request_accept_history(self, queue: Connection, waiting_events: list) -> None:
        loop = asyncio.get_running_loop()
        visitor = requests.Session()
        told, accepted, history = [], [], []
        for attempt in range(REPEAT + 1):
            future = loop.create_future()
            waiting_events.append(future)
            started = time.perf_counter()
            answer = await loop.run_in_executor(None, lambda n=attempt: visitor.post(
                self.base + "/api/chat-requests", timeout=30, json={
                    "name": f"Volume Visitor {n}", "email": f"volume{n}@bench.example",
                    "queue": "Hardware", "question": QUESTIONS[n % len(QUESTIONS)]}))
            if answer.status_code != 201:
                raise RuntimeError(f"chat request: HTTP {answer.status_code} {answer.text}")
            chat_id = answer.json()["chat_id"]
            self.opened.append(chat_id)
            arrived = await asyncio.wait_for(future, 30)
            waiting_events.remove(future)
            t0 = time.perf_counter()
            ack = await queue.call("/queue", "accept", {"chat_id": chat_id}, timeout=30)
            t1 = time.perf_counter()
            if not ack.get("ok"):
                raise RuntimeError(f"accept refused: {ack}")
            if attempt:
                told.append(arrived - started)
                accepted.append(t1 - t0)
        self.record("realtime: chat request → chat_waiting", REALTIME_MS, told)
        self.record("realtime: accept", REALTIME_MS, accepted)
        if self.facts.alice_active:
            conn = Connection(self.base, headers={"Cookie": self.agent_cookie,
                                                  "User-Agent": USER_AGENT})
            await conn.open()
            await conn.join("/chat", {"last_message_ids": {
                str(chat): 2**31 - 1 for chat in self.facts.alice_active}})
            try:
                chat_id = self.facts.alice_active[0]
                for attempt in range(REPEAT + 1):
                    t0 = time.perf_counter()
                    ack = await conn.call("/chat", "history", {"chat_id": chat_id})
                    if attempt:
                        history.append(time.perf_counter() - t0)
                self.record("realtime: history of a live chat", REALTIME_MS, history,
                            f"{len(ack['messages'])} messages")
            finally:
                await conn.close()

    def solved_before(self) -> None:
        """"Solved before" beside each chat the run opened, each with its own question: the
        resolved SRs most like it, as the console asks for them."""
        samples = []
        for attempt, chat_id in enumerate(self.opened[:REPEAT + 1]):
            started = time.perf_counter()
            answer = self.agent.get(f"{self.base}/agent/api/chats/{chat_id}/solved-before",
                                    timeout=120)
            elapsed = time.perf_counter() - started
            if answer.status_code != 200:
                raise RuntimeError(f"{self.desk}: solved-before answered {answer.status_code}")
            if attempt:
                samples.append(elapsed)
        self.record("agent: Solved before beside a chat", REALTIME_MS, samples,
                    f"{len(answer.json()['solved_before'])} found")

    async def event_loop(self) -> None:
        """Round trips of chat messages while the heaviest page renders on the same server."""
        loop = asyncio.get_running_loop()
        pair = await open_chat_pair(self.base, self.agent_cookie,
                                    live_chats=self.facts.alice_active)
        self.opened.append(pair.chat_id)
        pool = ThreadPoolExecutor(max_workers=1)
        try:
            page = loop.run_in_executor(pool, lambda: self.manager.get(
                self.base + "/admin/servicerequest/new/", timeout=300))
            await asyncio.sleep(0.01)
            trips = []
            while not page.done() or len(trips) < 5:
                trips.append(await pair.round_trip())
                await asyncio.sleep(0.02)
            await page
        finally:
            pool.shutdown(wait=False)
            await pair.close()
        line = self.lines.setdefault("realtime: message round trip while the new-SR form renders",
                                     Line("realtime: message round trip while the new-SR form "
                                          "renders", REALTIME_MS))
        line.add(self.desk, round(max(trips) * 1000, 1))
        line.size[self.desk] = f"worst of {len(trips)}"

    async def close_opened(self) -> None:
        """The desk is left as found: the chats this run opened are closed."""
        conn = Connection(self.base, headers={"Cookie": self.agent_cookie,
                                              "User-Agent": USER_AGENT})
        await conn.open()
        await conn.join("/chat", {"last_message_ids": {
            str(chat): 2**31 - 1 for chat in [*self.facts.alice_active, *self.opened]}})
        try:
            for chat_id in self.opened:
                await conn.call("/chat", "close", {"chat_id": chat_id})
        finally:
            await conn.close()


def measure(desk: str, url: str, workdir: Path, lines: dict[str, Line]) -> None:
    facts = DeskFacts.read(url)
    proc = servers.app_process(url, workdir, extra_env=SERVER_ENV)
    proc.start(timeout=120)
    try:
        run = DeskRun(desk, proc.url, facts, lines)
        _progress(f"{desk}: pages")
        run.pages()
        _progress(f"{desk}: socket events")
        asyncio.run(run.sockets())
        run.solved_before()
        _progress(f"{desk}: event loop")
        asyncio.run(run.event_loop())
        asyncio.run(run.close_opened())
    finally:
        proc.stop()


def markdown(lines: dict[str, Line]) -> str:
    out = ["| request | demo desk ms | large desk ms | large / demo | target ms | met | "
           "demo / large size |", "|---|---:|---:|---:|---:|---|---|"]
    for line in lines.values():
        sizes = " / ".join(str(line.size.get(d, "")) for d in ("demo", "large"))
        out.append(f"| {line.name} | {line.ms('demo') or ''} | {line.ms('large') or ''} | "
                   f"{line.ratio() if line.ratio() is not None else ''} | {line.target_ms:g} | "
                   f"{'yes' if line.met() else '**no**'} | {sizes} |")
    return "\n".join(out)


def _progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Demo desk against large desk, same requests.")
    parser.add_argument("--postgres", required=True,
                        help="PostgreSQL admin URL: the demo desk (and a --scale desk) go here")
    parser.add_argument("--large", help="URL of a desk filled by bench.large_desk")
    parser.add_argument("--scale", type=float, default=None,
                        help="fill a large desk at this scale here instead of --large")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs over both desks; each line is the median of the runs")
    parser.add_argument("--json", default=str(RESULTS / "volume.json"))
    args = parser.parse_args(argv)
    if not args.large and args.scale is None:
        parser.error("give --large URL (a filled desk) or --scale S (fill one here)")
    servers.raise_fd_limit()
    workdir = Path(tempfile.mkdtemp(prefix="sdc-volume-"))
    created = []
    lines: dict[str, Line] = {}
    try:
        demo_url = servers.create_postgres_database(args.postgres)
        created.append(demo_url)
        _progress("filling the demo desk")
        large_desk.fill(demo_url, DEMO_DESK)
        large_url = args.large
        if large_url is None:
            large_url = servers.create_postgres_database(args.postgres)
            created.append(large_url)
            _progress(f"filling a large desk at scale {args.scale}")
            large_desk.fill(large_url, large_desk.Sizes().scaled(args.scale))
        for run in range(args.repeat):
            _progress(f"run {run + 1} of {args.repeat}")
            measure("demo", demo_url, workdir, lines)
            measure("large", large_url, workdir, lines)
    finally:
        for url in created:
            servers.drop_postgres_database(args.postgres, url)
    print(markdown(lines))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(
        {name: {"demo_ms": line.ms("demo"), "large_ms": line.ms("large"), "runs": line.runs,
                "target_ms": line.target_ms, "size": line.size} for name, line in lines.items()},
        indent=2))
    return 0 if all(line.met() for line in lines.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
