"""The daily, weekly and monthly lists, trending, a paper's page, author and category lists,
and upvotes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from dailypapers.storage.comments import paper_comments
from dailypapers.storage.feed import author_days, category_days, days_of, latest_day
from dailypapers.storage.papers import get_paper
from dailypapers.storage.votes import add_vote, remove_vote, vote_counts, voted_by
from dailypapers.web.comments_html import render_markdown
from dailypapers.web.deps import CsrfDep, ReadDep, StoreDep, UserDep, ViewerDep
from dailypapers.web.lists import (
    PeriodError,
    code_links,
    day_period,
    list_page,
    neighbours,
    parse_period,
)
from dailypapers.web.render import respond, same_site_referer, wants_json
from dailypapers.web.schemas import CommentOut, EntryOut, PaperPage, PapersPage, VoteOut

router = APIRouter()
Sort = Annotated[Literal["upvotes", "trending", "newest"], Query(description="List order.")]
Page = Annotated[int, Query(ge=1, le=10_000, description="Page number, from 1.")]
AUTHOR_LIMIT = 500
TRENDING_WINDOW_DAYS = 7


def _papers_page(title: str, listed: object, sort: str, **fields: object) -> PapersPage:
    return PapersPage(
        title=title,
        sort=sort,
        total=listed.total,  # type: ignore[attr-defined]
        page=listed.page,  # type: ignore[attr-defined]
        pages=listed.pages,  # type: ignore[attr-defined]
        entries=[EntryOut.of(e) for e in listed.entries],  # type: ignore[attr-defined]
        **fields,
    )


@router.get("/papers", response_class=HTMLResponse, summary="A day's, week's or month's papers")
@router.get("/", response_class=HTMLResponse, summary="Today's papers")
@router.get("/papers.json", response_model=PapersPage, summary="A day's, week's or month's papers")
def papers(
    request: Request,
    connection: ReadDep,
    viewer: ViewerDep,
    date: Annotated[str | None, Query(description="A day, YYYY-MM-DD.")] = None,
    week: Annotated[str | None, Query(description="An ISO week, YYYY-Www.")] = None,
    month: Annotated[str | None, Query(description="A month, YYYY-MM.")] = None,
    sort: Sort = "upvotes",
    page: Page = 1,
) -> Response:
    try:
        period = parse_period(date, week, month)
    except PeriodError as error:
        raise HTTPException(400, str(error), headers={"X-Field": error.field}) from None
    if period is None:
        newest = latest_day(connection)
        period = day_period(newest or datetime.now(UTC).date())
    days = days_of(connection, period.first, period.last)
    listed = list_page(connection, days, sort, page, viewer.id if viewer else None)
    previous, following = neighbours(connection, period)
    data = _papers_page(
        period.title,
        listed,
        sort,
        period=period.kind,
        key=period.key,
        previous=previous,
        next=following,
    )
    return respond(request, "papers.html", data)


@router.get("/trending", response_class=HTMLResponse, summary="Trending papers")
@router.get("/trending.json", response_model=PapersPage, summary="Trending papers")
def trending(request: Request, connection: ReadDep, viewer: ViewerDep, page: Page = 1) -> Response:
    now = datetime.now(UTC)
    first = (now - timedelta(days=TRENDING_WINDOW_DAYS)).date()
    days = days_of(connection, first, now.date())
    listed = list_page(connection, days, "trending", page, viewer.id if viewer else None, now)
    listed.entries = [e for e in listed.entries if e.upvotes > 0]
    data = _papers_page(f"Trending over the last {TRENDING_WINDOW_DAYS} days", listed, "trending")
    return respond(request, "papers.html", data)


@router.get("/authors/{name}", response_class=HTMLResponse, summary="An author's papers")
@router.get("/authors/{name}.json", response_model=PapersPage, summary="An author's papers")
def author(
    request: Request,
    name: str,
    connection: ReadDep,
    viewer: ViewerDep,
    sort: Sort = "newest",
    page: Page = 1,
) -> Response:
    days = author_days(connection, name, AUTHOR_LIMIT)
    if not days:
        raise HTTPException(404, f"no papers by {name!r}")
    listed = list_page(connection, days, sort, page, viewer.id if viewer else None)
    return respond(request, "papers.html", _papers_page(f"Papers by {name}", listed, sort))


@router.get("/categories/{category}", response_class=HTMLResponse, summary="A category")
@router.get("/categories/{category}.json", response_model=PapersPage, summary="A category")
def category(
    request: Request,
    category: str,
    connection: ReadDep,
    viewer: ViewerDep,
    sort: Sort = "newest",
    page: Page = 1,
) -> Response:
    days = category_days(connection, category, AUTHOR_LIMIT)
    if not days:
        raise HTTPException(404, f"no papers in {category!r}")
    listed = list_page(connection, days, sort, page, viewer.id if viewer else None)
    return respond(request, "papers.html", _papers_page(f"Newest in {category}", listed, sort))


@router.get("/papers/{paper_id:arxiv}", response_class=HTMLResponse, summary="A paper")
@router.get("/papers/{paper_id:arxiv}.json", response_model=PaperPage, summary="A paper")
def paper(request: Request, paper_id: str, connection: ReadDep, viewer: ViewerDep) -> Response:
    found = get_paper(connection, paper_id)
    if found is None:
        raise HTTPException(404, f"no paper {paper_id}")
    days = days_of(connection, found.announced, found.announced) if found.announced else {}
    days.setdefault(found.id, found.announced or datetime.now(UTC).date())
    entry = list_page(
        connection, {found.id: days[found.id]}, "upvotes", 1, viewer.id if viewer else None
    ).entries[0]
    comments = [
        CommentOut.of(c, render_markdown(c.body)) for c in paper_comments(connection, paper_id)
    ]
    data = PaperPage(entry=EntryOut.of(entry), code_links=code_links(found), comments=comments)
    return respond(request, "paper.html", data)


@router.post(
    "/papers/{paper_id:arxiv}/vote",
    response_model=VoteOut,
    dependencies=[CsrfDep],
    summary="Upvote a paper, or take the upvote back",
)
def vote(
    request: Request,
    paper_id: str,
    store: StoreDep,
    viewer: UserDep,
    action: Annotated[Literal["toggle", "up", "clear"], Query()] = "toggle",
) -> Response:
    with store.transaction() as connection:
        if get_paper(connection, paper_id) is None:
            raise HTTPException(404, f"no paper {paper_id}")
        added = action != "clear" and add_vote(connection, viewer.id, paper_id, datetime.now(UTC))
        if action == "toggle" and not added:
            remove_vote(connection, viewer.id, paper_id)
        upvotes = vote_counts(connection, [paper_id])[paper_id]
        voted = paper_id in voted_by(connection, viewer.id, [paper_id])
    result = VoteOut(paper_id=paper_id, upvotes=upvotes, voted=voted)
    if wants_json(request) or request.state.by_token:
        return JSONResponse(result.model_dump())
    return RedirectResponse(same_site_referer(request, f"/papers/{paper_id}"), 303)
