"""The daily, weekly and monthly lists, trending, a paper's page, author and category lists,
and upvotes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from dailypapers.storage.comments import paper_comments
from dailypapers.storage.feed import days_of, latest_day
from dailypapers.storage.papers import paper_hidden
from dailypapers.storage.votes import add_vote, remove_vote, vote_counts, voted_by
from dailypapers.text import path_segment
from dailypapers.web.comments_html import threaded
from dailypapers.web.deps import (
    CsrfDep,
    ReadDep,
    SearchDep,
    StoreDep,
    UserDep,
    ViewerDep,
    site_now,
)
from dailypapers.web.freshness import freshness
from dailypapers.web.lists import (
    TRENDING_WINDOW_DAYS,
    ListPage,
    PeriodError,
    author_papers,
    category_papers,
    check_visible,
    code_links,
    day_period,
    hits_out,
    list_page,
    neighbours,
    paper_entry,
    parse_period,
    trending_page,
)
from dailypapers.web.page_cache import share_with_anonymous
from dailypapers.web.ratelimit import RateLimit
from dailypapers.web.render import respond, same_site_referer, wants_json
from dailypapers.web.schemas import EntryOut, PaperPage, PapersPage, VoteOut

router = APIRouter()
Sort = Annotated[Literal["upvotes", "trending", "newest"], Query(description="List order.")]
Page = Annotated[int, Query(ge=1, le=10_000, description="Page number, from 1.")]
AUTHOR_LIMIT = 500
SIMILAR_ON_PAGE = 6


def _papers_page(title: str, listed: ListPage, sort: str, **fields: Any) -> PapersPage:
    return PapersPage(
        title=title,
        sort=sort,
        total=listed.total,
        page=listed.page,
        pages=listed.pages,
        entries=[EntryOut.of(e) for e in listed.entries],
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
    # A day's list says when arXiv's last announcement came in and when the next is due.
    fresh = None
    if period.kind == "date":
        fresh = freshness(connection, site_now(request))
    data = _papers_page(
        period.title,
        listed,
        sort,
        period=period.kind,
        key=period.key,
        previous=previous,
        next=following,
        updated_at=fresh.updated_at if fresh else None,
        next_announcement=fresh.next_announcement if fresh else None,
    )
    if viewer is None and sort != "trending":  # trending moves with the clock, not the data
        share_with_anonymous(request, until=fresh.valid_until if fresh else None)
    return respond(request, "papers.html", data, freshness=fresh)


@router.get("/trending", response_class=HTMLResponse, summary="Trending papers")
@router.get("/trending.json", response_model=PapersPage, summary="Trending papers")
def trending(request: Request, connection: ReadDep, viewer: ViewerDep, page: Page = 1) -> Response:
    listed = trending_page(connection, page, viewer.id if viewer else None, datetime.now(UTC))
    data = _papers_page(f"Trending over the last {TRENDING_WINDOW_DAYS} days", listed, "trending")
    return respond(request, "papers.html", data, feed_url="/feeds/trending.atom")


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
    days = author_papers(connection, name, AUTHOR_LIMIT)
    listed = list_page(connection, days, sort, page, viewer.id if viewer else None)
    data = _papers_page(f"Papers by {name}", listed, sort)
    return respond(
        request, "papers.html", data, feed_url=f"/feeds/author/{path_segment(name)}.atom"
    )


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
    days = category_papers(connection, category, AUTHOR_LIMIT)
    listed = list_page(connection, days, sort, page, viewer.id if viewer else None)
    data = _papers_page(f"Newest in {category}", listed, sort)
    return respond(
        request, "papers.html", data, feed_url=f"/feeds/category/{path_segment(category)}.atom"
    )


@router.get("/papers/{paper_id:arxiv}", response_class=HTMLResponse, summary="A paper")
@router.get("/papers/{paper_id:arxiv}.json", response_model=PaperPage, summary="A paper")
def paper(
    request: Request, paper_id: str, connection: ReadDep, viewer: ViewerDep, search: SearchDep
) -> Response:
    is_admin = viewer is not None and viewer.is_admin
    entry = paper_entry(connection, paper_id, viewer.id if viewer else None, show_hidden=is_admin)
    nearest = search.similar(paper_id, SIMILAR_ON_PAGE, encode=False, connection=connection)
    data = PaperPage(
        entry=EntryOut.of(entry),
        code_links=code_links(entry.paper),
        comments=threaded(paper_comments(connection, paper_id)),
        hidden=paper_hidden(connection, paper_id) or False,
        similar=hits_out(connection, search, nearest),
    )
    return respond(request, "paper.html", data)


@router.post(
    "/papers/{paper_id:arxiv}/vote",
    response_model=VoteOut,
    dependencies=[CsrfDep, RateLimit("votes")],
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
        check_visible(connection, paper_id, viewer.is_admin)
        # toggle takes back a vote that was there already; clear takes it back in any case
        added = action != "clear" and add_vote(connection, viewer.id, paper_id, datetime.now(UTC))
        if action == "clear" or (action == "toggle" and not added):
            remove_vote(connection, viewer.id, paper_id)
        upvotes = vote_counts(connection, [paper_id])[paper_id]
        voted = paper_id in voted_by(connection, viewer.id, [paper_id])
    result = VoteOut(paper_id=paper_id, upvotes=upvotes, voted=voted)
    if wants_json(request) or request.state.by_token:
        return JSONResponse(result.model_dump())
    return RedirectResponse(same_site_referer(request, f"/papers/{paper_id}"), 303)
