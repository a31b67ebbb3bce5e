"""executemany without SQLAlchemy's per-row bookkeeping, which costs more than SQLite's insert.

For SQLite a statement is compiled once; each row becomes a tuple through the column
types' own bind processors, so values are stored exactly as SQLAlchemy would store them.
PostgreSQL takes the rows as they are (psycopg pipelines an executemany).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Connection, Date, DateTime
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

Processor = Callable[[Any], Any]
# Dates repeat within a batch (listing days, the batch's timestamp) and SQLAlchemy's
# formatting of them is slow, so their conversions are memoized per batch.
_REPEATING = (Date, DateTime)


def json_text(value: object) -> str:
    return orjson.dumps(value).decode()


@cache
def dialect_named(name: str) -> Dialect:
    """A dialect to compile with, configured as `open_store` configures the engine's."""
    if name == "sqlite":
        return sqlite.dialect(json_serializer=json_text)
    return postgresql.psycopg.dialect(json_serializer=json_text)


@dataclass
class PreparedRows:
    """Rows ready for the driver: positional tuples and their SQL for SQLite, else dicts."""

    sql: str | None
    rows: list[Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    values: Callable[[dict[str, Any]], tuple[Any, ...]]
    processors: list[tuple[int, Processor, bool]]  # (position, processor, memoize?)


_compiled: dict[tuple[int, tuple[str, ...]], _Compiled] = {}


def _compile(statement: Any, keys: tuple[str, ...]) -> _Compiled:
    key = (id(statement), keys)  # statements are module-level and cached: ids are stable
    if key not in _compiled:
        dialect = dialect_named("sqlite")
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        names = compiled.positiontup
        types = [compiled.binds[name].type for name in names]
        processors = [
            (position, process, isinstance(kind, _REPEATING))
            for position, kind in enumerate(types)
            if (process := kind._cached_bind_processor(dialect))
        ]
        values = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
        _compiled[key] = _Compiled(compiled.string, values, processors)
    return _compiled[key]


def prepare_many(dialect: str, statement: Any, rows: Sequence[dict[str, Any]]) -> PreparedRows:
    if dialect != "sqlite" or not rows:
        return PreparedRows(None, list(rows))
    compiled = _compile(statement, tuple(rows[0]))
    converters = [
        (position, _memoized(process) if repeating else process)
        for position, process, repeating in compiled.processors
    ]
    prepared = []
    for row in rows:
        value = list(compiled.values(row))
        for position, convert in converters:
            value[position] = convert(value[position])
        prepared.append(value)
    return PreparedRows(compiled.sql, prepared)


def run_many(connection: Connection, statement: Any, prepared: PreparedRows) -> None:
    if not prepared.rows:
        return
    if prepared.sql is None:
        connection.execute(statement, prepared.rows)
        return
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(prepared.sql, prepared.rows)
    finally:
        cursor.close()


def _memoized(process: Processor) -> Processor:
    seen: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if value not in seen:
            seen[value] = process(value)
        return seen[value]

    return convert
