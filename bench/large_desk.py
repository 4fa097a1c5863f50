"""Fill a database like a desk after three years of use, in SQL, in a few minutes.

    .venv/bin/python -m bench.large_desk postgresql://postgres@127.0.0.1:5432/desk_large
    .venv/bin/python -m bench.large_desk sqlite:////tmp/desk.sqlite3 --scale 0.01

The database is migrated to the head revision, the demo desk is loaded (alice, bob, maria,
password ``demo``), and then, with one INSERT … SELECT per table over ``generate_series``
(a recursive common table expression on SQLite), the default sizes are: 1,000,000 SRs, each
with its chat and two status-history rows, a transcript in the work log of every ended chat,
10,000,000 chat messages, 200,000 end users, 50 chat queues, 300 agents (password
``bench-passphrase``), 5,000 CIs and 50,000 assets. ``--scale`` multiplies the big tables.

It is a desk at steady state: nearly every SR ended long ago, and now ``--waiting`` chats wait
in alice's queues and alice has ``--active`` live chats. Values are spread by arithmetic on the
row number, so two fills of the same size are identical (apart from the time they end at).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.large_desk_words import (  # noqa: E402
    AREAS,
    FIRST,
    LAST,
    PROBLEMS,
    REGIONS,
    REPLIES,
    SOLUTIONS,
)

AGENT_PASSWORD = "bench-passphrase"  # as bench.servers
YEARS = 3



@dataclass(frozen=True)
class Sizes:
    srs: int = 1_000_000  # and as many chats
    messages_per_chat: int = 10
    persons: int = 200_000  # end users
    queues: int = 50
    agents: int = 300
    cis: int = 5_000
    assets: int = 50_000
    waiting: int = 200  # chats waiting now, in alice's queues
    active: int = 150  # alice's live chats
    years: float = YEARS  # the SRs and chats are spread evenly over this many years

    def scaled(self, factor: float) -> Sizes:
        def big(value: int, least: int) -> int:
            return max(least, int(value * factor))

        return replace(self, srs=big(self.srs, self.waiting + self.active + 100),
                       persons=big(self.persons, 100), cis=big(self.cis, 10),
                       assets=big(self.assets, 10))


class Fill:
    """The INSERT … SELECT statements of one fill, for one database dialect."""

    def __init__(self, conn: sa.Connection, sizes: Sizes, now: datetime) -> None:
        self.conn = conn
        self.sizes = sizes
        self.pg = conn.dialect.name == "postgresql"
        self.now = now.astimezone(UTC)
        self.span = int(sizes.years * 365 * 86400)  # seconds the desk's history covers

    # --- SQL fragments --------------------------------------------------------------------

    def series(self, n: int, name: str = "i") -> tuple[str, str]:
        """(prefix, FROM item) that yields rows 1..n in column `name`."""
        if self.pg:
            return "", f"generate_series(1::bigint, {int(n)}) AS s({name})"
        return (f"WITH RECURSIVE s({name}) AS (SELECT 1 UNION ALL SELECT {name} + 1 FROM s "
                f"WHERE {name} < {int(n)}) ", "s")

    def ago(self, seconds: str) -> str:
        """The instant `seconds` (an SQL expression) before the fill's now."""
        if self.pg:
            stamp = self.now.isoformat()
            return f"(TIMESTAMPTZ '{stamp}' - ({seconds}) * INTERVAL '1 second')"
        stamp = self.now.strftime("%Y-%m-%d %H:%M:%S")
        return f"datetime('{stamp}', '-' || ({seconds}) || ' seconds')"

    @staticmethod
    def pick(values: list[str], index: str) -> str:
        """CASE on `index` modulo len(values): one of the values, as SQL text."""
        whens = " ".join(f"WHEN {n} THEN '{value.replace(chr(39), chr(39) * 2)}'"
                         for n, value in enumerate(values))
        return f"(CASE ({index}) % {len(values)} {whens} END)"

    def text(self, expression: str) -> str:
        return f"CAST({expression} AS TEXT)" if not self.pg else f"({expression})::text"

    def name(self, p: str) -> str:
        """The display name of end user number p (1-based)."""
        return f"({self.pick(FIRST, p)} || ' ' || {self.pick(LAST, f'({p}) / {len(FIRST)}')})"

    def execute(self, sql: str) -> sa.CursorResult:
        # psycopg reads % as a placeholder even with no parameters: double it there.
        return self.conn.exec_driver_sql(sql.replace("%", "%%") if self.pg else sql)

    def run(self, label: str, sql: str) -> None:
        started = time.perf_counter()
        result = self.execute(sql)
        self.conn.commit()
        rows = result.rowcount if result.rowcount is not None and result.rowcount >= 0 else "?"
        print(f"  {label}: {rows} rows in {time.perf_counter() - started:.1f} s", flush=True)

    def scalar(self, sql: str) -> int:
        return int(self.execute(sql).scalar() or 0)

    # --- the fill -------------------------------------------------------------------------

    def all(self) -> None:
        if self.scalar("SELECT count(*) FROM service_request"):
            raise SystemExit("service_request is not empty: fill an empty, migrated database")
        self.person0 = self.scalar("SELECT coalesce(max(id), 0) FROM person")
        self.user0 = self.scalar("SELECT coalesce(max(id), 0) FROM user_account")
        self.group0 = self.scalar("SELECT coalesce(max(id), 0) FROM person_group")
        self.alice = self.conn.exec_driver_sql(
            "SELECT id, person_id FROM user_account WHERE username = 'alice'").one()
        mine = self.conn.exec_driver_sql(
            "SELECT g.id FROM person_group g JOIN person_group_member m ON m.group_id = g.id "
            f"WHERE m.person_id = {self.alice.person_id} ORDER BY g.id").scalars().all()
        self.alice_queues = mine
        self.queues()
        self.people()
        self.records()
        self.service_requests()
        self.chats()
        self.messages()
        self.history_and_work_log()
        self.finish()

    def queues(self) -> None:
        z = self.sizes
        names = [f"{area} {region}" for region in REGIONS for area in AREAS]
        existing = set(self.conn.exec_driver_sql("SELECT name FROM person_group").scalars())
        names = [n for n in names if n not in existing][:max(0, z.queues - len(existing))]
        if len(names) < z.queues - len(existing):
            names += [f"Queue {n:03d}" for n in range(z.queues - len(existing) - len(names))]
        if not names:
            return
        values = ", ".join(f"('{n}', 'Chat queue {n}.', {'true' if self.pg else 1}, "
                           "'Hello, this is {agent} from {queue}. How can I help?')"
                           for n in names)
        self.run("chat queues", "INSERT INTO person_group (name, description, is_chat_queue, "
                 f"greeting) VALUES {values}")

    def people(self) -> None:
        from werkzeug.security import generate_password_hash

        z = self.sizes
        prefix, series = self.series(z.persons, "p")
        now = self.ago("0")
        self.run("end users", f"{prefix}INSERT INTO person (id, display_name, email, phone, "
                 f"created_at) SELECT {self.person0} + p, {self.name('p')}, lower("
                 f"{self.pick(FIRST, 'p')} || '.' || {self.pick(LAST, f'p / {len(FIRST)}')}) "
                 f"|| '.' || {self.text('p')} || '@example' || {self.text('p % 40')} || '.com', "
                 f"'+1 555 ' || {self.text('1000000 + p')}, {self.ago(f'{self.span} - p')} "
                 f"FROM {series}")
        agent_person0 = self.person0 + z.persons
        prefix, series = self.series(z.agents, "a")
        self.run("agents' persons", f"{prefix}INSERT INTO person (id, display_name, email, "
                 f"created_at) SELECT {agent_person0} + a, {self.name('a * 7 + 3')},"
                 f" 'agent' || {self.text('a')} || '@desk.example', {now} FROM {series}")
        password = generate_password_hash(AGENT_PASSWORD).replace("'", "''")
        self.run("agents", f"{prefix}INSERT INTO user_account (id, username, password_hash, "
                 "role, is_enabled, person_id, notify_desktop, notify_sound, created_at) "
                 f"SELECT {self.user0} + a, 'agent' || {self.text('a')}, '{password}', 'AGENT', "
                 f"{'true' if self.pg else 1}, {agent_person0} + a, {'false' if self.pg else 0},"
                 f" {'false' if self.pg else 0}, {now} FROM {series}")
        # Agent a is in queues (a, a+17, a+34) modulo the number of queues: every queue has
        # agents, and agent a = q + Q*k is in queue q (the chats of queue q are his).
        q = self.scalar("SELECT count(*) FROM person_group WHERE is_chat_queue")
        self.queue_count = q
        self.queue_ids = list(self.conn.exec_driver_sql(
            "SELECT id FROM person_group WHERE is_chat_queue ORDER BY id").scalars())
        members = " UNION ".join(
            f"SELECT {agent_person0} + a AS person_id, (a + {offset}) % {q} AS k FROM {series}"
            for offset in (0, 17, 34))
        queue_of = self._queue_id("m.k")
        self.run("memberships", f"{prefix}INSERT INTO person_group_member (group_id, person_id) "
                 f"SELECT DISTINCT {queue_of}, m.person_id FROM ({members}) AS m")
        self.agent_person0 = agent_person0

    def _queue_id(self, k: str) -> str:
        """The id of the k-th chat queue (0-based), as SQL."""
        whens = " ".join(f"WHEN {n} THEN {queue_id}" for n, queue_id in enumerate(self.queue_ids))
        return f"(CASE ({k}) WHEN -1 THEN NULL {whens} END)"

    def records(self) -> None:
        z = self.sizes
        prefix, series = self.series(z.cis, "c")
        self.ci0 = self.scalar("SELECT coalesce(max(id), 0) FROM ci")
        kinds = ["APP", "SRV", "NET", "DB", "PRN", "WEB"]
        self.run("CIs", f"{prefix}INSERT INTO ci (id, name, description, classification) "
                 f"SELECT {self.ci0} + c, {self.pick(kinds, 'c')} || '-' || {self.text('c')}, "
                 f"'Configuration item ' || {self.text('c')}, {self.pick(AREAS, 'c')} "
                 f"FROM {series}")
        self.asset0 = self.scalar("SELECT coalesce(max(id), 0) FROM asset")
        prefix, series = self.series(z.assets, "t")
        models = ["ThinkPad T14 laptop", "MacBook Pro 14", "Desk phone", "27-inch monitor",
                  "Docking station", "Headset", "Colour printer", "Tablet"]
        self.run("assets", f"{prefix}INSERT INTO asset (id, tag, description, location) "
                 f"SELECT {self.asset0} + t, 'AS-' || {self.text('100000 + t')}, "
                 f"{self.pick(models, 't')}, {self.pick(REGIONS, 't / 7')} FROM {series}")

    # Row i of service_request and chat (1-based): i > open0 are the open chats, the last
    # `waiting` of them waiting, the `active` before them alice's live chats.
    def _chat_state(self) -> dict[str, str]:
        z = self.sizes
        waiting0 = z.srs - z.waiting
        active0 = waiting0 - z.active
        q = self.queue_count
        alice_q = self.alice_queues or self.queue_ids[:1]
        alice_queue = " ".join(f"WHEN {n} THEN {g}" for n, g in enumerate(alice_q))
        queue = (f"(CASE WHEN i > {active0} THEN (CASE i % {len(alice_q)} {alice_queue} END) "
                 f"ELSE {self._queue_id(f'i % {q}')} END)")
        # Agent number a (1-based) is in queue a % Q (see people()): the chats of queue
        # k = i % Q go to agent k + Q * j, for j in 0 .. A/Q - 1 (Q * A/Q when that is 0).
        per_queue = max(1, z.agents // q)
        agent_no = f"((i % {q}) + {q} * ((i / {q}) % {per_queue}))"
        agent_no = f"(CASE WHEN {agent_no} = 0 THEN {q * per_queue} ELSE {agent_no} END)"
        ended = f"i <= {active0}"
        abandoned = f"({ended} AND i % 16 = 0)"
        return {
            "waiting0": str(waiting0), "active0": str(active0), "queue": queue,
            "agent_user": f"(CASE WHEN i > {waiting0} OR {abandoned} THEN NULL "
                          f"WHEN i > {active0} THEN {self.alice.id} "
                          f"ELSE {self.user0} + {agent_no} END)",
            "agent_person": f"(CASE WHEN i > {waiting0} OR {abandoned} THEN NULL "
                            f"WHEN i > {active0} THEN {self.alice.person_id} "
                            f"ELSE {self.agent_person0} + {agent_no} END)",
            "agent_name": f"(CASE WHEN i > {active0} THEN 'Alice Agent' "
                          f"ELSE {self.name(f'{agent_no} * 7 + 3')} END)",
            "abandoned": abandoned,
            "visitor": f"({self.person0} + 1 + (i * 7919) % {self.sizes.persons})",
            "visitor_no": f"(1 + (i * 7919) % {self.sizes.persons})",
            "age": f"(CASE WHEN i > {active0} THEN {z.srs} - i + 60 "
                   f"ELSE ({z.srs} - i) * {self.span // max(1, z.srs)} + 3600 END)",
        }

    def service_requests(self) -> None:
        z = self.sizes
        c = self._chat_state()
        prefix, series = self.series(z.srs)
        summary = self.pick(PROBLEMS, "i * 31").replace("{n}", "' || " + self.text("i % 9 + 1")
                                                          + " || '")
        status = (f"(CASE WHEN i > {c['active0']} THEN 'QUEUED' WHEN {c['abandoned']} THEN "
                  "'CANCELLED' WHEN i % 23 = 0 THEN 'RESOLVED' WHEN i % 97 = 0 THEN 'INPROGRESS'"
                  " WHEN i % 89 = 0 THEN 'QUEUED' ELSE 'CLOSED' END)")
        changed = f"(CASE WHEN i > {c['active0']} THEN {c['age']} ELSE {c['age']} - 1800 END)"
        # What solved it, for the resolved and closed ones (what "Solved before" searches).
        solution = (f"(CASE WHEN {status} IN ('RESOLVED', 'CLOSED') THEN "
                    f"{self.pick(SOLUTIONS, 'i * 31')} END)")
        self.run("service requests", f"{prefix}INSERT INTO service_request (id, number, summary,"
                 " details, solution, status, source, reported_by_id, affected_person_id, "
                 "owner_id, owner_group_id, reported_priority, impact, urgency, ci_id, asset_id, "
                 "created_at, changed_at, version) "
                 f"SELECT i, 'SR' || {self.text('1000 + i')}, {summary}, {summary} || '.', "
                 f"{solution}, "
                 f"{status}, 'CHAT', {c['visitor']}, {c['visitor']}, {c['agent_person']}, "
                 f"{c['queue']}, 1 + i % 5, 1 + (i / 5) % 5, 1 + (i / 25) % 5, "
                 f"CASE WHEN i % 3 = 0 THEN {self.ci0} + 1 + i % {z.cis} END, "
                 f"CASE WHEN i % 4 = 0 THEN {self.asset0} + 1 + i % {z.assets} END, "
                 f"{self.ago(c['age'])}, {self.ago(changed)}, 2 FROM {series}")

    def chats(self) -> None:
        z = self.sizes
        c = self._chat_state()
        prefix, series = self.series(z.srs)
        status = (f"(CASE WHEN i > {c['waiting0']} THEN 'WAITING' WHEN i > {c['active0']} THEN "
                  f"'ACTIVE' WHEN {c['abandoned']} THEN 'ABANDONED' ELSE 'CLOSED' END)")
        wait = "(20 + i % 240)"
        accepted = (f"CASE WHEN i > {c['waiting0']} OR {c['abandoned']} THEN NULL "
                    f"WHEN i > {c['active0']} THEN {self.ago(c['age'] + ' / 2')} "
                    f"ELSE {self.ago(c['age'] + ' - ' + wait)} END")
        closed = (f"CASE WHEN i > {c['active0']} THEN NULL WHEN {c['abandoned']} THEN "
                  f"{self.ago(c['age'] + ' - ' + wait)} ELSE {self.ago(c['age'] + ' - 900')} END")
        closed_by = (f"CASE WHEN i > {c['active0']} THEN NULL WHEN {c['abandoned']} THEN "
                     "'SYSTEM' WHEN i % 2 = 0 THEN 'AGENT' ELSE 'VISITOR' END")
        activity = (f"CASE WHEN i > {c['active0']} THEN {self.ago('0')} "
                    f"ELSE {self.ago(c['age'] + ' - 900')} END")
        summary = self.pick(PROBLEMS, "i * 31").replace("{n}", "' || " + self.text("i % 9 + 1")
                                                          + " || '")
        # What the reports read of an ended chat: the agent's first reply 5-124 s after he
        # accepted, the messages written (see messages()), and the SR resolved in the chat
        # (a minute before the end) for two in three of those whose SR was solved.
        handled = f"(i <= {c['active0']} AND NOT {c['abandoned']})"
        first_response = (f"CASE WHEN {handled} THEN "
                          f"{self.ago(c['age'] + ' - ' + wait + ' - (5 + i * 7 % 120)')} END")
        message_count = (f"CASE WHEN {c['abandoned']} THEN 2 WHEN {handled} THEN "
                         f"{z.messages_per_chat} END")
        resolved = (f"CASE WHEN {handled} AND i % 3 <> 0 AND (i % 23 = 0 OR (i % 97 <> 0 AND "
                    f"i % 89 <> 0)) THEN {self.ago(c['age'] + ' - 840')} END")
        self.run("chats", f"{prefix}INSERT INTO chat (id, sr_id, queue_id, status, visitor_id, "
                 "visitor_key, agent_id, question, requested_at, accepted_at, closed_at, "
                 "closed_by, last_activity_at, rating, first_response_at, message_count, "
                 "sr_resolved_at) "
                 f"SELECT i, i, {c['queue']}, {status}, {c['visitor']}, 'k' || {self.text('i')},"
                 f" {c['agent_user']}, {summary} || '.', {self.ago(c['age'])}, {accepted}, "
                 f"{closed}, {closed_by}, {activity}, CASE WHEN i % 3 = 0 AND i <= "
                 f"{c['active0']} AND NOT {c['abandoned']} THEN 1 + i % 5 END, "
                 f"{first_response}, {message_count}, {resolved} FROM {series}")

    def messages(self) -> None:
        z = self.sizes
        c = self._chat_state()
        m = z.messages_per_chat
        prefix, series = self.series(z.srs)
        if self.pg:
            both = f"{series} CROSS JOIN generate_series(1, {m}) AS k(k)"
            with_prefix = prefix
        else:
            both = "s CROSS JOIN k"
            with_prefix = (prefix.rstrip() + f", k(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM k "
                           f"WHERE k < {m}) ")
        # Waiting chats hold only the question; abandoned ones the first two messages.
        keep = (f"(k = 1 OR (i <= {c['waiting0']} AND (k <= 2 OR NOT {c['abandoned']})))")
        visitor = "k % 2 = 1 OR " + c["agent_user"] + " IS NULL"
        recent = self.ago(c["age"] + f" * ({m + 1} - k) / {m + 1}")
        sent_at = (f"CASE WHEN i > {c['active0']} THEN {recent} "
                   f"ELSE {self.ago(c['age'] + ' - 20 * k')} END")
        self.run("chat messages", f"{with_prefix}INSERT INTO chat_message (id, chat_id, "
                 "sender_role, sender_name, user_id, body, client_id, seq, sent_at) "
                 f"SELECT (i - 1) * {m} + k, i, CASE WHEN {visitor} THEN 'VISITOR' ELSE 'AGENT' "
                 f"END, CASE WHEN {visitor} THEN {self.name(c['visitor_no'])} "
                 f"ELSE {c['agent_name']} END, "
                 f"CASE WHEN {visitor} THEN NULL ELSE {c['agent_user']} END, "
                 f"{self.pick(REPLIES, 'k - 1')}, 'm' || {self.text('k')}, k, "
                 f"{sent_at} FROM {both} WHERE {keep}")
        # Each chat's messages are k = 1, 2, ... (kept from the first on): its last seq.
        self.run("chat sequences", "UPDATE chat SET last_seq = counted.n FROM (SELECT chat_id, "
                 "max(seq) AS n FROM chat_message GROUP BY chat_id) AS counted "
                 "WHERE chat.id = counted.chat_id")

    def history_and_work_log(self) -> None:
        z = self.sizes
        c = self._chat_state()
        prefix, series = self.series(z.srs)
        self.run("status history (opened)", f"{prefix}INSERT INTO sr_status_history (sr_id, "
                 "from_status, to_status, owner_group_id, changed_at, memo) "
                 f"SELECT i, NULL, 'QUEUED', {c['queue']}, {self.ago(c['age'])}, "
                 f"'Opened from chat' FROM {series}")
        self.run("status history (ended)", f"{prefix}INSERT INTO sr_status_history (sr_id, "
                 "from_status, to_status, changed_at) SELECT sr.id, 'QUEUED', sr.status, "
                 "sr.changed_at FROM service_request sr WHERE sr.status <> 'QUEUED'")
        transcript = " || char(10) || ".join(f"'{reply}'" for reply in REPLIES[:4]) \
            if not self.pg else " || E'\\n' || ".join(f"'{reply}'" for reply in REPLIES[:4])
        self.run("transcripts", "INSERT INTO sr_work_log (sr_id, log_type, summary, details, "
                 f"client_visible, created_at) SELECT chat.sr_id, 'TRANSCRIPT', "
                 f"'Chat transcript ({z.messages_per_chat} messages)', {transcript}, "
                 f"{'false' if self.pg else 0}, chat.closed_at FROM chat "
                 "WHERE chat.closed_at IS NOT NULL")

    def finish(self) -> None:
        if self.pg:
            for table in ("person", "user_account", "person_group", "ci", "asset",
                          "service_request", "chat", "chat_message", "sr_status_history",
                          "sr_work_log"):
                self.conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))")
            self.conn.commit()
        # The dashboard's all-time counts per status (app.models.StatusTally).
        self.run("SR status tally", "DELETE FROM sr_status_tally")
        self.run("SR status tally", "INSERT INTO sr_status_tally (status, delta) "
                 "SELECT status, count(*) FROM service_request GROUP BY status")


