"""Plain data that moves between the layers; no I/O here."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date, datetime

# arXiv's id grammar, the one every source and every URL of the site checks ids against.
# New style (0704.0001 .. 2401.12345): YYMM, then 4 digits (to 1412) or 5 (from 1501).
NEW_STYLE_ID = r"\d{2}(?:0[1-9]|1[0-2])\.\d{4,5}"
# Old style (hep-th/9901001): an archive, then YYMMNNN. Input may name a subject class
# (math.GT/0309136); a stored id never does.
ARCHIVE = r"[a-z]+(?:-[a-z]+)?"
OLD_STYLE_NUMBER = r"\d{2}(?:0[1-9]|1[0-2])\d{3}"
PAPER_ID = rf"{NEW_STYLE_ID}|{ARCHIVE}/{OLD_STYLE_NUMBER}"
_PAPER_ID = re.compile(PAPER_ID)


def is_paper_id(text: str) -> bool:
    """Whether `text` is an arXiv id as papers are stored: no version, no subject class."""
    return _PAPER_ID.fullmatch(text) is not None


# A paper's single-valued text fields, stored one column each.
TEXT_FIELDS = (
    "title",
    "abstract",
    "comments",
    "journal_ref",
    "doi",
    "report_no",
    "license",
    "submitter",
    "github_repo",
    "project_page",
)
# Fields whose origin is recorded, e.g. {"title": "oai:arXiv", "doi": "snapshot"}.
SOURCED_FIELDS = (*TEXT_FIELDS, "authors", "categories", "published")


@dataclass(frozen=True, slots=True)
class PaperVersion:
    number: int
    created: datetime | None = None  # UTC


@dataclass(slots=True)
class Paper:
    """One arXiv paper as a source describes it; empty fields mean "this source does not say"."""

    id: str  # arXiv id without version: "2401.12345" or "hep-th/9901001"
    title: str | None = None
    abstract: str | None = None
    authors: list[str] = field(default_factory=list)  # in order
    categories: list[str] = field(default_factory=list)  # primary first
    comments: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    report_no: str | None = None
    license: str | None = None
    submitter: str | None = None
    published: date | None = None  # day of the first version
    github_repo: str | None = None
    project_page: str | None = None
    versions: list[PaperVersion] = field(default_factory=list)
    listed: list[date] = field(
        default_factory=list
    )  # days in arXiv's daily listings, first = announcement
    sources: dict[str, str] = field(default_factory=dict)  # field name -> source name

    @property
    def announced(self) -> date | None:
        """The paper's day in the daily feed: its first listing, else its first version's day."""
        return self.listed[0] if self.listed else self.published


def attribute_sources(paper: Paper, source: str) -> Paper:
    """Record `source` as the origin of every field the paper carries that has no origin yet."""
    sources = paper.sources
    for name in SOURCED_FIELDS:
        if name not in sources and getattr(paper, name):  # None, "" and [] say nothing
            sources[name] = source
    return paper


@dataclass(frozen=True, slots=True)
class Submission:
    """A paper put on the daily list by a community member (here or on another site)."""

    paper_id: str
    submitted_at: datetime
    submitted_by: str | None
    upvotes: int = 0  # votes carried over from another site
    source: str = "local"


@dataclass(slots=True)
class Stats:
    papers: int
    days: int
    categories: int
    versions: int
    submissions: int
    first_day: date | None
    last_day: date | None
    top_categories: dict[str, int]

    def as_dict(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        for key in ("first_day", "last_day"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    is_admin: bool = False
    banned: bool = False
    created_at: datetime | None = None
    private_upvotes: bool = False  # their profile and papers' "upvoted by" leave them out
    reply_mails: bool = True  # mailed when someone replies to their comment


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    paper_id: str
    author: str  # the username
    user_id: int
    parent_id: int | None
    body: str  # Markdown as written
    created_at: datetime
    edited_at: datetime | None = None
    deleted: bool = False
    hidden: bool = False


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """A paper as a list shows it: with its votes, its day and who submitted it."""

    paper: Paper
    day: date  # its day in the daily feed
    upvotes: int
    trending: float = 0.0
    submission: Submission | None = None
    comments: int = 0
    voted: bool = False  # by the user looking at the list
    saved: tuple[str, ...] = ()  # the tags of that user's library holding it


@dataclass(frozen=True, slots=True)
class SavedSearch:
    id: int
    query: str  # as typed in the search box


@dataclass(slots=True)
class Subscriber:
    """Someone who gets digests by mail; nothing is sent before `confirmed_at`."""

    id: int
    email: str
    frequency: str  # "daily" or "weekly"
    time_zone: str  # IANA name
    created_at: datetime
    user_id: int | None = None
    confirmed_at: datetime | None = None
    confirmation_sent_at: datetime | None = None
    unsubscribed_at: datetime | None = None
    categories: list[str] = field(default_factory=list)
    searches: list[SavedSearch] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One digest for one subscriber and period: recorded before it is sent, marked after."""

    id: int
    subscriber_id: int
    period_key: str
    first_day: date
    last_day: date
    status: str  # "pending", "sent" or "failed"
    message_id: str
    attempts: int
    last_error: str | None
    updated_at: datetime
