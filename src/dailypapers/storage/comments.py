"""Comments: threaded under a paper, kept as the Markdown their author wrote."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, insert, select, update

from dailypapers.models import Comment
from dailypapers.storage.papers import as_utc
from dailypapers.storage.schema import comments, papers, users


def add_comment(
    connection: Connection,
    paper_id: str,
    user_id: int,
    body: str,
    now: datetime,
    parent_id: int | None = None,
) -> int:
    values = {
        "paper_id": paper_id,
        "user_id": user_id,
        "parent_id": parent_id,
        "body": body,
        "created_at": now,
    }
    return connection.execute(insert(comments).values(values).returning(comments.c.id)).scalar_one()


def _query() -> Select[Any]:
    return select(comments, users.c.username).join(users, users.c.id == comments.c.user_id)


def _comment(row: object) -> Comment:
    return Comment(
        id=row.id,  # type: ignore[attr-defined]
        paper_id=row.paper_id,  # type: ignore[attr-defined]
        author=row.username,  # type: ignore[attr-defined]
        user_id=row.user_id,  # type: ignore[attr-defined]
        parent_id=row.parent_id,  # type: ignore[attr-defined]
        body=row.body,  # type: ignore[attr-defined]
        created_at=as_utc(row.created_at),  # type: ignore[attr-defined]
        edited_at=as_utc(row.edited_at),  # type: ignore[attr-defined]
        deleted=bool(row.deleted),  # type: ignore[attr-defined]
        hidden=bool(row.hidden),  # type: ignore[attr-defined]
    )


def get_comment(connection: Connection, comment_id: int) -> Comment | None:
    row = connection.execute(_query().where(comments.c.id == comment_id)).one_or_none()
    return _comment(row) if row else None


def paper_comments(connection: Connection, paper_id: str) -> list[Comment]:
    """Every comment of a paper, oldest first (threads are assembled by the caller)."""
    query = _query().where(comments.c.paper_id == paper_id).order_by(comments.c.id)
    return [_comment(row) for row in connection.execute(query)]


def comments_by(connection: Connection, user_id: int, limit: int) -> list[Comment]:
    """A member's comments that others can still read, newest first."""
    query = (
        _query()
        .join(papers, papers.c.id == comments.c.paper_id)
        .where(
            comments.c.user_id == user_id,
            comments.c.deleted.is_(False),
            comments.c.hidden.is_(False),
            papers.c.hidden.is_(False),
        )
        .order_by(comments.c.id.desc())
        .limit(limit)
    )
    return [_comment(row) for row in connection.execute(query)]


def update_comment(connection: Connection, comment_id: int, **values: object) -> None:
    """Set body (with edited_at), deleted or hidden."""
    connection.execute(update(comments).where(comments.c.id == comment_id).values(**values))


def comment_counts(connection: Connection, ids: Sequence[str]) -> dict[str, int]:
    query = (
        select(comments.c.paper_id, func.count())
        .where(
            comments.c.paper_id.in_(list(ids)),
            comments.c.deleted.is_(False),
            comments.c.hidden.is_(False),
        )
        .group_by(comments.c.paper_id)
    )
    return {paper_id: count for paper_id, count in connection.execute(query)}
