"""The daily, weekly and monthly lists, trending, and author and category lists.

Every list takes the same filter (`category`, `all`, `unseen`: `list_filter`) and shows it
as chips; periods have addresses of their own (/papers/date/2024-01-31), and the older
`/papers?date=` ones redirect there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dailypapers.models import User
from dailypapers.periods import Period, period_path
from dailypapers.ranking.trending import SORTS, WINDOW_DAYS
from dailypapers.storage.feed import categories_by_frequency, days_of, first_day, latest_day
from dailypapers.storage.readers import remember_categories, remembered_categories
from dailypapers.text import path_segment
from dailypapers.web.deps import ReadDep, StoreDep, ViewerDep, site_now
from dailypapers.web.freshness import freshness
from dailypapers.web.lists import (
    NEWEST_LIMIT,
    CategoriesQuery,
    ListFilter,
    ListPage,
    author_papers,
    category_papers,
    checked_categories,
    chip_context,
    list_link,
    list_page,
    neighbours,
    newest_period,
    pager,
    period_tabs,
    query_link,
    requested_period,
    trending_page,
)
from dailypapers.web.page_cache import VoteScope, share_with_anonymous
from dailypapers.web.render import respond
from dailypapers.web.schemas import EntryOut, PapersPage

router = APIRouter()
Sort = Annotated[Literal["upvotes", "trending", "newest"], Query(description="List order.")]
Page = Annotated[int, Query(ge=1, le=10_000, description="Page number, from 1.")]
OFFERED_CHIPS = 12  # the most frequent categories of a list, offered as chips


def list_filter(
    store: StoreDep,
    connection: ReadDep,
    viewer: ViewerDep,
    categories: CategoriesQuery = None,
    show_all: Annotated[
        bool,
        Query(alias="all", description="Every category: forget a reader's remembered choice."),
    ] = False,
    unseen: Annotated[
        bool,
        Query(description="Leave out the papers the signed-in reader opened or voted for."),
    ] = False,
) -> ListFilter:
    """The categories asked for; without any, a signed-in reader's remembered ones. What a
    signed-in reader asks for (`all` included) is remembered."""
    chosen = checked_categories(categories)
    if viewer is None:
        return ListFilter(tuple(chosen))
    remembered = remembered_categories(connection, viewer.id)
    unseen_by = viewer.id if unseen else None
    if not chosen and not show_all:
        return ListFilter(tuple(remembered), bool(remembered), unseen_by, viewer.id)
    if set(chosen) != set(remembered):
        with store.transaction(connection) as writing:
            remember_categories(writing, viewer.id, chosen)
    return ListFilter(tuple(chosen), False, unseen_by, viewer.id)


FilterDep = Annotated[ListFilter, Depends(list_filter)]


def _period_at(date_: str | None, week: str | None, month: str | None) -> Period:
    """The period a path names (a path segment is never empty)."""
    period = requested_period(date_, week, month)
    assert period is not None
    return period


def _papers_page(
    title: str, listed: ListPage, sort: str, only: ListFilter, **fields: Any
) -> PapersPage:
    return PapersPage(
        title=title,
        sort=sort,
        total=listed.total,
        page=listed.page,
        pages=listed.pages,
        entries=[EntryOut.of(e) for e in listed.entries],
        categories=list(only.categories),
        categories_remembered=only.remembered,
        unseen=only.unseen_by is not None,
        **fields,
    )


def _list_response(
    request: Request,
    data: PapersPage,
    offered: list[str],
    viewer: User | None,
    sorts: bool = True,
    **context: Any,
) -> Response:
    """The list as JSON, or as HTML with its chips, sorts, pages and the unseen switch."""
    return respond(
        request,
        "papers.html",
        data,
        **chip_context(request, offered[:OFFERED_CHIPS], data.categories, viewer is not None),
        pager=pager(request, data.page, data.pages),
        sort_links={sort: list_link(request, sort=sort) for sort in SORTS} if sorts else None,
        unseen_link=list_link(request, unseen=None if data.unseen else "1") if viewer else None,
        **context,
    )


def _feeds(path: str, data: PapersPage, params: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """`feed_url` (the Atom feed, for the page's head) and `feed_links` of the list's feeds
    (`path` without its extension), with `params` and the categories of the list's URL (a
    remembered choice is the reader's, not a feed's)."""
    chosen = [] if data.categories_remembered else data.categories
    shown = [*params, *(("category", c) for c in chosen)]
    links = {
        name: query_link(f"{path}.{extension}", shown)
        for name, extension in (("Atom feed", "atom"), ("RSS", "rss"))
    }
    return {"feed_url": links["Atom feed"], "feed_links": links}


def _period_response(
    request: Request,
    connection: ReadDep,
    viewer: User | None,
    period: Period,
    only: ListFilter,
    sort: str,
    page: int,
    newest: bool = False,
) -> Response:
    """A period's list; `newest`: the front page, whose feed follows the newest day."""
    days = days_of(connection, period.first, period.last)
    listed = list_page(
        connection, only.apply(connection, days), sort, page, viewer.id if viewer else None
    )
    previous, following = neighbours(connection, period)
    tabs = period_tabs(period, days)
    first = first_day(connection)
    # A day's list says when arXiv's last announcement came in and when the next is due.
    fresh = freshness(connection, site_now(request)) if period.kind == "date" else None
    data = _papers_page(
        period.title,
        listed,
        sort,
        only,
        period=period.kind,
        key=period.key,
        previous=previous,
        next=following,
        tabs=tabs,
        first_day=first,
        last_day=latest_day(connection),
        updated_at=fresh.updated_at if fresh else None,
        next_announcement=fresh.next_announcement if fresh else None,
    )
    if viewer is None and sort != "trending":  # trending moves with the clock, not the data
        until = fresh.valid_until if fresh else None
        share_with_anonymous(request, until, VoteScope(days=(period.first, period.last)))
    neighbour = {"previous": previous, "next": following}
    links = {
        **{kind: list_link(request, period_path(kind, key)) for kind, key in tabs.items()},
        **{
            name: list_link(request, period_path(period.kind, key))
            for name, key in neighbour.items()
            if key
        },
    }
    return _list_response(
        request,
        data,
        categories_by_frequency(connection, list(days)),
        viewer,
        **_feeds("/feeds/daily", data, [] if newest else [(period.kind, period.key)]),
        freshness=fresh,
        period_links=links,
        empty_day=period.kind == "date" and not days and first is not None,
    )


