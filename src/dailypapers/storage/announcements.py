"""Announcement days stored from arXiv's listing feeds, and what each feed last answered.

`store_feed` writes one announcement in the caller's transaction: its new papers and
cross-lists on its day, its replacements as a listing and a version of papers already
here, and the `announcements` row that says the day is in. That row is written with
the rest, so a day is either wholly stored or not at all, and storing it again is a
no-op. It takes any feed shaped as `ingest.rss.Feed` is (storage sits under ingest and
does not import it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import NamedTuple, Protocol

from sqlalchemy import Connection, select

from dailypapers.models import Paper
from dailypapers.storage.papers import as_date, as_utc
from dailypapers.storage.schema import announcements, feed_state, paper_listings, papers
from dailypapers.storage.upserts import insert_for, upsert_papers

REPLACEMENT_KINDS = ("replace", "replace-cross")


class AnnouncedPaper(Protocol):
    """An item of an announcement, as `ingest.rss.FeedItem` is."""

    @property
    def paper(self) -> Paper: ...
    @property
    def kind(self) -> str: ...  # new, cross, replace or replace-cross


class Announcement(Protocol):
    """One announcement of a listing feed, as `ingest.rss.Feed` is."""

    @property
    def day(self) -> date: ...
    @property
    def items(self) -> Sequence[AnnouncedPaper]: ...


_ID_CHUNK = 500  # ids per IN (...) list, well within both databases' parameter limits


@dataclass(frozen=True, slots=True)
class Counts:
    """What one feed brought: papers listed as new and as cross-lists on the day, and
    replacements recorded for papers already stored."""

    new: int
    cross: int
    replaced: int
    # Replacements of papers not stored here: not made from the feed (they would land on
    # the feed's day, not their own); the caller fetches their metadata by id.
    unknown_replacements: list[str] = field(default_factory=list)
    already_stored: bool = False  # the day was in before this call, which wrote nothing


class FeedValidators(NamedTuple):
    etag: str | None
    last_modified: str | None
    day: date | None  # the announcement day of the answer they validate


def store_feed(
    connection: Connection, feed: Announcement, feed_url: str, stored_at: datetime
) -> Counts:
    """Store the announcement `feed` holds, in the caller's transaction. A feed without
    items (a week-end) makes no day; a day already stored is left as it is."""
    new = [item for item in feed.items if item.kind == "new"]
    cross = [item for item in feed.items if item.kind == "cross"]
    replacements = [item for item in feed.items if item.kind in REPLACEMENT_KINDS]
    known = _stored_ids(connection, [item.paper.id for item in replacements])
    replaced = [item.paper for item in replacements if item.paper.id in known]
    unknown = [item.paper.id for item in replacements if item.paper.id not in known]
    counts = Counts(len(new), len(cross), len(replaced), unknown)
    if not feed.items:
        return counts
    if is_stored(connection, feed.day):
        return Counts(counts.new, counts.cross, counts.replaced, unknown, already_stored=True)
    listed = [item.paper for item in (*new, *cross)]
    # A replacement brings its version and current text, but no `listed`: its first
    # listing, which makes its day, is not this one.
    upsert_papers(connection, [*listed, *(replace(paper, listed=[]) for paper in replaced)])
    if replaced:
        connection.execute(
            insert_for(connection.dialect.name, paper_listings).on_conflict_do_nothing(),
            [{"paper_id": paper.id, "day": feed.day} for paper in replaced],
        )
    row = insert_for(connection.dialect.name, announcements).values(
        day=feed.day,
        feed_url=feed_url,
        stored_at=stored_at,
        new=counts.new,
        cross=counts.cross,
        replaced=counts.replaced,
    )
    # Another worker storing the same day at once wrote the same rows: no error for it.
    connection.execute(row.on_conflict_do_nothing(index_elements=["day"]))
    return counts


def _stored_ids(connection: Connection, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), _ID_CHUNK):
        chunk = ids[start : start + _ID_CHUNK]
        found.update(connection.scalars(select(papers.c.id).where(papers.c.id.in_(chunk))))
    return found


def is_stored(connection: Connection, day: date) -> bool:
    """Whether the announcement of `day` is stored."""
    query = select(announcements.c.day).where(announcements.c.day == day)
    return connection.execute(query).first() is not None


def last_announcement(connection: Connection) -> tuple[date, datetime] | None:
    """The newest stored announcement day and when it was stored; None before the first."""
    query = (
        select(announcements.c.day, announcements.c.stored_at)
        .order_by(announcements.c.day.desc())
        .limit(1)
    )
    row = connection.execute(query).first()
    if row is None:
        return None
    return as_date(row.day), as_utc(row.stored_at)  # type: ignore[return-value]


def feed_validators(connection: Connection, url: str) -> FeedValidators | None:
    """The ETag, Last-Modified and day of the last answer of the feed at `url`, for the
    next conditional GET; None when it was never checked."""
    query = select(feed_state.c.etag, feed_state.c.last_modified, feed_state.c.day).where(
        feed_state.c.url == url
    )
    row = connection.execute(query).first()
    if row is None:
        return None
    return FeedValidators(row.etag, row.last_modified, as_date(row.day))


def save_feed_check(
    connection: Connection,
    url: str,
    etag: str | None,
    last_modified: str | None,
    day: date | None,
    checked_at: datetime,
) -> None:
    """Record a check of the feed at `url`: the validators and day to keep (on a 304, the
    ones that were sent), replacing what was kept before."""
    values = {"etag": etag, "last_modified": last_modified, "day": day, "checked_at": checked_at}
    statement = insert_for(connection.dialect.name, feed_state).values(url=url, **values)
    connection.execute(statement.on_conflict_do_update(index_elements=["url"], set_=values))
