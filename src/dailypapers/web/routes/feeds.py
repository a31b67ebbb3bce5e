"""Atom 1.0 and RSS 2.0 feeds of the lists: the newest day, trending, a category, an author and a
keyword search. One builder per list gives the entries; feedgen writes either format."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from feedgen.ext.base import BaseEntryExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from sqlalchemy import Connection

from dailypapers.models import FeedEntry
from dailypapers.periods import day_period, period_path
from dailypapers.search.query import MAX_QUERY_CHARS
from dailypapers.storage.feed import days_of, latest_day
from dailypapers.texmath import plain
from dailypapers.text import arxiv_url, paper_path, path_segment
from dailypapers.web.deps import ReadDep, SearchDep
from dailypapers.web.lists import (
    NEWEST_LIMIT,
    NO_FILTER,
    CategoriesQuery,
    ListFilter,
    author_papers,
    category_papers,
    checked_categories,
    list_page,
    query_link,
    requested_period,
    search_days,
    trending_page,
)

router = APIRouter()
FEED_MATCHES = 1000  # a search feed's newest papers are picked among this many matches
ARXIV_CATEGORIES = "https://arxiv.org/category_taxonomy"
# Characters XML 1.0 forbids; lxml refuses them, and an abstract may carry one.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class AtomResponse(Response):
    media_type = "application/atom+xml"


class RssResponse(Response):
    media_type = "application/rss+xml"


class RelatedLink(BaseEntryExtension):  # type: ignore[misc]
    """An Atom entry's link to the paper on arXiv. feedgen 1.0 writes entry links without
    their rel (lkiesow/python-feedgen#135): a second link would be a second "alternate"."""

    href = ""

    def extend_atom(self, entry: Any) -> Any:
        xml_elem("link", entry, href=self.href, rel="related", type="text/html", title="arXiv")
        return entry


@dataclass(frozen=True)
class FeedList:
    title: str
    description: str
    page: str  # the list's HTML page, a path
    entries: list[FeedEntry]


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def _midnight(entry: FeedEntry) -> datetime:
    return datetime.combine(entry.day, time.min, tzinfo=UTC)


def _updated(entry: FeedEntry) -> datetime:
    """The later of the paper's day in the feed and its newest version."""
    versions = [v.created for v in entry.paper.versions if v.created]
    return max([_midnight(entry), *versions])


def _add_entry(feed: FeedGenerator, entry: FeedEntry, base: str) -> None:
    paper = entry.paper
    item = feed.add_entry(order="append")
    item.id(arxiv_url(paper.id))
    item.title(_xml_text(plain(paper.title) or paper.id))  # readers draw no MathML: Unicode
    item.link(href=f"{base}{paper_path(paper.id)}", rel="alternate")
    item.register_extension("related", RelatedLink, atom=True, rss=False)
    item.related.href = arxiv_url(paper.id)
    if paper.authors:
        item.author([{"name": _xml_text(name)} for name in paper.authors])
        item.dc.dc_creator([_xml_text(name) for name in paper.authors])  # RSS authors need emails
    if paper.abstract:
        item.summary(_xml_text(plain(paper.abstract)))
    if paper.categories:
        item.category([{"term": c, "scheme": ARXIV_CATEGORIES} for c in paper.categories])
    item.published(_midnight(entry))
    item.updated(_updated(entry))


def feed_response(request: Request, listed: FeedList) -> Response:
    """The list as RSS 2.0 when the path ends in .rss, else as Atom 1.0."""
    base = str(request.base_url).rstrip("/")
    feed = FeedGenerator()
    feed.load_extension("dc", atom=False, rss=True)
    feed.id(str(request.url))
    feed.title(_xml_text(f"dailypapers: {listed.title}"))
    feed.description(_xml_text(listed.description))
    feed.author({"name": "dailypapers"})  # entries without authors fall back to it
    feed.link(href=str(request.url), rel="self")
    feed.link(href=f"{base}{listed.page}", rel="alternate", type="text/html")
    feed.language("en")
    for entry in listed.entries:
        _add_entry(feed, entry, base)
    feed.updated(max((_updated(e) for e in listed.entries), default=datetime.now(UTC)))
    if request.url.path.endswith(".rss"):
        return RssResponse(feed.rss_str(pretty=True))
    return AtomResponse(feed.atom_str(pretty=True))


def feed_filter(categories: CategoriesQuery = None) -> ListFilter:
    """A feed's categories (feeds have no reader, so nothing is remembered)."""
    return ListFilter(tuple(checked_categories(categories)))


FeedFilterDep = Annotated[ListFilter, Depends(feed_filter)]


def _page(path: str, only: ListFilter, params: list[tuple[str, str]] | None = None) -> str:
    """The list's HTML page with the feed's parameters."""
    return query_link(path, [*(params or []), *(("category", c) for c in only.categories)])


def _entries(
    connection: Connection, days: dict[str, date], sort: str, only: ListFilter = NO_FILTER
) -> list[FeedEntry]:
    """The first page of the list, as its JSON twin gives it."""
    return list_page(connection, only.apply(connection, days), sort, 1, None).entries


@router.get("/feeds/daily.atom", response_class=AtomResponse, summary="A day, week or month, Atom")
@router.get("/feeds/daily.rss", response_class=RssResponse, summary="A day, week or month, RSS")
def daily(
    request: Request,
    connection: ReadDep,
    only: FeedFilterDep,
    date: Annotated[
        str | None, Query(description="A day, YYYY-MM-DD, instead of the newest day.")
    ] = None,
    week: Annotated[
        str | None, Query(description="An ISO week, YYYY-Www, instead of the newest day.")
    ] = None,
    month: Annotated[
        str | None, Query(description="A month, YYYY-MM, instead of the newest day.")
    ] = None,
) -> Response:
    """A period's most upvoted papers, as its list shows them: the newest day's (the front
    page) unless a day, week or month is given."""
    period = requested_period(date, week, month)
    if period is None:
        newest = latest_day(connection)
        shown = day_period(newest) if newest else None
        title, page = "Daily papers", _page("/", only)
    else:
        shown, title = period, period.title
        page = _page(period_path(period.kind, period.key), only)
    days = days_of(connection, shown.first, shown.last) if shown else {}
    description = f"{shown.title}, most upvoted first" if shown else "None yet"
    entries = _entries(connection, days, "upvotes", only)
    return feed_response(request, FeedList(title, description, page, entries))


@router.get("/feeds/trending.atom", response_class=AtomResponse, summary="Trending, Atom")
@router.get("/feeds/trending.rss", response_class=RssResponse, summary="Trending, RSS")
def trending(request: Request, connection: ReadDep, only: FeedFilterDep) -> Response:
    entries = trending_page(connection, 1, None, datetime.now(UTC), only).entries
    description = "The last week's papers by votes with time decay (see /about/ranking)"
    page = _page("/trending", only)
    return feed_response(request, FeedList("Trending papers", description, page, entries))


@router.get(
    "/feeds/category/{category}.atom", response_class=AtomResponse, summary="A category, Atom"
)
@router.get("/feeds/category/{category}.rss", response_class=RssResponse, summary="A category, RSS")
def category(request: Request, category: str, connection: ReadDep, only: FeedFilterDep) -> Response:
    days = category_papers(connection, category, NEWEST_LIMIT)
    listed = FeedList(
        f"Newest in {category}",
        f"The newest papers in the arXiv category {category}",
        _page(f"/categories/{path_segment(category)}", only),
        _entries(connection, days, "newest", only),
    )
    return feed_response(request, listed)


@router.get("/feeds/author/{name}.atom", response_class=AtomResponse, summary="An author, Atom")
@router.get("/feeds/author/{name}.rss", response_class=RssResponse, summary="An author, RSS")
def author(request: Request, name: str, connection: ReadDep, only: FeedFilterDep) -> Response:
    days = author_papers(connection, name, NEWEST_LIMIT)
    listed = FeedList(
        f"Papers by {name}",
        f"The newest papers by {name}",
        _page(f"/authors/{path_segment(name)}", only),
        _entries(connection, days, "newest", only),
    )
    return feed_response(request, listed)


@router.get("/feeds/search.atom", response_class=AtomResponse, summary="A search, Atom")
@router.get("/feeds/search.rss", response_class=RssResponse, summary="A search, RSS")
def search(
    request: Request,
    connection: ReadDep,
    service: SearchDep,
    only: FeedFilterDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY_CHARS,
            description="A search as the search box takes it: the newest papers with every word.",
        ),
    ],
) -> Response:
    if not q.strip():
        raise HTTPException(400, "q: give at least one word", headers={"X-Field": "q"})
    days = search_days(
        connection,
        service,
        q,
        "keyword",
        FEED_MATCHES,
        every_word=True,
        categories=only.categories,
    )
    listed = FeedList(
        f"Papers matching {q.strip()!r}",
        f"The newest papers matching the search {q.strip()!r}",
        _page("/search", only, [("q", q)]),
        _entries(connection, days, "newest"),
    )
    return feed_response(request, listed)
