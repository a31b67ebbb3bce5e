"""What the site follows on arXiv: categories or archives, each with an optional backfill
start. Removed ones are kept as removed, so that the setting seeding the table does not
bring them back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, select, update

from dailypapers.storage.papers import as_date
from dailypapers.storage.schema import follows
from dailypapers.storage.upserts import insert_for


@dataclass(frozen=True)
class Follow:
    category: str
    since: date | None
    added_at: datetime


def followed(connection: Connection) -> list[Follow]:
    rows = connection.execute(
        select(follows.c.category, follows.c.since, follows.c.added_at)
        .where(follows.c.removed_at.is_(None))
        .order_by(follows.c.category)
    )
    return [Follow(name, as_date(since), added) for name, since, added in rows]


def seed_follows(connection: Connection, names: Sequence[str], now: datetime) -> None:
    """Add the setting's names that were never followed (a removed one stays removed)."""
    if names:
        statement = insert_for(connection.dialect.name, follows).on_conflict_do_nothing()
        connection.execute(statement, [{"category": n, "added_at": now} for n in names])


def add_follows(
    connection: Connection, names: Sequence[str], now: datetime, since: date | None = None
) -> None:
    """Follow `names` (again); `since` asks for their history from that day on."""
    if not names:
        return
    statement = insert_for(connection.dialect.name, follows)
    values = [{"category": n, "added_at": now, "since": since} for n in names]
    again = {"removed_at": None, "since": statement.excluded.since if since else follows.c.since}
    connection.execute(
        statement.on_conflict_do_update(index_elements=["category"], set_=again), values
    )


def remove_follows(connection: Connection, names: Sequence[str], now: datetime) -> list[str]:
    """Stop following `names`; returns those that were followed."""
    removed = connection.execute(
        update(follows)
        .where(follows.c.category.in_(names), follows.c.removed_at.is_(None))
        .values(removed_at=now)
        .returning(follows.c.category)
    )
    return sorted(removed.scalars())
