"""The one place that opens a database: engine set-up, migrations, transactions, backup."""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from dailypapers.storage import schema
from dailypapers.storage.bulk import json_text
from dailypapers.storage.locks import advisory_key, file_lock

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_S = 30.0  # a writer waits this long for SQLite's write lock, then fails
MIGRATION_WAIT_S = 600.0  # for another process's migration (an index over millions of rows)


class StoreError(Exception):
    """The database cannot be opened or written; the message is one line for the user."""


def _normalise_url(url: str) -> str:
    """Let users write postgresql:// and get the psycopg 3 driver we ship with."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    # First: a process opening the file while another creates it or turns on WAL waits.
    # Writers queue for the one write lock; under heavy load on two cores a vote waited
    # over 10 s, so the wait is generous (past it the site answers 503, never loses data).
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000:.0f}")
    # Rows carry ~1 KB abstracts: 16 KB pages write them ~30% faster than 4 KB ones.
    # Takes effect when the file is created (a no-op afterwards, and in WAL mode).
    cursor.execute("PRAGMA page_size=16384")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _check_sqlite_folder(database: str) -> None:
    """Make the database's folder and check that SQLite may write the file and its -wal and
    -shm there. Never by opening the file: closing any descriptor of it drops every POSIX lock
    this process holds on it through SQLite, and another process that then finds no one else
    using the database deletes the WAL that this one goes on writing (acknowledged writes lost)."""
    path = Path(database)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for needed in (path.parent, path):
            if needed.exists() and not os.access(needed, os.W_OK):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
    except OSError as error:
        raise StoreError(f"cannot write database {path}: {error.strerror or error}") from error


def first_line(error: BaseException) -> str:
    """A database error as one line: the driver's message, without SQLAlchemy's statement dump."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


# SQLite has one write lock, and its busy handler lets newcomers overtake writers that sleep
# between tries (up to 100 ms): 1 s tails for votes. This process's writers of a database
# (every Store of it: `serve` has one for the site and one for its jobs) queue for it in turn
# instead; other processes still meet the busy handler.
_WRITERS: dict[str, threading.RLock] = {}
_WRITERS_GUARD = threading.Lock()


def _writers_of(engine: Engine) -> threading.RLock:
    database = engine.url.database or ""
    key = str(Path(database).resolve()) if database and database != ":memory:" else str(id(engine))
    with _WRITERS_GUARD:
        return _WRITERS.setdefault(key, threading.RLock())


