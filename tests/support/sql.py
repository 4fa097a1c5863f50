"""The SQL a piece of code sends, and how the database would run it (its query plan)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass
class Statement:
    sql: str
    parameters: object

    def touches(self, table: str) -> bool:
        return re.search(rf"\b(FROM|JOIN|UPDATE|INTO)\s+{table}\b", self.sql) is not None


@contextmanager
def recorded(engine: Engine) -> Iterator[list[Statement]]:
    """Every statement sent to the database inside the block, with its parameters."""
    seen: list[Statement] = []

    def on_execute(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        seen.append(Statement(statement, parameters))

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def plan(engine: Engine, statement: Statement) -> list[str]:
    """The query plan's lines. PostgreSQL is told to avoid sequential scans, so that on a
    test's nearly empty tables it shows the index it would use on a large desk (and a
    sequential scan only where no index can serve)."""
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        try:
            if engine.dialect.name == "sqlite":
                cursor.execute(f"EXPLAIN QUERY PLAN {statement.sql}", statement.parameters)
                return [str(row[-1]) for row in cursor.fetchall()]
            cursor.execute("SET enable_seqscan = off")
            cursor.execute(f"EXPLAIN {statement.sql}", statement.parameters)
            return [row[0] for row in cursor.fetchall()]
        finally:
            cursor.close()
            conn.rollback()


def full_scans(engine: Engine, statement: Statement, tables: set[str]) -> list[str]:
    """The plan's steps that read one of `tables` whole (no index condition bounds them)."""
    lines = plan(engine, statement)
    if engine.dialect.name == "sqlite":
        return [line for line in lines
                if (m := re.match(r"SCAN (\w+)", line)) and m.group(1) in tables]
    found = []
    for index, line in enumerate(lines):
        match = re.search(r"Scan.* on (\w+)", line)
        if not match or match.group(1) not in tables:
            continue
        depth = len(line) - len(line.lstrip(" ->"))
        node = []
        for detail in lines[index + 1:]:
            if len(detail) - len(detail.lstrip(" ->")) <= depth or "->" in detail:
                break
            node.append(detail)
        if not any("Index Cond" in d or "Recheck Cond" in d for d in node):
            found.append(line.strip())
    return found
