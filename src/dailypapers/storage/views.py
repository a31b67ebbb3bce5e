"""The papers a signed-in reader opened: lists can leave them out ("hide papers I have seen")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from dailypapers.storage.schema import paper_views
from dailypapers.storage.upserts import insert_for
from dailypapers.storage.votes import id_chunks


def record_view(connection: Connection, user_id: int, paper_id: str, now: datetime) -> None:
    """Remember that the reader opened the paper; the first time is the one kept."""
    statement = insert_for(connection.dialect.name, paper_views).on_conflict_do_nothing()
    connection.execute(statement.values(user_id=user_id, paper_id=paper_id, seen_at=now))


def seen_papers(connection: Connection, user_id: int, ids: Sequence[str]) -> set[str]:
    """Those of `ids` the reader opened."""
    seen: set[str] = set()
    for chunk in id_chunks(list(ids)):
        query = select(paper_views.c.paper_id).where(
            paper_views.c.user_id == user_id, paper_views.c.paper_id.in_(chunk)
        )
        seen.update(connection.scalars(query))
    return seen
