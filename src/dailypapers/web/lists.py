"""Lists of papers for the pages: the periods asked for, filters, orders, and paging."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import HTTPException, Query, Request
from sqlalchemy import Connection

from dailypapers.models import FeedEntry, Paper
from dailypapers.periods import PERIOD_OF_KIND, Period, PeriodError, day_period, parse_period
from dailypapers.ranking.trending import WINDOW, order_papers
from dailypapers.search.fusion import Hit
from dailypapers.search.highlight import excerpt
from dailypapers.search.query import QueryError
from dailypapers.search.service import Mode, SearchResults, SearchService
from dailypapers.storage.feed import (
    FeedDay,
    author_days,
    category_days,
    days_of,
    feed_day,
    feed_entries,
    in_categories,
    latest_day,
    neighbour_days,
)
from dailypapers.storage.library import not_interesting
from dailypapers.storage.papers import get_papers
from dailypapers.storage.views import seen_papers
from dailypapers.storage.votes import trending_scores, vote_counts, voted_by, voted_since
from dailypapers.web.schemas import SearchHitOut

PAGE_SIZE = 50
NEWEST_LIMIT = 500  # an author's or a category's list: their newest papers
MAX_CATEGORIES = 20
_CATEGORY = re.compile(r"[a-z\-]{1,32}(\.[A-Za-z\-]{1,31})?")
_CODE_LINK = re.compile(r"https?://(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co)/[\w.\-/]+")


def requested_period(date_: str | None, week: str | None, month: str | None) -> Period | None:
    """`parse_period` for a request: 400 naming the field for a value that is not a period."""
    try:
        return parse_period(date_, week, month)
    except PeriodError as error:
        raise HTTPException(400, str(error), headers={"X-Field": error.field}) from None


def newest_period(connection: Connection) -> Period:
    """The newest day with papers (today on an empty site): what a list shows by default."""
    return day_period(latest_day(connection) or datetime.now(UTC).date())


CategoriesQuery = Annotated[
    list[str] | None,
    Query(
        alias="category",
        description=(
            "Only papers in any of these arXiv categories (cs.CL, math); repeat the parameter "
            f"for several, at most {MAX_CATEGORIES}."
        ),
    ),
]


def checked_categories(categories: Sequence[str] | None) -> list[str]:
    """The `category` parameters, each once in the order given; 400 for one that is not an
    arXiv category's name or for more than MAX_CATEGORIES."""
    unique = list(dict.fromkeys(categories or ()))
    if len(unique) > MAX_CATEGORIES:
        raise HTTPException(
            400, f"category: at most {MAX_CATEGORIES}, not {len(unique)}", {"X-Field": "category"}
        )
    for category in unique:
        if not _CATEGORY.fullmatch(category):
            raise HTTPException(
                400, f"category={category!r} is not a category like cs.CL", {"X-Field": "category"}
            )
    return unique


@dataclass(frozen=True)
class Chip:
    category: str
    selected: bool
    href: str  # this page with the category toggled


def request_path(request: Request) -> str:
    """The request's path, quoted again (it comes decoded: /authors/Aleksander Mądry)."""
    return quote(request.scope["path"], safe="/")


