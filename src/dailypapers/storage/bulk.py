"""executemany without SQLAlchemy's per-row bookkeeping, which costs more than SQLite's insert.

The statement is compiled once per dialect; each row then becomes a tuple through the
column types' own bind processors, so values are stored exactly as SQLAlchemy would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import Executable

Processor = Callable[[Any], Any] | None
# SQL text, a getter of the row's values in parameter order, and (position, processor) pairs.
Compiled = tuple[str, Callable[[dict[str, Any]], tuple[Any, ...]], list[tuple[int, Processor]]]
_compiled: dict[tuple[int, str, tuple[str, ...]], Compiled] = {}


def _compile(connection: Connection, statement: Any, keys: tuple[str, ...]) -> Compiled:
    key = (id(statement), connection.dialect.name, keys)
    if key not in _compiled:
        dialect = connection.dialect
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        names = compiled.positiontup
        processors = [
            (position, compiled.binds[name].type._cached_bind_processor(dialect))
            for position, name in enumerate(names)
        ]
        getter = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
        _compiled[key] = (
            compiled.string,
            getter,
            [(position, process) for position, process in processors if process],
        )
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
    values = []
    for row in rows:
        value = list(getter(row))
        for position, process in processors:
            value[position] = process(value[position])
        values.append(value)
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(sql, values)
    finally:
        cursor.close()
