"""Subscribers, the categories they follow and their saved searches; rules are the caller's."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, delete, insert, select, update

from dailypapers.models import SavedSearch, Subscriber
from dailypapers.storage.papers import as_utc
from dailypapers.storage.schema import (
    paper_categories,
    saved_searches,
    subscriber_categories,
    subscribers,
)
from dailypapers.storage.upserts import insert_for

MOMENTS = ("created_at", "confirmation_sent_at", "confirmed_at", "unsubscribed_at")


def add_subscriber(
    connection: Connection,
    email: str,
    frequency: str,
    time_zone: str,
    now: datetime,
    user_id: int | None = None,
) -> int:
    """Raises sqlalchemy's IntegrityError when the address (or the user) has one already."""
    values = {
        "email": email,
        "frequency": frequency,
        "time_zone": time_zone,
        "created_at": now,
        "user_id": user_id,
    }
    query = insert(subscribers).values(values).returning(subscribers.c.id)
    return int(connection.execute(query).scalar_one())


def update_subscriber(connection: Connection, subscriber_id: int, **values: object) -> None:
    """Set frequency, time_zone, user_id or one of the moments (confirmed_at, …)."""
    query = update(subscribers).where(subscribers.c.id == subscriber_id).values(**values)
    connection.execute(query)


def delete_subscriber(connection: Connection, subscriber_id: int) -> None:
    connection.execute(delete(subscribers).where(subscribers.c.id == subscriber_id))


def subscriber_by_email(connection: Connection, email: str) -> Subscriber | None:
    return _one(connection, subscribers.c.email == email)


def subscriber_by_id(connection: Connection, subscriber_id: int) -> Subscriber | None:
    return _one(connection, subscribers.c.id == subscriber_id)


def subscriber_of_user(connection: Connection, user_id: int) -> Subscriber | None:
    return _one(connection, subscribers.c.user_id == user_id)


def list_subscribers(connection: Connection) -> list[Subscriber]:
    """Everyone, oldest first, whatever their state."""
    return _many(connection)


def active_subscribers(connection: Connection, frequency: str | None = None) -> list[Subscriber]:
    """Confirmed and not unsubscribed, by id; of one frequency when given."""
    conditions = [subscribers.c.confirmed_at.is_not(None), subscribers.c.unsubscribed_at.is_(None)]
    if frequency is not None:
        conditions.append(subscribers.c.frequency == frequency)
    return _many(connection, *conditions)


def set_categories(connection: Connection, subscriber_id: int, categories: Iterable[str]) -> None:
    """Replace the categories a subscriber follows."""
    owned = subscriber_categories.c.subscriber_id == subscriber_id
    connection.execute(delete(subscriber_categories).where(owned))
    rows = [{"subscriber_id": subscriber_id, "category": c} for c in dict.fromkeys(categories)]
    if rows:
        connection.execute(insert(subscriber_categories), rows)


def add_search(connection: Connection, subscriber_id: int, query: str, now: datetime) -> bool:
    """False when the subscriber saved this query already."""
    values = {"subscriber_id": subscriber_id, "query": query, "created_at": now}
    statement = insert_for(connection.dialect.name, saved_searches).on_conflict_do_nothing()
    added = connection.execute(
        statement.values(values), execution_options={"preserve_rowcount": True}
    )
    return added.rowcount == 1


def remove_search(connection: Connection, subscriber_id: int, search_id: int) -> bool:
    query = delete(saved_searches).where(
        saved_searches.c.id == search_id, saved_searches.c.subscriber_id == subscriber_id
    )
    return connection.execute(query).rowcount == 1


def known_categories(connection: Connection, categories: Sequence[str]) -> set[str]:
    """Those of `categories` that some paper has."""
    query = (
        select(paper_categories.c.category)
        .where(paper_categories.c.category.in_(list(categories)))
        .distinct()
    )
    return set(connection.scalars(query))


def _one(connection: Connection, condition: ColumnElement[bool]) -> Subscriber | None:
    found = _many(connection, condition)
    return found[0] if found else None


def _many(connection: Connection, *conditions: ColumnElement[bool]) -> list[Subscriber]:
    """Subscribers matching all `conditions`, by id, with their categories and searches (one
    query each, however many subscribers)."""
    chosen = select(subscribers.c.id).where(*conditions)
    found = {
        row.id: _subscriber(row)
        for row in connection.execute(
            select(subscribers).where(*conditions).order_by(subscribers.c.id)
        )
    }
    categories = (
        select(subscriber_categories)
        .where(subscriber_categories.c.subscriber_id.in_(chosen))
        .order_by(subscriber_categories.c.subscriber_id, subscriber_categories.c.category)
    )
    # .get: a subscriber added between these queries is not in `found`
    for row in connection.execute(categories):
        if subscriber := found.get(row.subscriber_id):
            subscriber.categories.append(row.category)
    searches = (
        select(saved_searches)
        .where(saved_searches.c.subscriber_id.in_(chosen))
        .order_by(saved_searches.c.id)
    )
    for row in connection.execute(searches):
        if subscriber := found.get(row.subscriber_id):
            subscriber.searches.append(SavedSearch(row.id, row.query))
    return list(found.values())


def _subscriber(row: object) -> Subscriber:
    return Subscriber(
        id=row.id,  # type: ignore[attr-defined]
        email=row.email,  # type: ignore[attr-defined]
        frequency=row.frequency,  # type: ignore[attr-defined]
        time_zone=row.time_zone,  # type: ignore[attr-defined]
        user_id=row.user_id,  # type: ignore[attr-defined]
        **{name: as_utc(getattr(row, name)) for name in MOMENTS},  # type: ignore[arg-type]
    )