@router.get("/papers", response_class=HTMLResponse, summary="The newest day's papers")
@router.get("/", response_class=HTMLResponse, summary="The newest day's papers")
@router.get("/papers.json", response_model=PapersPage, summary="The newest day's papers")
def papers(
    request: Request,
    connection: ReadDep,
    viewer: ViewerDep,
    only: FilterDep,
    date: Annotated[
        str | None, Query(description="A day, YYYY-MM-DD: redirects to /papers/date/{day}.")
    ] = None,
    week: Annotated[
        str | None, Query(description="An ISO week, YYYY-Www: redirects to /papers/week/{week}.")
    ] = None,
    month: Annotated[
        str | None, Query(description="A month, YYYY-MM: redirects to /papers/month/{month}.")
    ] = None,
    sort: Sort = "upvotes",
    page: Page = 1,
) -> Response:
    """The newest day with papers; with a period, a redirect to that period's address (the
    form of the older links and of the date picker without JavaScript)."""
    period = requested_period(date, week, month)
    if period is not None:
        suffix = ".json" if request.url.path.endswith(".json") else ""
        target = list_link(
            request,
            period_path(period.kind, period.key) + suffix,
            date=None,
            week=None,
            month=None,
            page=str(page) if page > 1 else None,
        )
        return RedirectResponse(target, 301)
    period = newest_period(connection)
    return _period_response(request, connection, viewer, period, only, sort, page, newest=True)


