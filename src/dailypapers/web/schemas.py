"""What the JSON API returns: the same data the HTML pages render."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from dailypapers.models import Comment, FeedEntry, Paper


class VersionOut(BaseModel):
    version: int
    created: datetime | None


class PaperOut(BaseModel):
    id: str
    title: str | None
    abstract: str | None
    authors: list[str]
    categories: list[str]
    comments: str | None
    journal_ref: str | None
    doi: str | None
    license: str | None
    published: date | None
    announced: date | None
    versions: list[VersionOut]
    abs_url: str
    pdf_url: str
    github_repo: str | None
    project_page: str | None

    @classmethod
    def of(cls, paper: Paper) -> PaperOut:
        return cls(
            id=paper.id,
            title=paper.title,
            abstract=paper.abstract,
            authors=paper.authors,
            categories=paper.categories,
            comments=paper.comments,
            journal_ref=paper.journal_ref,
            doi=paper.doi,
            license=paper.license,
            published=paper.published,
            announced=paper.announced,
            versions=[VersionOut(version=v.number, created=v.created) for v in paper.versions],
            abs_url=f"https://arxiv.org/abs/{paper.id}",
            pdf_url=f"https://arxiv.org/pdf/{paper.id}",
            github_repo=paper.github_repo,
            project_page=paper.project_page,
        )


class EntryOut(BaseModel):
    paper: PaperOut
    day: date
    upvotes: int
    trending: float
    comments: int
    submitted_by: str | None
    submitted_at: datetime | None
    voted: bool

    @classmethod
    def of(cls, entry: FeedEntry) -> EntryOut:
        submission = entry.submission
        return cls(
            paper=PaperOut.of(entry.paper),
            day=entry.day,
            upvotes=entry.upvotes,
            trending=round(entry.trending, 6),
            comments=entry.comments,
            submitted_by=submission.submitted_by if submission else None,
            submitted_at=submission.submitted_at if submission else None,
            voted=entry.voted,
        )


class PapersPage(BaseModel):
    """A list of papers: a day, week or month, trending, a category or an author."""

    title: str
    period: str | None = None  # "date", "week" or "month"
    key: str | None = None  # 2024-01-31, 2024-W05 or 2024-01
    sort: str
    total: int
    page: int
    pages: int
    previous: str | None = None  # the neighbouring period's key
    next: str | None = None
    entries: list[EntryOut]


class CommentOut(BaseModel):
    id: int
    parent_id: int | None
    author: str
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    body: str | None  # Markdown as written; None once deleted or hidden
    html: str | None  # sanitised rendering

    @classmethod
    def of(cls, comment: Comment, html: str | None) -> CommentOut:
        gone = comment.deleted or comment.hidden
        return cls(
            id=comment.id,
            parent_id=comment.parent_id,
            author=comment.author,
            created_at=comment.created_at,
            edited_at=comment.edited_at,
            deleted=gone,
            body=None if gone else comment.body,
            html=None if gone else html,
        )


class PaperPage(BaseModel):
    entry: EntryOut
    code_links: list[str]
    comments: list[CommentOut]


class VoteOut(BaseModel):
    paper_id: str
    upvotes: int
    voted: bool


class ErrorOut(BaseModel):
    error: str
    field: str | None = None
