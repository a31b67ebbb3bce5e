"""What the site follows on arXiv: categories or archives, each with an optional backfill
start. Removed ones are kept as removed, so that the setting seeding the table does not
bring them back. A backfill start is a day of arXiv's history: from its first month to
today, nothing else (a plan from year 1 is 24,000 monthly harvests)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, select, update

from dailypapers.storage.papers import as_date, as_utc
from dailypapers.storage.schema import follows
from dailypapers.storage.store import StoreError
from dailypapers.storage.upserts import insert_for

FIRST_DAY = date(1991, 8, 1)  # arXiv's first month: no history before it


class FollowError(StoreError):
    """A follow refused, with the reason in one line."""


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
    # SQLite hands times back naive: aware UTC on both databases.
    return [Follow(name, as_date(since), _aware(added)) for name, since, added in rows]


def _aware(moment: datetime) -> datetime:
    found = as_utc(moment)
    assert found is not None
    return found


def check_since(since: date, today: date) -> date:
    """`since` when it is a day of arXiv's history (FIRST_DAY to `today`), else FollowError."""
    if not FIRST_DAY <= since <= today:
        raise FollowError(
            f"the history can start on a day from {FIRST_DAY} to today ({today}), not {since}"
        )
    return since


def seed_follows(connection: Connection, names: Sequence[str], now: datetime) -> None:
    """Add the setting's names that were never followed (a removed one stays removed)."""
    if names:
        statement = insert_for(connection.dialect.name, follows).on_conflict_do_nothing()
        connection.execute(statement, [{"category": n, "added_at": now} for n in names])


def add_follows(
    connection: Connection, names: Sequence[str], now: datetime, since: date | None = None
) -> None:
    """Follow `names` (again); `since` asks for their history from that day on (FollowError
    when it is no day of arXiv's history by `now`)."""
    if since is not None:
        check_since(since, _aware(now).date())
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
