"""Profile the desk's hot paths in-process: SQL statements per call, time per call, profile.

    .venv/bin/python -m bench.profile_desk [--chats 200] [--messages 2000] [--postgres URL]
                                           [--pyinstrument]

It builds a desk with `--chats` active chats and as many waiting ones, then times
post_message, queue_state, queue_position and waiting_positions, counting the SQL statements
each one sends (a statement is a database round trip). The counts do not depend on the
machine; the times do.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event  # noqa: E402

from bench import servers  # noqa: E402


class StatementCounter:
    def __init__(self, engine) -> None:
        self.count = 0
        self.kinds: dict[str, int] = {}
        event.listen(engine, "before_cursor_execute", self._on)

    def _on(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.count += 1
        kind = statement.split(None, 1)[0].upper()
        self.kinds[kind] = self.kinds.get(kind, 0) + 1

    def reset(self) -> None:
        self.count = 0
        self.kinds = {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--postgres", help="PostgreSQL admin URL (default: SQLite file)")
    parser.add_argument("--pyinstrument", action="store_true", help="print a call profile")
    args = parser.parse_args(argv)

    from app import create_app
    from app.desk import chats, people
    from app.extensions import db
    from app.models import Chat, User

    url = (servers.create_postgres_database(args.postgres) if args.postgres
           else servers.sqlite_url(Path(tempfile.mkdtemp())))
    try:
        agents = max(1, args.chats // 5)
        servers.prepare_database(url, agents=agents)
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
        with app.app_context():
            db.create_all()
            counter = StatementCounter(db.engine)
            users = list(db.session.scalars(
                db.select(User).where(User.username.like("bench%")).order_by(User.id)))
            active: list[tuple[int, object]] = []
            for i in range(args.chats * 2):
                opened = chats.request_chat(name=f"Visitor {i}", email=f"v{i}@bench.example",
                                            queue=servers.QUEUES[i % 3], question="Help please")
                if i % 2 == 0:
                    agent = users[(i // 2) % len(users)]
                    chats.accept_chat(opened.chat.id, agent)
                    active.append((opened.chat.id, chats.Sender.visitor(opened.chat)))
            waiting = list(db.session.scalars(db.select(Chat).where(Chat.status == "WAITING")))
            report = []

            def measure(name: str, calls: int, fn) -> None:
                counter.reset()
                t0 = time.perf_counter()
                for n in range(calls):
                    fn(n)
                elapsed = time.perf_counter() - t0
                report.append((name, calls, counter.count / calls,
                               {k: round(v / calls, 2) for k, v in counter.kinds.items()},
                               elapsed / calls * 1000))

            def post(n: int) -> None:
                chat_id, sender = active[n % len(active)]
                chats.post_message(chat_id, sender, f"message {n}", f"p-{n}")

            profiler = None
            if args.pyinstrument:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005)
                profiler.start()
            measure("post_message", args.messages, post)
            if profiler is not None:
                profiler.stop()
            if hasattr(chats, "post_messages"):
                def post_batch(n: int) -> None:
                    drafts = [chats.Draft(*active[(n * 10 + i) % len(active)],
                                          f"batch {n}.{i}", f"b-{n}-{i}") for i in range(10)]
                    chats.post_messages(drafts)

                measure("post_messages (a batch of 10, as the writer groups them)",
                        max(1, args.messages // 10), post_batch)
            measure("queue_state", 200, lambda n: chats.queue_state(users[n % len(users)]))
            if hasattr(chats, "queue_states"):
                measure(f"queue_states (all {len(users)} agents)", 50,
                        lambda n: chats.queue_states(users))
            measure("queue_position", 200,
                    lambda n: chats.queue_position(waiting[n % len(waiting)]))
            measure("waiting_positions", 200,
                    lambda n: chats.waiting_positions(waiting[n % len(waiting)].queue_id))
            measure("agents_online", 200, lambda n: chats.agents_online(1 + n % 3))
            measure("agent_queue_ids", 200,
                    lambda n: people.agent_queue_ids(users[n % len(users)]))
            db.session.remove()
            db.engine.dispose()
    finally:
        if args.postgres:
            servers.drop_postgres_database(args.postgres, url)

    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{backend}: {args.chats} active + {args.chats} waiting chats, "
          f"{agents} agents in every queue")
    print("| call | calls | SQL statements per call | by kind | ms per call |")
    print("|---|---:|---:|---|---:|")
    for name, calls, statements, kinds, ms in report:
        print(f"| {name} | {calls} | {statements:.2f} | {kinds} | {ms:.2f} |")
    if profiler is not None:
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