@router.get("/papers/date/{day}", response_class=HTMLResponse, summary="A day's papers")
@router.get("/papers/date/{day}.json", response_model=PapersPage, summary="A day's papers")
def day_papers(
    request: Request,
    day: Annotated[str, Path(description="A day, YYYY-MM-DD.")],
    connection: ReadDep,
    viewer: ViewerDep,
    only: FilterDep,
    sort: Sort = "upvotes",
    page: Page = 1,
) -> Response:
    period = _period_at(day, None, None)
    return _period_response(request, connection, viewer, period, only, sort, page)


@router.get("/papers/week/{week}", response_class=HTMLResponse, summary="An ISO week's papers")
@router.get("/papers/week/{week}.json", response_model=PapersPage, summary="An ISO week's papers")
def week_papers(
    request: Request,
    week: Annotated[str, Path(description="An ISO week, YYYY-Www.")],
    connection: ReadDep,
    viewer: ViewerDep,
    only: FilterDep,
    sort: Sort = "upvotes",
    page: Page = 1,
) -> Response:
    period = _period_at(None, week, None)
    return _period_response(request, connection, viewer, period, only, sort, page)


@router.get("/papers/month/{month}", response_class=HTMLResponse, summary="A month's papers")
@router.get("/papers/month/{month}.json", response_model=PapersPage, summary="A month's papers")
def month_papers(
    request: Request,
    month: Annotated[str, Path(description="A month, YYYY-MM.")],
    connection: ReadDep,
    viewer: ViewerDep,
    only: FilterDep,
    sort: Sort = "upvotes",
    page: Page = 1,
) -> Response:
    period = _period_at(None, None, month)
    return _period_response(request, connection, viewer, period, only, sort, page)


@router.get("/trending", response_class=HTMLResponse, summary="Trending papers")
@router.get("/trending.json", response_model=PapersPage, summary="Trending papers")
def trending(
    request: Request, connection: ReadDep, viewer: ViewerDep, only: FilterDep, page: Page = 1
) -> Response:
    now = datetime.now(UTC)
    listed = trending_page(connection, page, viewer.id if viewer else None, now, only)
    data = _papers_page(f"Trending over the last {WINDOW_DAYS} days", listed, "trending", only)
    offered = categories_by_frequency(connection, [e.paper.id for e in listed.entries])
    feeds = _feeds("/feeds/trending", data)
    return _list_response(request, data, offered, viewer, False, **feeds)


@router.get("/authors/{name}", response_class=HTMLResponse, summary="An author's papers")
@router.get("/authors/{name}.json", response_model=PapersPage, summary="An author's papers")
def author(
    request: Request,
    name: str,
    connection: ReadDep,
    viewer: ViewerDep,
    only: FilterDep,
    sort: Sort = "newest",
    page: Page = 1,
) -> Response:
    days = author_papers(connection, name, NEWEST_LIMIT)
    listed = list_page(
        connection, only.apply(connection, days), sort, page, viewer.id if viewer else None
    )
    data = _papers_page(f"Papers by {name}", listed, sort, only)
    feeds = _feeds(f"/feeds/author/{path_segment(name)}", data)
    offered = categories_by_frequency(connection, list(days))
    return _list_response(request, data, offered, viewer, **feeds)


@router.get("/categories/{category}", response_class=HTMLResponse, summary="A category")
@router.get("/categories/{category}.json", response_model=PapersPage, summary="A category")
def category(
    request: Request,
    category: str,
    connection: ReadDep,
    viewer: ViewerDep,
    only: FilterDep,
    sort: Sort = "newest",
    page: Page = 1,
) -> Response:
    days = category_papers(connection, category, NEWEST_LIMIT)
    listed = list_page(
        connection, only.apply(connection, days), sort, page, viewer.id if viewer else None
    )
    data = _papers_page(f"Newest in {category}", listed, sort, only)
    feeds = _feeds(f"/feeds/category/{path_segment(category)}", data)
    offered = [c for c in categories_by_frequency(connection, list(days)) if c != category]
    return _list_response(request, data, offered, viewer, **feeds)
