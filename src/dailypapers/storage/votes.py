"""Upvotes: one row per user and paper, so concurrent votes are counted exactly."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from dailypapers.ranking.trending import WINDOW, day_start, hours_since, trending_score
from dailypapers.storage.papers import as_date, as_utc, feed_day_of
from dailypapers.storage.schema import (
    VOTES_ROW,
    data_version,
    papers,
    submissions,
    vote_marks,
    votes,
)
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


MARKS_KEPT = 10_000  # a cached page older than this many votes is made again


def mark_vote(connection: Connection, paper_id: str, day: date | None) -> None:
    """In a vote's transaction (Store.voting): move the votes version on and mark the paper
    and its feed day with it. The counter's row stays locked until the vote commits, so marks
    commit in the order of their versions, which a cached page's check relies on."""
    moved = (
        update(data_version)
        .where(data_version.c.id == VOTES_ROW)
        .values(version=data_version.c.version + 1)
        .returning(data_version.c.version)
    )
    version = connection.execute(moved).scalar_one()
    connection.execute(insert(vote_marks).values(version=version, paper_id=paper_id, day=day))
    connection.execute(delete(vote_marks).where(vote_marks.c.version <= version - MARKS_KEPT))


def votes_marked(
    connection: Connection, since: int, paper_id: str | None, days: tuple[date, date] | None
) -> bool:
    """Whether a vote after votes version `since` was for `paper_id` or a paper of `days`
    (first, last); True when marks that old are gone."""
    shows = []
    if paper_id is not None:
        shows.append(vote_marks.c.paper_id == paper_id)
    if days is not None:
        shows.append(vote_marks.c.day.between(*days))
    touched = select(vote_marks.c.version).where(vote_marks.c.version > since, or_(*shows))
    oldest = select(func.min(vote_marks.c.version)).scalar_subquery()
    kept_from, found = connection.execute(select(oldest, touched.exists())).one()
    return bool(found) or (kept_from is not None and kept_from > since + 1)


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


def trending_scores(
    connection: Connection, days: dict[str, date], now: datetime
) -> dict[str, float]:
    """Each paper's trending score from its votes of the window before `now` (ranking.trending);
    `days` gives each paper's day in the feed, when its imported votes count as cast."""
    ages: dict[str, list[tuple[float, int]]] = {paper_id: [] for paper_id in days}
    for chunk in id_chunks(list(days)):
        cast = select(votes.c.paper_id, votes.c.created_at).where(
            votes.c.paper_id.in_(chunk), votes.c.created_at >= now - WINDOW
        )
        for paper_id, moment in connection.execute(cast):
            ages[paper_id].append((hours_since(as_utc(moment), now), 1))  # type: ignore[arg-type]
        imported = select(submissions.c.paper_id, submissions.c.upvotes).where(
            submissions.c.paper_id.in_(chunk), submissions.c.upvotes > 0
        )
        for paper_id, count in connection.execute(imported):
            ages[paper_id].append((hours_since(day_start(days[paper_id]), now), count))
    return {paper_id: trending_score(paper_ages) for paper_id, paper_ages in ages.items()}


def voted_since(connection: Connection, since: datetime) -> dict[str, date]:
    """The feed day of each visible paper with a vote cast since `since` (a submission's day is
    the day it was submitted, as in storage.feed)."""
    recent = select(votes.c.paper_id).where(votes.c.created_at >= since)
    query = (
        select(papers.c.id, papers.c.announced, submissions.c.submitted_at)
        .outerjoin(submissions, submissions.c.paper_id == papers.c.id)
        .where(papers.c.id.in_(recent), papers.c.hidden.is_(False))
    )
    found = {}
    for paper_id, announced, submitted in connection.execute(query):
        day = feed_day_of(announced, submitted)
        if day is not None:
            found[paper_id] = day
    return found


def votes_per_day(connection: Connection) -> list[tuple[date, int]]:
    day = func.date(votes.c.created_at)  # a date on PostgreSQL, ISO text on SQLite
    query = select(day, func.count()).group_by(day).order_by(day)
    return [(as_date(value), count) for value, count in connection.execute(query)]


def id_chunks(ids: list[str], size: int = 900) -> list[list[str]]:
    """IN lists stay under SQLite's bound-parameter limit."""
    return [ids[start : start + size] for start in range(0, len(ids), size)]
