"""Idempotent upserts of papers and submissions, in two steps.

`prepare_upsert` is pure: it turns papers into rows already in the driver's own types.
`write_prepared` runs the SQL. A bulk import prepares in a worker process while the
main process writes; everything else calls `upsert_papers`, which does both at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, delete, func
from sqlalchemy.dialects import postgresql, sqlite

from dailypapers.models import TEXT_FIELDS, Paper, Submission
from dailypapers.storage.bulk import prepare_many, run_many
from dailypapers.storage.schema import (
    paper_categories,
    paper_listings,
    paper_versions,
    papers,
    submissions,
)

DELETE_CATEGORIES = "delete categories"


def insert_for(dialect_name: str, table: Any) -> Any:
    """INSERT with ON CONFLICT clauses, for SQLite or PostgreSQL."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(table)


def _earliest(current: ColumnElement[Any], new: ColumnElement[Any]) -> ColumnElement[Any]:
    """The earlier of two possibly-NULL dates (SQLite's min() is NULL if either is)."""
    return case(
        (new.is_(None), current),
        (current.is_(None), new),
        (new < current, new),
        else_=current,
    )


def _merged_sources(dialect_name: str, current: Any, new: Any) -> ColumnElement[Any]:
    if dialect_name == "postgresql":
        return current.op("||")(new)
    return func.json_patch(current, new)


@cache
def _paper_upsert(dialect_name: str) -> Any:
    statement = insert_for(dialect_name, papers)
    new = statement.excluded
    updates: dict[str, Any] = {
        name: func.coalesce(new[name], papers.c[name]) for name in (*TEXT_FIELDS, "authors")
    }
    updates.update(
        published=_earliest(papers.c.published, new.published),
        first_listed=_earliest(papers.c.first_listed, new.first_listed),
        field_sources=_merged_sources(dialect_name, papers.c.field_sources, new.field_sources),
        updated_at=new.updated_at,
    )
    return statement.on_conflict_do_update(index_elements=[papers.c.id], set_=updates)


@cache
def _category_insert(_dialect_name: str) -> Any:
    return paper_categories.insert()


@cache
def _version_upsert(dialect_name: str) -> Any:
    statement = insert_for(dialect_name, paper_versions)
    return statement.on_conflict_do_update(
        index_elements=[paper_versions.c.paper_id, paper_versions.c.version],
        set_={"created": func.coalesce(statement.excluded.created, paper_versions.c.created)},
    )


@cache
def _listing_insert(dialect_name: str) -> Any:
    return insert_for(dialect_name, paper_listings).on_conflict_do_nothing()


@cache
def _submission_upsert(dialect_name: str) -> Any:
    statement = insert_for(dialect_name, submissions)
    return statement.on_conflict_do_update(
        index_elements=[submissions.c.paper_id],
        set_={"upvotes": statement.excluded.upvotes},
    )


# Prepared rows travel between processes, so they name their statement rather than hold it.
STATEMENTS: dict[str, Callable[[str], Any]] = {
    "papers": _paper_upsert,
    "categories": _category_insert,
    "versions": _version_upsert,
    "listings": _listing_insert,
    "submissions": _submission_upsert,
}


@dataclass
class PreparedUpsert:
    """Steps to run in order: (statement name, rows) or (DELETE_CATEGORIES, paper ids)."""

    dialect: str
    steps: list[tuple[str, Any]]


def _paper_row(paper: Paper, now: datetime) -> dict[str, Any]:
    row: dict[str, Any] = {name: getattr(paper, name) or None for name in TEXT_FIELDS}
    row.update(
        id=paper.id,
        authors=paper.authors or None,
        published=paper.published,
        first_listed=min(paper.listed) if paper.listed else None,
        field_sources=paper.sources,
        created_at=now,
        updated_at=now,
    )
    return row


def _unique_batches(batch: Sequence[Paper]) -> Iterator[list[Paper]]:
    """Split a batch where an id repeats, so each statement sees one row per paper."""
    seen: set[str] = set()
    current: list[Paper] = []
    for paper in batch:
        if paper.id in seen:
            yield current
            seen, current = set(), []
        seen.add(paper.id)
        current.append(paper)
    if current:
        yield current


def _paper_steps(batch: list[Paper], now: datetime) -> list[tuple[str, Any]]:
    return [
        ("papers", [_paper_row(p, now) for p in batch]),
        # Categories are replaced as a whole when a source gives them.
        (DELETE_CATEGORIES, [p.id for p in batch if p.categories]),
        (
            "categories",
            [
                {"paper_id": p.id, "position": position, "category": category}
                for p in batch
                for position, category in enumerate(p.categories)
            ],
        ),
        (
            "versions",
            [
                {"paper_id": p.id, "version": v.number, "created": v.created}
                for p in batch
                for v in p.versions
            ],
        ),
        ("listings", [{"paper_id": p.id, "day": day} for p in batch for day in p.listed]),
    ]


def _submission_rows(batch: Sequence[Submission]) -> list[dict[str, Any]]:
    return [
        {
            "paper_id": s.paper_id,
            "submitted_at": s.submitted_at,
            "submitted_by": s.submitted_by,
            "upvotes": s.upvotes,
            "source": s.source,
        }
        for s in batch
    ]


def prepare_upsert(
    dialect: str, batch: Sequence[Paper], submitted: Sequence[Submission] = ()
) -> PreparedUpsert:
    """The rows that store `batch` (and its submissions), converted for `dialect`'s driver."""
    now = datetime.now(UTC)
    steps = [step for unique in _unique_batches(batch) for step in _paper_steps(unique, now)]
    steps.append(("submissions", _submission_rows(submitted)))
    prepared: list[tuple[str, Any]] = []
    for name, rows in steps:
        if not rows:
            continue
        if name != DELETE_CATEGORIES:
            rows = prepare_many(dialect, STATEMENTS[name](dialect), rows)
        prepared.append((name, rows))
    return PreparedUpsert(dialect, prepared)


def write_prepared(connection: Connection, prepared: PreparedUpsert) -> None:
    for name, payload in prepared.steps:
        if name == DELETE_CATEGORIES:
            connection.execute(
                delete(paper_categories).where(paper_categories.c.paper_id.in_(payload))
            )
        else:
            run_many(connection, STATEMENTS[name](prepared.dialect), payload)


def upsert_papers(connection: Connection, batch: Sequence[Paper]) -> None:
    """Insert new papers, update known ones field by field; never duplicates a paper or version.

    A field the source leaves empty keeps its stored value; authors and categories are
    replaced as a whole when the source gives them; versions and listing days accumulate.
    """
    write_prepared(connection, prepare_upsert(connection.dialect.name, batch))


def upsert_submissions(connection: Connection, batch: Sequence[Submission]) -> None:
    """Record community submissions; a paper submitted again keeps its first submission."""
    write_prepared(connection, prepare_upsert(connection.dialect.name, [], batch))
