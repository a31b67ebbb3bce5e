"""What a signed-in reader chose to see: the categories their lists are filtered to."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, insert, select

from dailypapers.storage.schema import reader_categories


def remembered_categories(connection: Connection, user_id: int) -> list[str]:
    query = (
        select(reader_categories.c.category)
        .where(reader_categories.c.user_id == user_id)
        .order_by(reader_categories.c.category)
    )
    return list(connection.scalars(query))


def remember_categories(connection: Connection, user_id: int, categories: Sequence[str]) -> None:
    """Replace the reader's choice with `categories` (none: every category)."""
    connection.execute(delete(reader_categories).where(reader_categories.c.user_id == user_id))
    rows = [{"user_id": user_id, "category": category} for category in dict.fromkeys(categories)]
    if rows:
        connection.execute(insert(reader_categories), rows)
