"""The daily, weekly and monthly lists, trending, and author and category lists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from dailypapers.ranking.trending import WINDOW_DAYS
from dailypapers.storage.feed import days_of, latest_day
from dailypapers.text import path_segment
from dailypapers.web.deps import (
    ReadDep,
    ViewerDep,
    site_now,
)
from dailypapers.web.freshness import freshness
from dailypapers.web.lists import (
    ListPage,
    PeriodError,
    author_papers,
    category_papers,
    day_period,
    list_page,
    neighbours,
    parse_period,
    trending_page,
)
from dailypapers.web.page_cache import share_with_anonymous
from dailypapers.web.render import respond
from dailypapers.web.schemas import EntryOut, PapersPage

router = APIRouter()
Sort = Annotated[Literal["upvotes", "trending", "newest"], Query(description="List order.")]
Page = Annotated[int, Query(ge=1, le=10_000, description="Page number, from 1.")]
AUTHOR_LIMIT = 500


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
    data = _papers_page(f"Trending over the last {WINDOW_DAYS} days", listed, "trending")
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