def query_link(path: str, params: Sequence[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def list_link(request: Request, path: str | None = None, **params: str | None) -> str:
    """A link to this list (or, with `path`, to another) with the request's parameters but
    `page` and those in `params`, which replace them (None: leave out): any change starts
    at the first page."""
    kept = [
        (k, v) for k, v in request.query_params.multi_items() if k != "page" and k not in params
    ]
    given = [(k, v) for k, v in params.items() if v is not None]
    return query_link(path or request_path(request), kept + given)


def chip_context(
    request: Request, offered: Sequence[str], selected: Sequence[str], forget: bool = False
) -> dict[str, Any]:
    """`chips` and `clear_href` for _category_chips.html: the offered categories (the selected
    ones first) as links to this page with each toggled, back on the first page. `forget`: the
    clear link asks to forget a signed-in reader's remembered choice (`all=1`)."""
    kept = [
        (k, v)
        for k, v in request.query_params.multi_items()
        if k not in {"category", "page", "all"}
    ]
    path = request_path(request)
    chips = []
    for category in dict.fromkeys([*selected, *offered]):
        chosen = [c for c in selected if c != category]
        if category not in selected:
            chosen.append(category)
        params = kept + [("category", c) for c in chosen]
        chips.append(Chip(category, category in selected, query_link(path, params)))
    clear = query_link(path, kept + ([("all", "1")] if forget else [])) if selected else None
    return {"chips": chips, "clear_href": clear}


def filter_categories(
    connection: Connection, days: dict[str, date], categories: Sequence[str]
) -> dict[str, date]:
    """The papers of `days` in any of `categories`; all of them when none is given."""
    if not categories:
        return days
    kept = in_categories(connection, list(days), categories)
    return {paper_id: day for paper_id, day in days.items() if paper_id in kept}


@dataclass(frozen=True)
class ListFilter:
    """What a list leaves out: papers outside `categories` (when any are given), those the
    `reader` marked "not interested" and, with `unseen_by`, the papers that reader opened or
    voted for."""

    categories: tuple[str, ...] = ()
    remembered: bool = False  # the categories are a signed-in reader's remembered choice
    unseen_by: int | None = None
    reader: int | None = None

    def apply(self, connection: Connection, days: dict[str, date]) -> dict[str, date]:
        kept = filter_categories(connection, days, self.categories)
        done: set[str] = set()
        if self.reader is not None:
            done |= not_interesting(connection, self.reader)
        if self.unseen_by is not None:
            ids = list(kept)
            done |= seen_papers(connection, self.unseen_by, ids)
            done |= voted_by(connection, self.unseen_by, ids)
        return {paper_id: day for paper_id, day in kept.items() if paper_id not in done}


NO_FILTER = ListFilter()


@dataclass(frozen=True)
class PageLink:
    number: int | None  # None: a gap ("…")
    href: str | None  # None for the page shown and for gaps


@dataclass(frozen=True)
class Pager:
    previous: str | None
    next: str | None
    links: list[PageLink]


def page_href(request: Request, number: int) -> str:
    return list_link(request, page=str(number)) if number > 1 else list_link(request)


def pager(request: Request, page: int, pages: int) -> Pager:
    """Links to the first, last and neighbouring pages (1 … 4 5 6 … 12), and either way."""
    numbers = sorted({1, pages, *range(max(1, page - 1), min(pages, page + 1) + 1)})
    links: list[PageLink] = []
    for number in numbers:
        if links and number - (links[-1].number or 0) == 2:  # one page missing: name it
            links.append(PageLink(number - 1, page_href(request, number - 1)))
        elif links and number - (links[-1].number or 0) > 2:
            links.append(PageLink(None, None))
        links.append(PageLink(number, None if number == page else page_href(request, number)))
    return Pager(
        page_href(request, page - 1) if page > 1 else None,
        page_href(request, page + 1) if page < pages else None,
        links,
    )


@dataclass
class ListPage:
    entries: list[FeedEntry]
    total: int
    page: int
    pages: int


def list_page(
    connection: Connection,
    days: dict[str, date],
    sort: str,
    page: int,
    viewer: int | None,
    now: datetime | None = None,
    size: int = PAGE_SIZE,
) -> ListPage:
    """Page `page` (from 1) of `size` papers of these, in the order `sort`."""
    upvotes = vote_counts(connection, list(days))
    scores = trending_scores(connection, days, now or datetime.now(UTC))
    ordered = order_papers(days, upvotes, scores, sort)
    pages = max(1, math.ceil(len(ordered) / size))
    shown = ordered[(page - 1) * size : page * size]
    entries = feed_entries(connection, shown, days, upvotes, scores, viewer)
    return ListPage(entries, len(ordered), page, pages)


def trending_page(
    connection: Connection,
    page: int,
    viewer: int | None,
    now: datetime,
    only: ListFilter = NO_FILTER,
) -> ListPage:
    """The papers with a trending score, highest first: those voted for in the window before
    `now`, whenever they appeared, and those of the window's days with imported votes."""
    since = now - WINDOW
    candidates = days_of(connection, since.date(), now.date()) | voted_since(connection, since)
    scores = trending_scores(connection, candidates, now)
    days = {paper_id: day for paper_id, day in candidates.items() if scores[paper_id] > 0}
    return list_page(connection, only.apply(connection, days), "trending", page, viewer, now)


def neighbours(connection: Connection, period: Period) -> tuple[str | None, str | None]:
    """Keys of the nearest periods before and after that have papers."""
    before, _ = neighbour_days(connection, period.first)
    _, after = neighbour_days(connection, period.last)
    same_kind = PERIOD_OF_KIND[period.kind]
    return (
        same_kind(before).key if before else None,
        same_kind(after).key if after else None,
    )


def period_tabs(period: Period, days: dict[str, date]) -> dict[str, str]:
    """The key of each kind's period containing this one: for a week or a month, the one
    containing its newest day with papers (its first day when it has none)."""
    anchor = period.first if period.kind == "date" else max(days.values(), default=period.first)
    return {kind: of_kind(anchor).key for kind, of_kind in PERIOD_OF_KIND.items()}


def code_links(paper: Paper) -> list[str]:
    """Code and model repositories named in the abstract or the comments."""
    text = " ".join(filter(None, (paper.abstract, paper.comments, paper.github_repo)))
    return list(dict.fromkeys(link.rstrip(".") for link in _CODE_LINK.findall(text)))


def paper_entry(
    connection: Connection, paper_id: str, viewer: int | None, show_hidden: bool = False
) -> FeedEntry:
    """One paper with its votes, day and submission; 404 when unknown or hidden by an admin
    (unless `show_hidden`: admins see hidden papers)."""
    shown = check_visible(connection, paper_id, show_hidden)
    return entry_on_day(connection, paper_id, shown, viewer)


def entry_on_day(
    connection: Connection, paper_id: str, shown: FeedDay, viewer: int | None = None
) -> FeedEntry:
    """A paper check_visible let through, with its votes and submission."""
    day = shown.day or datetime.now(UTC).date()
    return list_page(connection, {paper_id: day}, "newest", 1, viewer).entries[0]


def check_visible(connection: Connection, paper_id: str, show_hidden: bool = False) -> FeedDay:
    """404 unless the paper exists and is not hidden (hidden ones too with `show_hidden`);
    returns its day in the feed and whether it is hidden."""
    found = feed_day(connection, paper_id)
    if found is None or (found.hidden and not show_hidden):
        raise HTTPException(404, f"no paper {paper_id}")
    return found


def author_papers(connection: Connection, name: str, limit: int) -> dict[str, date]:
    """An author's newest papers (by day); 404 when there are none."""
    days = author_days(connection, name, limit)
    if not days:
        raise HTTPException(404, f"no papers by {name!r}")
    return days


def category_papers(connection: Connection, category: str, limit: int) -> dict[str, date]:
    """A category's newest papers (by day); 404 when there are none."""
    days = category_days(connection, category, limit)
    if not days:
        raise HTTPException(404, f"no papers in {category!r}")
    return days


def hits_out(
    connection: Connection, service: SearchService, hits: list[Hit], words: tuple[str, ...] = ()
) -> list[SearchHitOut]:
    """Search hits as the pages show them, in the order given."""
    papers = {p.id: p for p in get_papers(connection, [hit.paper_id for hit in hits])}
    upvotes = vote_counts(connection, list(papers))
    terms = set(service.keyword_terms(words))
    return [
        SearchHitOut(
            id=paper.id,
            title=paper.title,
            authors=paper.authors,
            categories=paper.categories,
            day=paper.announced,
            excerpt=str(excerpt(paper.abstract or "", terms, service.stemmer)),
            score=round(hit.score, 4),
            upvotes=upvotes.get(paper.id, 0),
        )
        for hit in hits
        if (paper := papers.get(hit.paper_id))
    ]


def run_search(
    connection: Connection,
    service: SearchService,
    q: str,
    mode: Mode,
    limit: int,
    offset: int = 0,
    every_word: bool = False,
    categories: Sequence[str] = (),
    cut_off: bool = True,
) -> SearchResults:
    """A search for a page or feed, on the request's connection, in any of `categories` (when
    given): 400 for a query that cannot be understood."""
    try:
        return service.search(q, mode, limit, offset, every_word, connection, categories, cut_off)
    except QueryError as error:
        raise HTTPException(400, str(error), headers={"X-Field": "q"}) from None


def search_days(
    connection: Connection,
    service: SearchService,
    q: str,
    mode: Mode,
    limit: int,
    every_word: bool = False,
    categories: Sequence[str] = (),
    cut_off: bool = True,
) -> dict[str, date]:
    """Papers matching a search, best first, with their days."""
    hits = run_search(
        connection,
        service,
        q,
        mode,
        limit,
        every_word=every_word,
        categories=categories,
        cut_off=cut_off,
    ).hits
    papers = {p.id: p for p in get_papers(connection, [hit.paper_id for hit in hits])}
    return {
        hit.paper_id: papers[hit.paper_id].announced or date.min
        for hit in hits
        if hit.paper_id in papers
    }
