"""The key that signs links in mails, kept in the database when no setting gives one."""

from __future__ import annotations

from sqlalchemy import Connection, select

from dailypapers.storage.schema import signing_secret
from dailypapers.storage.upserts import insert_for


def stored_signing_secret(connection: Connection) -> str | None:
    return connection.scalar(select(signing_secret.c.secret).where(signing_secret.c.id == 1))


def keep_signing_secret(connection: Connection, candidate: str) -> str:
    """The database's signing secret; `candidate` becomes it if there is none yet (the first
    process to get here wins, and every other one reads the winner's)."""
    statement = insert_for(connection.dialect.name, signing_secret).on_conflict_do_nothing()
    connection.execute(statement.values(id=1, secret=candidate))
    return str(stored_signing_secret(connection))