def migrate_and_seed(url: str) -> None:
    """Migrate to head and load the demo desk, as an installation would."""
    from flask_migrate import upgrade

    from app import create_app, demo
    from app.extensions import db

    application = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with application.app_context():
        upgrade()
        demo.seed_demo()
        db.session.remove()
        db.engine.dispose()


def fill(url: str, sizes: Sizes, *, now: datetime | None = None) -> float:
    """Migrate, seed and fill the database at `url` (and count the reports' roll-up, days in
    UTC); returns the seconds it took."""
    from app.desk import report_rollup

    started = time.perf_counter()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    print(f"migrating and seeding {sa.make_url(url).render_as_string(hide_password=True)}",
          flush=True)
    migrate_and_seed(url)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            Fill(conn, sizes, now or datetime.now(UTC)).all()
        with engine.begin() as conn:  # the reports' roll-up, as the migration counts it
            step = time.perf_counter()
            rows = report_rollup.rebuild(conn, UTC)
            print(f"  reports' roll-up: {rows} rows in {time.perf_counter() - step:.1f} s",
                  flush=True)
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                step = time.perf_counter()
                conn.exec_driver_sql("VACUUM ANALYZE")
                print(f"  vacuum analyze: {time.perf_counter() - step:.1f} s", flush=True)
        else:
            with engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="database URL (an empty database; it is migrated)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply SRs, chats, messages, persons, CIs and assets")
    for name in ("srs", "persons", "cis", "assets", "waiting", "active"):
        parser.add_argument(f"--{name}", type=int, default=None,
                            help=f"{name} (after --scale; default {getattr(Sizes, name):,})")
    parser.add_argument("--years", type=float, default=None,
                        help=f"years the history covers (default {YEARS})")
    args = parser.parse_args(argv)
    given = {name: value for name in ("srs", "persons", "cis", "assets", "waiting", "active",
                                      "years")
             if (value := getattr(args, name)) is not None}
    now = {name: given[name] for name in ("waiting", "active") if name in given}
    sizes = replace(replace(Sizes(), **now).scaled(args.scale), **given)
    print(f"filling: {sizes}", flush=True)
    seconds = fill(args.url, sizes)
    print(f"done in {seconds:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