class Store:
    """An engine plus what the application needs around it; transactions belong to the caller."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writers = _writers_of(engine) if engine.dialect.name == "sqlite" else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def transaction(self, connection: Connection | None = None) -> Iterator[Connection]:
        """Every write goes through here; each one moves the data version on, last (so that
        on PostgreSQL its row is locked only while committing). On the caller's `connection`
        when given (see `read`), after committing what it has read so far."""
        with self._begun(connection) as begun:
            yield begun
            begun.execute(_NEXT_VERSION)

    @contextmanager
    def voting(self, connection: Connection | None = None) -> Iterator[Connection]:
        """A vote: it moves the votes version (storage.votes.mark_vote) instead of the data
        version, so that only the cached pages showing its paper are made again."""
        with self._begun(connection) as begun:
            yield begun

    @contextmanager
    def bookkeeping(self, connection: Connection | None = None) -> Iterator[Connection]:
        """A write that no page shows (a job's lease, a worker's heartbeat): it leaves the
        data version, and so every cached page, as it is."""
        with self._begun(connection) as begun:
            yield begun

    @contextmanager
    def _begun(self, connection: Connection | None) -> Iterator[Connection]:
        """A transaction on `connection`, or on one from the pool. The pool's connection is
        checked out before queueing: a writer in turn must never wait for a connection held
        by a request queueing behind it."""
        if connection is None:
            with self.engine.connect() as fresh, self._writer_turn(), fresh.begin():
                yield fresh
            return
        connection.commit()
        with self._writer_turn(), connection.begin():
            yield connection

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        """This process's turn at SQLite's write lock; failing, after as long as SQLite's
        busy handler would wait, as SQLite itself does (the site answers 503)."""
        if self._writers is None:
            yield
            return
        if not self._writers.acquire(timeout=BUSY_TIMEOUT_S):
            busy = sqlite3.OperationalError("database is locked (by this process's writers)")
            raise OperationalError("BEGIN", None, busy)
        try:
            yield
        finally:
            self._writers.release()

    @contextmanager
    def read(self, connection: Connection | None = None) -> Iterator[Connection]:
        """A connection to read on: the caller's when given, else one from the pool. A web
        request holds one for its whole life and hands it down: checking out a second while
        holding one deadlocks the pool once every connection is held by such a request."""
        if connection is not None:
            yield connection
            return
        with self.engine.connect() as connection:
            yield connection

    def _alembic_config(self, connection: Connection) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        return config

    def pending_migrations(self) -> bool:
        head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision() != head

    def migrate(self) -> None:
        """Bring the schema to the newest revision; a no-op when it is there already. One
        process at a time: others started together wait for it, then find nothing to do."""
        try:
            with self._migration_lock(), self.engine.begin() as connection:
                if self.dialect == "postgresql":  # released by the commit
                    lock = text("SELECT pg_advisory_xact_lock(:key)")
                    connection.execute(lock, {"key": advisory_key("migrate")})
                command.upgrade(self._alembic_config(connection), "head")
        except StoreError:
            raise
        except Exception as error:
            raise StoreError(f"cannot migrate {self.url}: {first_line(error)}") from error

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """SQLite: an flock on a file beside the database (PostgreSQL locks in the migration's
        transaction). SQLite runs DDL outside transactions, so without it a second process
        would find half a schema."""
        database = self.engine.url.database
        if self.dialect != "sqlite" or not database or database == ":memory:":
            yield
            return
        with file_lock(f"{database}.migrate.lock", MIGRATION_WAIT_S) as held:
            if not held:
                raise StoreError(f"another process has been migrating {self.url} for too long")
            yield

    def backup(self, target: Path) -> None:
        """Copy a live SQLite database with the online backup API (readers and writers go on)."""
        if self.dialect != "sqlite":
            raise StoreError("db backup copies SQLite files; use pg_dump for PostgreSQL")
        database = Path(str(self.engine.url.database))
        if any(_same_file(target, Path(f"{database}{end}")) for end in ("", "-wal", "-shm")):
            raise StoreError(f"db backup would overwrite the database itself: {target}")
        target.parent.mkdir(parents=True, exist_ok=True)
        raw = self.engine.raw_connection()
        try:
            destination = sqlite3.connect(target)
            try:
                raw.driver_connection.backup(destination)  # type: ignore[union-attr]
            finally:
                destination.close()
        except sqlite3.Error as error:  # a folder, a file that is no database
            raise StoreError(f"cannot back up to {target}: {error}") from error
        finally:
            raw.close()

    def close(self) -> None:
        self.engine.dispose()


def _same_file(path: Path, database_file: Path) -> bool:
    """Whether path names that file, also through a symbolic or a hard link."""
    if path.resolve() == database_file.resolve():
        return True
    try:
        return path.samefile(database_file)
    except OSError:  # either one does not exist
        return False


_NEXT_VERSION = (
    update(schema.data_version)
    .where(schema.data_version.c.id == schema.DATA_ROW)
    .values(version=schema.data_version.c.version + 1)
)


@dataclass(frozen=True)
class Versions:
    data: int  # changes whenever a transaction commits
    votes: int  # changes whenever a vote does (storage.votes.mark_vote)


def versions(connection: Connection) -> Versions:
    """Keys for anything cached from the database. Read them before the data they key, so
    that the data is never older than the versions."""
    table = schema.data_version
    rows = dict(connection.execute(select(table.c.id, table.c.version)).all())
    return Versions(int(rows[schema.DATA_ROW]), int(rows[schema.VOTES_ROW]))


def open_store(
    url: str,
    *,
    migrate: bool = True,
    pool_size: int = 5,
    max_overflow: int = 10,
    pool_timeout: float = 30.0,
) -> Store:
    """Open SQLite (`sqlite:///file`, WAL) or PostgreSQL (`postgresql://…`) and migrate it.
    The pool keeps `pool_size` connections, lends `max_overflow` more, and makes a caller
    wait up to `pool_timeout` seconds for one (SQLAlchemy's defaults)."""
    parsed = make_url(_normalise_url(url))
    pool = {"pool_size": pool_size, "max_overflow": max_overflow, "pool_timeout": pool_timeout}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _check_sqlite_folder(parsed.database)
        else:
            pool = {}  # one connection per thread: nothing to size
        engine = create_engine(parsed, json_serializer=json_text, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
    elif parsed.get_backend_name() == "postgresql":
        engine = create_engine(parsed, pool_pre_ping=True, json_serializer=json_text, **pool)
    else:
        raise StoreError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")
    store = Store(engine)
    if migrate:
        try:
            if store.pending_migrations():
                store.migrate()
        except Exception as error:
            store.close()
            if isinstance(error, StoreError):
                raise
            raise StoreError(f"cannot open database {store.url}: {first_line(error)}") from error
    return store
