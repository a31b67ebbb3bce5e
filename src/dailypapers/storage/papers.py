"""Papers: idempotent upserts from any source, and reads that rebuild `Paper` objects."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from dailypapers.models import TEXT_FIELDS, Paper, PaperVersion, Stats, Submission
from dailypapers.storage.schema import (
    paper_categories,
    paper_listings,
    paper_versions,
    papers,
    submissions,
)


def as_utc(moment: datetime | None) -> datetime | None:
    """Everything stored is UTC: SQLite hands it back naive, PostgreSQL in the session's zone."""
    if moment is None:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _children(connection: Connection, ids: list[str]) -> dict[str, dict[str, list[Any]]]:
    found: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    if not ids:
        return found
    ordered = (
        ("categories", paper_categories, paper_categories.c.category, paper_categories.c.position),
        ("listed", paper_listings, paper_listings.c.day, paper_listings.c.day),
    )
    for key, table, value, order in ordered:
        query = select(table.c.paper_id, value).where(table.c.paper_id.in_(ids)).order_by(order)
        for paper_id, item in connection.execute(query):
            found[paper_id][key].append(item)
    query = (
        select(paper_versions)
        .where(paper_versions.c.paper_id.in_(ids))
        .order_by(paper_versions.c.version)
    )
    for row in connection.execute(query):
        found[row.paper_id]["versions"].append(PaperVersion(row.version, as_utc(row.created)))
    return found


def get_papers(connection: Connection, ids: Sequence[str]) -> list[Paper]:
    """Papers by id, in the order asked; unknown ids are left out."""
    ids = list(ids)
    if not ids:
        return []
    rows = {row.id: row for row in connection.execute(select(papers).where(papers.c.id.in_(ids)))}
    children = _children(connection, list(rows))
    result = []
    for paper_id in ids:
        row = rows.get(paper_id)
        if row is None:
            continue
        paper = Paper(
            id=row.id,
            published=row.published,
            authors=list(row.authors or []),
            sources=dict(row.field_sources or {}),
            **{name: getattr(row, name) for name in TEXT_FIELDS},
            **children.get(paper_id, {}),
        )
        result.append(paper)
    return result


def get_paper(connection: Connection, paper_id: str) -> Paper | None:
    found = get_papers(connection, [paper_id])
    return found[0] if found else None


def paper_hidden(connection: Connection, paper_id: str) -> bool | None:
    """Whether an admin hid the paper; None when there is no such paper."""
    hidden = connection.scalar(select(papers.c.hidden).where(papers.c.id == paper_id))
    return None if hidden is None else bool(hidden)


def authors_of(connection: Connection, ids: Sequence[str]) -> dict[str, list[str]]:
    """Each paper's authors, in order, without loading the rest of it."""
    found: dict[str, list[str]] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        query = select(papers.c.id, papers.c.authors).where(papers.c.id.in_(chunk))
        found.update({paper: list(authors or []) for paper, authors in connection.execute(query)})
    return found


def stored_ids(connection: Connection, ids: Sequence[str]) -> set[str]:
    """Those of `ids` that are stored."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        found.update(connection.scalars(select(papers.c.id).where(papers.c.id.in_(chunk))))
    return found


def set_paper_hidden(connection: Connection, paper_id: str, hidden: bool) -> bool:
    """Hide a paper from every list and page, or show it again; False when there is none."""
    changed = connection.execute(
        update(papers).where(papers.c.id == paper_id).values(hidden=hidden)
    )
    return changed.rowcount > 0


def newest_papers(connection: Connection, limit: int = 50) -> list[Paper]:
    query = (
        select(papers.c.id)
        .order_by(papers.c.announced.desc().nulls_last(), papers.c.id.desc())
        .limit(limit)
    )
    return get_papers(connection, connection.scalars(query).all())


def iter_paper_batches(connection: Connection, batch_size: int = 1000) -> Iterator[list[Paper]]:
    """Every paper by id, in keyset-paged batches so memory stays flat."""
    last = ""
    while True:
        query = select(papers.c.id).where(papers.c.id > last).order_by(papers.c.id)
        ids = connection.scalars(query.limit(batch_size)).all()
        if not ids:
            return
        yield get_papers(connection, ids)
        last = ids[-1]


def get_submissions(connection: Connection, ids: Sequence[str]) -> dict[str, Submission]:
    query = select(submissions).where(submissions.c.paper_id.in_(list(ids)))
    return {
        row.paper_id: Submission(
            paper_id=row.paper_id,
            submitted_at=as_utc(row.submitted_at) or datetime.now(UTC),
            submitted_by=row.submitted_by,
            upvotes=row.upvotes,
            source=row.source,
        )
        for row in connection.execute(query)
    }


def count_papers(connection: Connection) -> int:
    return connection.scalar(select(func.count()).select_from(papers)) or 0


def stats(connection: Connection, top: int = 10) -> Stats:
    def count(expression: Any, table: Any) -> int:
        return connection.scalar(select(expression).select_from(table)) or 0

    first_day, last_day = connection.execute(
        select(func.min(papers.c.announced), func.max(papers.c.announced))
    ).one()
    per_category = (
        select(paper_categories.c.category, func.count().label("n"))
        .group_by(paper_categories.c.category)
        .order_by(func.count().desc(), paper_categories.c.category)
        .limit(top)
    )
    return Stats(
        papers=count(func.count(), papers),
        days=count(func.count(papers.c.announced.distinct()), papers),
        categories=count(func.count(paper_categories.c.category.distinct()), paper_categories),
        versions=count(func.count(), paper_versions),
        submissions=count(func.count(), submissions),
        first_day=as_date(first_day),
        last_day=as_date(last_day),
        top_categories={name: n for name, n in connection.execute(per_category)},
    )


def as_date(value: date | str | None) -> date | None:
    """A computed column comes back from SQLite as text."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def feed_day_of(announced: date | str | None, submitted: datetime | None) -> date | None:
    """A paper's day in the feed: the (UTC) day it was submitted here, else the day arXiv
    announced it."""
    return as_utc(submitted).date() if submitted else as_date(announced)  # type: ignore[union-attr]
