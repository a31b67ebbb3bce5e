"""Locks that one process at a time holds per database, and that its death releases."""

from __future__ import annotations

import fcntl
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:  # store.py takes its migration lock with file_lock
    from dailypapers.storage.store import Store


@contextmanager
def exclusive(store: Store, name: str, wait: float = 0.0) -> Iterator[bool]:
    """Try to take the lock `name` for the block, for up to `wait` seconds; yields whether
    this process holds it.

    A crashed or killed holder never leaves it taken: on SQLite it is an flock on a file
    beside the database (the kernel drops it with the process), on PostgreSQL a session
    advisory lock (the server drops it with the connection).
    """
    if store.dialect == "sqlite":
        with file_lock(f"{store.engine.url.database}.{name}.lock", wait) as held:
            yield held
        return
    deadline = time.monotonic() + wait
    key = advisory_key(name)
    with store.engine.connect() as connection:

        def take() -> bool:
            query = text("SELECT pg_try_advisory_lock(:key)")
            return bool(connection.scalar(query, {"key": key}))

        held = _retry(take, deadline)
        connection.commit()
        try:
            yield held
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()


def advisory_key(name: str) -> int:
    """The number PostgreSQL's advisory locks know the lock `name` by."""
    return zlib.crc32(name.encode())


@contextmanager
def file_lock(path: str | Path, wait: float = 0.0) -> Iterator[bool]:
    """Try to flock `path` for the block, for up to `wait` seconds; yields whether this
    process holds it (the kernel drops it when the process dies)."""
    deadline = time.monotonic() + wait
    with open(path, "a") as handle:
        held = _retry(lambda: _flock(handle), deadline)
        try:
            yield held
        finally:
            if held:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _flock(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _retry(take: Callable[[], bool], deadline: float) -> bool:
    """A holder that just died may take a moment to let go (a PostgreSQL backend ending)."""
    while not (held := take()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return held
