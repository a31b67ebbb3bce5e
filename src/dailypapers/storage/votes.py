"""Upvotes: one row per user and paper, so concurrent votes are counted exactly."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Connection, delete, func, select

from dailypapers.storage.papers import as_date
from dailypapers.storage.schema import submissions, votes
from dailypapers.storage.upserts import insert_for


def add_vote(connection: Connection, user_id: int, paper_id: str, now: datetime) -> bool:
    """True when the vote is new; a second vote by the same user changes nothing."""
    statement = insert_for(connection.dialect.name, votes).on_conflict_do_nothing()
    values = {"user_id": user_id, "paper_id": paper_id, "created_at": now}
    # An INSERT's rowcount is kept only when asked for (psycopg otherwise reports -1).
    inserted = connection.execute(
        statement.values(values), execution_options={"preserve_rowcount": True}
    )
    return inserted.rowcount == 1


def remove_vote(connection: Connection, user_id: int, paper_id: str) -> bool:
    query = delete(votes).where(votes.c.user_id == user_id, votes.c.paper_id == paper_id)
    return connection.execute(query).rowcount == 1


def vote_counts(connection: Connection, ids: Sequence[str]) -> dict[str, int]:
    """Votes cast here plus those a community brought along from another site."""
    counts = dict.fromkeys(ids, 0)
    for chunk in id_chunks(list(ids)):
        query = (
            select(votes.c.paper_id, func.count())
            .where(votes.c.paper_id.in_(chunk))
            .group_by(votes.c.paper_id)
        )
        imported = select(submissions.c.paper_id, submissions.c.upvotes).where(
            submissions.c.paper_id.in_(chunk), submissions.c.upvotes > 0
        )
        for paper_id, count in [*connection.execute(query), *connection.execute(imported)]:
            counts[paper_id] += count
    return counts


def voted_by(connection: Connection, user_id: int, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in id_chunks(list(ids)):
        query = select(votes.c.paper_id).where(
            votes.c.user_id == user_id, votes.c.paper_id.in_(chunk)
        )
        found.update(connection.scalars(query))
    return found


def votes_since(connection: Connection, since: datetime) -> dict[str, int]:
    query = (
        select(votes.c.paper_id, func.count())
        .where(votes.c.created_at >= since)
        .group_by(votes.c.paper_id)
    )
    return {paper_id: count for paper_id, count in connection.execute(query)}


def votes_per_day(connection: Connection) -> list[tuple[date, int]]:
    day = func.date(votes.c.created_at)  # a date on PostgreSQL, ISO text on SQLite
    query = select(day, func.count()).group_by(day).order_by(day)
    return [(as_date(value), count) for value, count in connection.execute(query)]


def id_chunks(ids: list[str], size: int = 900) -> list[list[str]]:
    """IN lists stay under SQLite's bound-parameter limit."""
    return [ids[start : start + size] for start in range(0, len(ids), size)]
