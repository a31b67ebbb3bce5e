"""The Hugging Face papers API, so `huggingface_hub` and `hf papers` can read this instance.

Field names and date formats follow what `HfApi.list_daily_papers`, `paper_info`,
`list_papers` and `read_paper` parse (see docs/hf-api.md for the mapping). Fields we
do not have (linked models, datasets, Spaces, AI summaries, thumbnails) are left out.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import Connection

from dailypapers.models import FeedEntry
from dailypapers.search.query import MAX_QUERY_CHARS
from dailypapers.storage.feed import days_of, latest_day
from dailypapers.storage.papers import get_submissions
from dailypapers.text import arxiv_url, markdown_text, safe_url
from dailypapers.web.deps import ReadDep, SearchDep
from dailypapers.web.lists import (
    list_page,
    newest_period,
    paper_entry,
    requested_period,
    search_days,
)

router = APIRouter(tags=["Hugging Face-compatible API"])
SORTS = {"publishedAt": "newest", "trending": "trending"}


def _stamp(moment: date | datetime | None) -> str | None:
    """HF writes UTC instants with milliseconds: 2026-05-30T00:00:00.000Z."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time.min, tzinfo=UTC)
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def _user(username: str) -> dict[str, str]:
    return {"user": username, "name": username, "fullname": username, "type": "user"}


def _paper(entry: FeedEntry) -> dict[str, Any]:
    paper, submission = entry.paper, entry.submission
    submitted_at = submission.submitted_at if submission else entry.day
    fields: dict[str, Any] = {
        "id": paper.id,
        "authors": [{"name": name, "hidden": False} for name in paper.authors],
        "publishedAt": _stamp(paper.published or paper.announced),
        "submittedOnDailyAt": _stamp(submitted_at),
        "title": paper.title,
        "summary": paper.abstract,
        "upvotes": entry.upvotes,
        "discussionId": paper.id,  # the paper's comment thread here
        "numComments": entry.comments,
        "githubRepo": safe_url(paper.github_repo),  # clients make links of them
        "projectPage": safe_url(paper.project_page),
    }
    if submission and submission.submitted_by:
        fields["submittedOnDailyBy"] = _user(submission.submitted_by)
    return {key: value for key, value in fields.items() if value is not None}


def _daily_entry(entry: FeedEntry) -> dict[str, Any]:
    paper = _paper(entry)
    fields = {
        "paper": paper,
        "publishedAt": paper["submittedOnDailyAt"],
        "title": paper.get("title"),
        "summary": paper.get("summary"),
        "numComments": entry.comments,
        "submittedBy": paper.get("submittedOnDailyBy"),
    }
    return {key: value for key, value in fields.items() if value is not None}


def _with_submitter(
    connection: Connection, days: dict[str, date], submitter: str
) -> dict[str, date]:
    submitted = get_submissions(connection, list(days))
    return {
        i: d for i, d in days.items() if i in submitted and submitted[i].submitted_by == submitter
    }


@router.get("/api/daily_papers", summary="Daily papers, as the Hugging Face API gives them")
def daily_papers(
    connection: ReadDep,
    date: Annotated[str | None, Query(description="A day, YYYY-MM-DD.")] = None,
    week: Annotated[str | None, Query(description="An ISO week, YYYY-Www.")] = None,
    month: Annotated[str | None, Query(description="A month, YYYY-MM.")] = None,
    submitter: Annotated[str | None, Query(description="Only papers this user submitted.")] = None,
    sort: Annotated[Literal["publishedAt", "trending"], Query()] = "publishedAt",
    p: Annotated[int, Query(ge=0, le=10_000, description="Page, from 0.")] = 0,
    limit: Annotated[int, Query(ge=1, le=100, description="Papers per page.")] = 50,
) -> JSONResponse:
    period = requested_period(date, week, month) or newest_period(connection)
    days = days_of(connection, period.first, period.last)
    if submitter:
        days = _with_submitter(connection, days, submitter)
    listed = list_page(connection, days, SORTS[sort], p + 1, None, size=limit)
    return JSONResponse([_daily_entry(entry) for entry in listed.entries])


@router.get(
    "/api/papers/search", summary="Papers matching words, as the Hugging Face API gives them"
)
def search_papers(
    connection: ReadDep,
    service: SearchDep,
    q: Annotated[
        str | None, Query(max_length=MAX_QUERY_CHARS, description="A search, by words and meaning.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Papers to return.")] = 50,
) -> JSONResponse:
    """The best matches of a hybrid search, best first (the newest day's papers without q)."""
    if q and q.strip():
        # Hugging Face's API answers `limit` papers: clients page on that, not on relevance.
        days = search_days(connection, service, q, "hybrid", limit, cut_off=False)
    else:
        newest = latest_day(connection)
        days = days_of(connection, newest, newest) if newest else {}
    entries = list_page(connection, days, "newest", 1, None, size=limit).entries
    rank = {paper_id: position for position, paper_id in enumerate(days)}
    entries.sort(key=lambda entry: rank[entry.paper.id])  # the search's order, when searched
    return JSONResponse([_paper(entry) for entry in entries])


@router.get("/api/papers/{paper_id:arxiv}", summary="One paper, as the Hugging Face API gives it")
def paper_info(paper_id: str, connection: ReadDep) -> JSONResponse:
    return JSONResponse(_paper(paper_entry(connection, paper_id, None)))


@router.get(
    "/papers/{paper_id:arxiv}.md", response_class=PlainTextResponse, summary="A paper as Markdown"
)
def paper_markdown(paper_id: str, connection: ReadDep) -> PlainTextResponse:
    """The paper's text comes escaped: what a source stored shows as text, never as markup."""
    entry = paper_entry(connection, paper_id, None)
    paper = entry.paper
    lines = [
        f"# {markdown_text(paper.title or paper.id)}",
        "",
        f"**Authors:** {markdown_text(', '.join(paper.authors))}",
        f"**arXiv:** [{paper.id}]({arxiv_url(paper.id)}) · **PDF:** {arxiv_url(paper.id, 'pdf')}",
        f"**Categories:** {markdown_text(' '.join(paper.categories))}",
        f"**Published:** {paper.published or paper.announced} · **Upvotes:** {entry.upvotes}",
        "",
        "## Abstract",
        "",
        markdown_text(paper.abstract or ""),
    ]
    if paper.comments:
        lines += ["", f"**Comments:** {markdown_text(paper.comments)}"]
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/markdown; charset=utf-8")
