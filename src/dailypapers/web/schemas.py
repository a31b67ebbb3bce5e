"""What the JSON API returns: the same data the HTML pages render."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from dailypapers.models import Comment, FeedEntry, Paper
from dailypapers.text import arxiv_url, safe_url


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
            abs_url=arxiv_url(paper.id),
            pdf_url=arxiv_url(paper.id, "pdf"),
            github_repo=safe_url(paper.github_repo),  # links only if http(s): they come from data
            project_page=safe_url(paper.project_page),
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
    saved: list[str] = []  # the signed-in reader's tags holding it

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
            saved=list(entry.saved),
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
    # Each kind's period containing this one ({"date": …, "week": …, "month": …}).
    tabs: dict[str, str] | None = None
    first_day: date | None = None  # the first and the last day with papers (the date picker's)
    last_day: date | None = None
    categories: list[str] = []  # the papers are in any of these; every category when empty
    categories_remembered: bool = False  # a signed-in reader's choice, not the URL's
    unseen: bool = False  # without the papers the signed-in reader opened or voted for
    entries: list[EntryOut]
    # A day's list: when the last arXiv announcement was stored and when the next is due
    # (None before the first was stored; the next is None while the site follows nothing).
    updated_at: datetime | None = None
    next_announcement: datetime | None = None


class CommentOut(BaseModel):
    id: int
    parent_id: int | None
    depth: int  # 0 for a comment on the paper, parent's depth + 1 for a reply
    author: str
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    body: str | None  # Markdown as written; None once deleted or hidden
    html: str | None  # sanitised rendering

    @classmethod
    def of(cls, comment: Comment, html: str | None, depth: int) -> CommentOut:
        gone = comment.deleted or comment.hidden
        return cls(
            id=comment.id,
            parent_id=comment.parent_id,
            depth=depth,
            author=comment.author,
            created_at=comment.created_at,
            edited_at=comment.edited_at,
            deleted=gone,
            body=None if gone else comment.body,
            html=None if gone else html,
        )


class SearchHitOut(BaseModel):
    id: str
    title: str | None
    authors: list[str]
    categories: list[str]
    day: date | None  # announced
    excerpt: str  # HTML: the abstract around its first match, matched words in <mark>
    score: float = Field(
        description="Relevance in 0..1, comparable across queries: BM25 as a share of the "
        "best keyword match's and cosine similarity to the query, half and half in hybrid mode "
        "(keyword: the share alone; semantic and similar papers: the similarity alone). 1 for "
        "the paper an arXiv id names and for the papers of the author a query names."
    )
    upvotes: int
    saved: list[str] = []  # the signed-in reader's tags holding it


class SearchPage(BaseModel):
    q: str
    mode: str
    categories: list[str] = []  # only papers in any of these
    total: int  # the papers that match, past which relevance ends (at most 100 by meaning)
    page: int
    pages: int
    results: list[SearchHitOut]
    paper_id: str | None = None  # the query is this arXiv id or URL
    missing_paper: str | None = Field(
        None, description="The query's arXiv id when no paper here has it: POST /submit adds it."
    )
    author: str | None = None  # the author the query names: their papers come first
    corrected: dict[str, str] = {}  # typed word -> the spelling searched instead (one typo)


class SimilarPage(BaseModel):
    paper_id: str
    results: list[SearchHitOut]


class PaperPage(BaseModel):
    entry: EntryOut
    code_links: list[str]
    comments: list[CommentOut]  # in thread order: each comment followed by its replies
    hidden: bool = False  # hidden by an admin (only admins see such a page)
    similar: list[SearchHitOut] = []  # nearest in meaning; empty until the paper is embedded
    upvoters: list[str] = []  # the newest public upvoters' usernames
    other_upvotes: int = 0  # the upvotes not in `upvoters` (private, older, from elsewhere)
    bibtex: str = ""


class VoteOut(BaseModel):
    paper_id: str
    upvotes: int
    voted: bool


class ErrorOut(BaseModel):
    error: str
    field: str | None = None


class TokenOut(BaseModel):
    name: str
    created_at: datetime


class AccountPage(BaseModel):
    username: str
    is_admin: bool
    tokens: list[TokenOut]
    new_token: str | None = None  # shown once, right after it was made
    email: str | None = None  # where password-reset links go, once confirmed
    email_confirmed: bool = False
    private_upvotes: bool = False
    reply_mails: bool = True


class AccountLinkPage(BaseModel):
    """The forgot-password form, a reset link's form, or an address confirmation link's
    page: what was done (`notice`) or what was refused (`error`)."""

    notice: str | None = None
    error: str | None = None
    username: str | None = None  # whose password a reset link sets
    done: bool = False


class UserOut(BaseModel):
    username: str
    is_admin: bool
    banned: bool


class FormPage(BaseModel):
    """A sign-up or log-in form, filled in again after a refusal."""

    username: str = ""
    next: str = "/"
    error: str | None = None
    vote: str | None = None  # the paper upvoted once signed in
    vote_title: str | None = None
    notice: str | None = None  # e.g. that the paper to upvote is not on the site


class SubmitForm(BaseModel):
    """The submit form, filled in again after a refusal."""

    arxiv_id: str = ""
    error: str | None = None


class SubmissionOut(BaseModel):
    paper_id: str
    submitted_by: str | None
    day: date  # the day's list the paper is on


class DayCount(BaseModel):
    day: date
    count: int


class CategoryCount(BaseModel):
    category: str
    papers: int


class StatsPage(BaseModel):
    """Totals, papers and votes per day (oldest first), and the largest categories."""

    papers: int
    days: int
    categories: int
    versions: int
    submissions: int
    votes: int
    first_day: date | None
    last_day: date | None
    papers_per_day: list[DayCount]
    votes_per_day: list[DayCount]
    top_categories: list[CategoryCount]


class TrendingExample(BaseModel):
    votes: int
    age_hours: float
    score: float


class RankingPage(BaseModel):
    """How the lists are ordered, and the trending formula with its constants."""

    orders: dict[str, str]  # sort name -> what it puts first
    formula: str
    half_life_hours: float
    age: str  # what vote_age_in_hours counts from
    imported: str  # when votes brought along from another site count as cast
    trending_window_days: int
    examples: list[TrendingExample]


class PaperHiddenOut(BaseModel):
    paper_id: str
    hidden: bool


class SubscribeForm(BaseModel):
    """The subscribe form, filled in again after a refusal."""

    email: str = ""
    frequency: str = "daily"
    categories: str = ""  # as typed: separated by spaces or commas
    time_zone: str = "UTC"
    error: str | None = None
    field: str | None = None


class SubscribeSent(BaseModel):
    email: str
    message: str


class SavedSearchOut(BaseModel):
    id: int
    query: str


class SubscriptionOut(BaseModel):
    email: str
    state: str  # "active", "unconfirmed" or "unsubscribed"
    frequency: str
    time_zone: str
    categories: list[str]  # none: every category
    searches: list[SavedSearchOut]


class ConfirmPage(BaseModel):
    """A confirmation link's page: what it confirms, and whether that is done."""

    email: str
    frequency: str
    categories: list[str]
    time_zone: str
    account: str | None = None  # the site account that will manage it
    confirmed: bool


