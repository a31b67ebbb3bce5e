"""executemany without SQLAlchemy's per-row bookkeeping, which costs more than SQLite's insert.

The statement is compiled once per dialect; each row then becomes a tuple through the
column types' own bind processors, so values are stored exactly as SQLAlchemy would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Date, DateTime
from sqlalchemy.sql import Executable

Processor = Callable[[Any], Any]
# SQL text, a getter of the row's values in parameter order, and (position, processor,
# whether to memoize) for the parameters whose type converts values.
Compiled = tuple[
    str, Callable[[dict[str, Any]], tuple[Any, ...]], list[tuple[int, Processor, bool]]
]
# Dates repeat within a batch (listing days, the batch's timestamp) and SQLAlchemy's
# formatting of them is slow, so their conversions are memoized per batch.
_REPEATING = (Date, DateTime)
_compiled: dict[tuple[int, str, tuple[str, ...]], Compiled] = {}


def _compile(connection: Connection, statement: Any, keys: tuple[str, ...]) -> Compiled:
    key = (id(statement), connection.dialect.name, keys)
    if key not in _compiled:
        dialect = connection.dialect
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        names = compiled.positiontup
        types = [compiled.binds[name].type for name in names]
        processors = [
            (position, process, isinstance(kind, _REPEATING))
            for position, kind in enumerate(types)
            if (process := kind._cached_bind_processor(dialect))
        ]
        getter = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
        _compiled[key] = (compiled.string, getter, processors)
    return _compiled[key]


def execute_many(
    connection: Connection, statement: Executable, rows: Sequence[dict[str, Any]]
) -> None:
    """Run `statement` once per row; statements must live as long as the process (cached)."""
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        connection.execute(statement, list(rows))
        return
    sql, getter, processors = _compile(connection, statement, tuple(rows[0]))
    converters = [
        (position, _memoized(process) if repeating else process)
        for position, process, repeating in processors
    ]
    values = []
    for row in rows:
        value = list(getter(row))
        for position, convert in converters:
            value[position] = convert(value[position])
        values.append(value)
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(sql, values)
    finally:
        cursor.close()


def _memoized(process: Processor) -> Processor:
    seen: dict[Any, Any] = {}

    def convert(value: Any) -> Any:
        if value not in seen:
            seen[value] = process(value)
        return seen[value]

    return convert
