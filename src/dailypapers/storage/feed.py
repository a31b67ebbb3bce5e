"""What the lists show: papers by feed day, category or author, with votes and comments.

A paper's day in the feed is the day it was announced on arXiv or, for a community
submission, the day it was submitted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import orjson
from sqlalchemy import Connection, Text, cast, func, select

from dailypapers.models import FeedEntry
from dailypapers.storage.comments import comment_counts
from dailypapers.storage.library import saved_tags
from dailypapers.storage.papers import (
    as_date,
    as_utc,
    feed_day_of,
    get_papers,
    get_submissions,
)
from dailypapers.storage.schema import paper_categories, papers, submissions
from dailypapers.storage.votes import id_chunks, voted_by


def containing(text: str) -> str:
    """A LIKE pattern (escape character backslash) matching `text` anywhere, literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def days_of(connection: Connection, first: date, last: date) -> dict[str, date]:
    """Feed day of every visible paper whose day falls in [first, last]."""
    announced = (
        select(papers.c.id, papers.c.announced)
        .outerjoin(submissions, submissions.c.paper_id == papers.c.id)
        .where(
            submissions.c.paper_id.is_(None),
            papers.c.announced.between(first, last),
            papers.c.hidden.is_(False),
        )
    )
    submitted = (
        select(submissions.c.paper_id, submissions.c.submitted_at)
        .join(papers, papers.c.id == submissions.c.paper_id)
        .where(
            submissions.c.submitted_at >= _midnight(first),
            submissions.c.submitted_at < _midnight(last + timedelta(days=1)),
            papers.c.hidden.is_(False),
        )
    )
    found = {paper_id: as_date(day) for paper_id, day in connection.execute(announced)}
    for paper_id, moment in connection.execute(submitted):
        found[paper_id] = as_utc(moment).date()  # type: ignore[union-attr]
    return found  # type: ignore[return-value]


@dataclass(frozen=True)
class FeedDay:
    day: date | None  # None: neither announced nor submitted (yet)
    hidden: bool


def feed_day(connection: Connection, paper_id: str) -> FeedDay | None:
    """One paper's day in the feed and whether an admin hid it; None when there is none."""
    query = (
        select(papers.c.announced, papers.c.hidden, submissions.c.submitted_at)
        .outerjoin(submissions, submissions.c.paper_id == papers.c.id)
        .where(papers.c.id == paper_id)
    )
    row = connection.execute(query).first()
    if row is None:
        return None
    announced, hidden, submitted = row
    return FeedDay(feed_day_of(announced, submitted), bool(hidden))


def feed_entries(
    connection: Connection,
    ids: Sequence[str],
    days: dict[str, date],
    upvotes: dict[str, int],
    scores: dict[str, float],
    viewer: int | None,
) -> list[FeedEntry]:
    submitted = get_submissions(connection, ids)
    discussed = comment_counts(connection, ids)
    voted = voted_by(connection, viewer, ids) if viewer is not None else set()
    saved = saved_tags(connection, viewer, ids) if viewer is not None else {}
    return [
        FeedEntry(
            paper=paper,
            day=days[paper.id],
            upvotes=upvotes[paper.id],
            trending=scores[paper.id],
            submission=submitted.get(paper.id),
            comments=discussed.get(paper.id, 0),
            voted=paper.id in voted,
            saved=tuple(saved.get(paper.id, ())),
        )
        for paper in get_papers(connection, ids)
    ]


def neighbour_days(connection: Connection, day: date) -> tuple[date | None, date | None]:
    """The nearest earlier and later days that have papers."""
    visible = papers.c.hidden.is_(False)
    before = select(func.max(papers.c.announced)).where(visible, papers.c.announced < day)
    after = select(func.min(papers.c.announced)).where(visible, papers.c.announced > day)
    return as_date(connection.scalar(before)), as_date(connection.scalar(after))


def first_day(connection: Connection) -> date | None:
    """The first day with papers announced on it (submissions come later)."""
    visible = papers.c.hidden.is_(False)
    return as_date(connection.scalar(select(func.min(papers.c.announced)).where(visible)))


def latest_day(connection: Connection) -> date | None:
    visible = papers.c.hidden.is_(False)
    newest = connection.scalar(select(func.max(papers.c.announced)).where(visible))
    submitted = connection.scalar(
        select(func.max(submissions.c.submitted_at))
        .join(papers, papers.c.id == submissions.c.paper_id)
        .where(visible)
    )
    days = [d for d in (as_date(newest), as_utc(submitted).date() if submitted else None) if d]
    return max(days) if days else None


def in_categories(
    connection: Connection, ids: Sequence[str], categories: Sequence[str]
) -> set[str]:
    """Those of `ids` in any of `categories` (primary or cross-listed)."""
    found: set[str] = set()
    for chunk in id_chunks(list(ids)):
        query = select(paper_categories.c.paper_id).where(
            paper_categories.c.paper_id.in_(chunk), paper_categories.c.category.in_(categories)
        )
        found.update(connection.scalars(query))
    return found


def categories_by_frequency(connection: Connection, ids: Sequence[str]) -> list[str]:
    """The categories of these papers, the most frequent first (then by name)."""
    counts: Counter[str] = Counter()
    for chunk in id_chunks(list(ids)):
        query = (
            select(paper_categories.c.category, func.count())
            .where(paper_categories.c.paper_id.in_(chunk))
            .group_by(paper_categories.c.category)
        )
        counts.update(dict(connection.execute(query).all()))
    return sorted(counts, key=lambda category: (-counts[category], category))


def category_days(connection: Connection, category: str, limit: int) -> dict[str, date]:
    query = (
        select(papers.c.id, papers.c.announced)
        .join(paper_categories, paper_categories.c.paper_id == papers.c.id)
        .where(paper_categories.c.category == category, papers.c.hidden.is_(False))
        .order_by(papers.c.announced.desc(), papers.c.id.desc())
        .limit(limit)
    )
    return {paper_id: as_date(day) for paper_id, day in connection.execute(query)}  # type: ignore[misc]


def author_days(connection: Connection, name: str, limit: int) -> dict[str, date]:
    """Papers listing `name` among their authors (an exact name, as arXiv gives it)."""
    quoted = orjson.dumps(name).decode()  # as it appears inside the stored JSON array
    query = (
        select(papers.c.id, papers.c.announced)
        .where(
            cast(papers.c.authors, Text).like(containing(quoted), escape="\\"),
            papers.c.hidden.is_(False),
        )
        .order_by(papers.c.announced.desc(), papers.c.id.desc())
        .limit(limit)
    )
    return {paper_id: as_date(day) for paper_id, day in connection.execute(query)}  # type: ignore[misc]


def papers_per_day(connection: Connection) -> list[tuple[date, int]]:
    query = (
        select(papers.c.announced, func.count())
        .where(papers.c.hidden.is_(False), papers.c.announced.is_not(None))
        .group_by(papers.c.announced)
        .order_by(papers.c.announced)
    )
    return [(as_date(day), count) for day, count in connection.execute(query)]  # type: ignore[misc]