class UnsubscribePage(BaseModel):
    email: str
    unsubscribed: bool


class SubscriptionPage(BaseModel):
    """A subscriber's settings; `token` (from a digest's manage link) stands for signing in."""

    subscription: SubscriptionOut | None
    token: str | None = None
    unsubscribe_url: str | None = None
    form: SubscribeForm | None = None  # for a signed-in user without a subscription


class JobOut(BaseModel):
    """One job of the jobs table as /admin/jobs shows it (times in UTC)."""

    id: int
    kind: str
    key: str
    state: str  # queued, running, done or failed
    next_run: datetime | None  # when it runs next, if it is queued
    attempts: int  # failures in a row
    runs: int
    last_started: datetime | None
    last_finished: datetime | None
    last_duration: float | None  # seconds
    last_result: str | None
    last_error: str | None
    worker_id: str | None  # the worker that holds it now
    lease_until: datetime | None
    alerted_at: datetime | None  # when the admins were told it keeps failing


class WorkerOut(BaseModel):
    id: str
    host: str
    pid: int
    device: str
    started_at: datetime
    heartbeat_at: datetime
    job_id: int | None  # the job it runs now
    job_key: str | None


class JobsPage(BaseModel):
    """Every job, the next to run first, and the workers whose heart beat lately."""

    now: datetime
    jobs: list[JobOut]
    workers: list[WorkerOut]
    workers_alive_within_s: float


class FollowOut(BaseModel):
    category: str  # a category (cs.LG) or a whole archive (cs)
    since: date | None  # the first day of its history asked for
    added_at: datetime


class FollowsPage(BaseModel):
    """What the site follows on arXiv; after a change, what changed."""

    follows: list[FollowOut]
    added: list[str] = []
    removed: list[str] = []
    backfill_jobs: int = 0  # months of history newly queued
    error: str | None = None


class ProfilePaperOut(BaseModel):
    id: str
    title: str | None
    announced: date | None


class ProfileCommentOut(BaseModel):
    id: int
    paper_id: str
    paper_title: str | None
    created_at: datetime
    html: str  # the sanitised rendering


class UserPage(BaseModel):
    """A member's profile: newest first, at most a page of each."""

    username: str
    is_admin: bool
    joined: datetime | None
    avatar: str  # the path of their generated avatar (SVG)
    private_upvotes: bool  # then `upvotes` is empty
    upvotes: list[ProfilePaperOut]
    submissions: list[ProfilePaperOut]
    comments: list[ProfileCommentOut]
