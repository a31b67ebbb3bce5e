"""The one place that opens a database: engine set-up, migrations, transactions, backup."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, select, update
from sqlalchemy.engine import make_url

from dailypapers.storage import schema
from dailypapers.storage.bulk import json_text

MIGRATIONS = Path(__file__).parent / "migrations"


class StoreError(Exception):
    """The database cannot be opened or written; the message is one line for the user."""


def _normalise_url(url: str) -> str:
    """Let users write postgresql:// and get the psycopg 3 driver we ship with."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    # Rows carry ~1 KB abstracts: 16 KB pages write them ~30% faster than 4 KB ones.
    # Takes effect when the file is created (a no-op afterwards, and in WAL mode).
    cursor.execute("PRAGMA page_size=16384")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; safe with WAL
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _prepare_sqlite_file(database: str) -> None:
    path = Path(database)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab"):
            pass
    except OSError as error:
        raise StoreError(f"cannot write database {path}: {error.strerror or error}") from error


class Store:
    """An engine plus what the application needs around it; transactions belong to the caller."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Every write goes through here; each one moves the data version on, last (so that
        on PostgreSQL its row is locked only while committing)."""
        with self.engine.begin() as connection:
            yield connection
            connection.execute(_NEXT_VERSION)

    @contextmanager
    def read(self) -> Iterator[Connection]:
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
        """Bring the schema to the newest revision; a no-op when it is there already."""
        with self.engine.begin() as connection:
            command.upgrade(self._alembic_config(connection), "head")

    def backup(self, target: Path) -> None:
        """Copy a live SQLite database with the online backup API (readers and writers go on)."""
        if self.dialect != "sqlite":
            raise StoreError("db backup copies SQLite files; use pg_dump for PostgreSQL")
        target.parent.mkdir(parents=True, exist_ok=True)
        raw = self.engine.raw_connection()
        destination = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(destination)  # type: ignore[union-attr]
        finally:
            destination.close()
            raw.close()

    def close(self) -> None:
        self.engine.dispose()


_NEXT_VERSION = update(schema.data_version).values(version=schema.data_version.c.version + 1)


def data_version(connection: Connection) -> int:
    """Changes whenever a transaction commits: a key for anything cached from the database.
    Read it before the data it keys, so that the data is never older than the version."""
    return int(connection.execute(select(schema.data_version.c.version)).scalar_one())


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open SQLite (`sqlite:///file`, WAL) or PostgreSQL (`postgresql://…`) and migrate it."""
    parsed = make_url(_normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _prepare_sqlite_file(parsed.database)
        engine = create_engine(parsed, json_serializer=json_text)
        event.listen(engine, "connect", _sqlite_pragmas)
    elif parsed.get_backend_name() == "postgresql":
        engine = create_engine(parsed, pool_pre_ping=True, json_serializer=json_text)
    else:
        raise StoreError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")
    store = Store(engine)
    if migrate:
        try:
            if store.pending_migrations():
                store.migrate()
        except Exception as error:
            store.close()
            raise StoreError(f"cannot open database {store.url}: {error}") from error
    return store
