"""What goes into a subscriber's digest: the trending papers of the period in their
categories, and the papers matching each saved search, all new since their last digest.

A digest for day D covers the feed days after the subscriber's last digest up to the newest
one on or before D, within the LOOKBACK_DAYS that end on D; a first digest covers the newest
day (daily) or the seven days that end on it (weekly). So a daily digest that finds no new day
is empty, and empty digests are not sent, while one after a missed run catches up. The feed
of those days is read and ranked once per run; subscribers then cost a few dictionary
look-ups each, and identical saved searches are run once.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import Connection

from dailypapers.for_you import (
    Candidates,
    fit_library,
    period_candidates,
    reader_library,
    reader_model,
    recommend,
)
from dailypapers.models import Paper, Subscriber
from dailypapers.periods import Period, day_period, month_period, period_path, week_period
from dailypapers.ranking.trending import order_papers
from dailypapers.storage import Store
from dailypapers.storage.feed import days_of
from dailypapers.storage.papers import get_papers
from dailypapers.storage.votes import trending_scores, vote_counts
from dailypapers.texmath import plain
from dailypapers.text import paper_path

SPAN_DAYS = {"daily": 1, "weekly": 7}  # what a first digest covers
# How far a digest looks back: for the newest feed day (weekends, holidays), and for the days
# a subscriber has not had yet (a run that did not happen, a digest that failed).
LOOKBACK_DAYS = 14
TRENDING_LIMIT = 10
SEARCH_LIMIT = 10
FOR_YOU_LIMIT = 5
SEARCH_COUNTED = 100  # a search section says "see all N" for up to this many matches
EXCERPT_WIDTH, EXCERPT_LINES = 76, 2
AUTHORS_SHOWN = 6  # as the site's lists show them

# (query, first day, last day) -> ids of matching papers of those feed days, best first
SearchFunction = Callable[[str, date, date], list[str]]


@dataclass(frozen=True, slots=True)
class DigestPaper:
    id: str
    title: str
    url: str
    authors: str
    excerpt: list[str]  # at most EXCERPT_LINES lines of the abstract
    upvotes: int


@dataclass(frozen=True, slots=True)
class SeeAll:
    """A section's link to all of its papers on the site."""

    url: str
    count: int  # papers of the window in the section; SEARCH_COUNTED or more: at least that
    more: bool  # there are more than `count`


@dataclass(frozen=True, slots=True)
class SearchSection:
    query: str
    papers: list[DigestPaper]
    see_all: SeeAll


@dataclass(frozen=True, slots=True)
class ForYou:
    """A subscriber's "for you" section: the days' papers ranked from their library."""

    papers: list[DigestPaper]
    reasons: list[str]
    see_all: SeeAll


@dataclass(frozen=True, slots=True)
class Digest:
    subscriber: Subscriber
    period_key: str  # the outbox key, e.g. "daily:2026-07-01"
    days: tuple[date, date]  # first and last feed day covered
    trending: list[DigestPaper]
    trending_all: SeeAll
    searches: list[SearchSection]
    for_you: ForYou | None = None  # for a subscriber with an account and a library


def period_key(frequency: str, day: date) -> str:
    return f"{frequency}:{day.isoformat()}"


def excerpt(abstract: str | None) -> list[str]:
    """The abstract's first lines, its TeX as Unicode text (mail clients draw no MathML)."""
    text = " ".join(plain(abstract or "").split())
    return textwrap.wrap(text, EXCERPT_WIDTH, max_lines=EXCERPT_LINES, placeholder=" …")


def author_line(authors: list[str]) -> str:
    """As the site's lists show authors: the first few, then "et al."."""
    shown = ", ".join(authors[:AUTHORS_SHOWN])
    return f"{shown}, et al." if len(authors) > AUTHORS_SHOWN else shown


def window_period(window: tuple[date, date]) -> Period:
    """The period that holds a digest's days: that day, its ISO week or its month; the
    newest day when the days span two months."""
    first, last = window
    holding = (of(last) for of in (day_period, week_period, month_period))
    return next((period for period in holding if period.first <= first), day_period(last))


def window_path(window: tuple[date, date]) -> str:
    """The site's list of a digest's days."""
    period = window_period(window)
    return period_path(period.kind, period.key)


def search_path(query: str, window: tuple[date, date]) -> str:
    """The site's search for a saved search over a digest's days."""
    first, last = window
    return "/search?" + urlencode({"q": f"{query} after:{first} before:{last}"})


@dataclass
class _Feed:
    """The papers of the feed days before some day D, ranked once."""

    newest: date | None
    dates: list[date]  # the feed days that have papers, oldest first
    days: dict[str, date]
    ranked: list[str]  # trending order
    rank: dict[str, int]  # position in `ranked`
    papers: dict[str, Paper]


class DigestComposer:
    """Composes digests over one connection; keeps what subscribers share for the run."""

    def __init__(
        self,
        connection: Connection,
        base_url: str,
        now: datetime,
        search: SearchFunction | None = None,
        store: Store | None = None,  # where readers' models are kept (None: fitted for the run)
    ) -> None:
        self.connection = connection
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.now = now
        self.search = search
        self._feeds: dict[date, _Feed] = {}
        self._tops: dict[tuple[date, date], dict[str | None, list[str]]] = {}
        self._counts: dict[tuple[date, date], dict[str | None, set[str]]] = {}
        self._totals: dict[tuple[tuple[date, date], tuple[str, ...]], int] = {}
        self._matches: dict[tuple[str, date, date], list[str]] = {}
        self._views: dict[str, DigestPaper] = {}
        self._upvotes: dict[str, int] = {}
        self._candidates: dict[tuple[date, date], Candidates] = {}

    def compose(self, subscriber: Subscriber, day: date, last_sent: date | None) -> Digest | None:
        """`subscriber`'s digest for `day`, or None when there is nothing new to send."""
        feed = self._feed(day)
        if feed.newest is None:
            return None
        if last_sent is None:
            first = feed.newest - timedelta(days=SPAN_DAYS[subscriber.frequency] - 1)
        else:
            first = last_sent + timedelta(days=1)
        first = next((d for d in feed.dates if d >= first), None)  # the first with papers
        if first is None:
            return None
        window = (first, feed.newest)
        trending = [self._view(i, feed) for i in self._trending(feed, window, subscriber)]
        searches = []
        for saved in subscriber.searches:
            ids = self._matching(saved.query, feed, window)
            if ids:
                shown = [self._view(i, feed) for i in ids[:SEARCH_LIMIT]]
                url = self.base_url + search_path(saved.query, window)
                more = len(ids) >= SEARCH_COUNTED
                searches.append(SearchSection(saved.query, shown, SeeAll(url, len(ids), more)))
        for_you = self._for_you(subscriber, feed, window)
        if not trending and not searches and for_you is None:
            return None
        key = period_key(subscriber.frequency, day)
        trending_all = self._trending_all(feed, window, subscriber.categories)
        return Digest(subscriber, key, window, trending, trending_all, searches, for_you)

    def _for_you(self, who: Subscriber, feed: _Feed, window: tuple[date, date]) -> ForYou | None:
        """The window's papers ranked from the subscriber's library, when they have an account
        with something saved or upvoted (a cold start is the trending section already)."""
        if who.user_id is None:
            return None
        known = reader_library(self.connection, who.user_id, self.now)
        if not any(k.label > 0 for k in known):
            return None
        if self.store is None:
            model = fit_library(self.connection, known)
        else:
            model = reader_model(
                self.store, self.connection, who.user_id, known, self.now, fit_now=True
            )
        if window not in self._candidates:
            self._candidates[window] = period_candidates(self.connection, *window)
        found = recommend(self.connection, known, model, self._candidates[window], FOR_YOU_LIMIT)
        shown = [r for r in found if r.id in feed.papers]
        if not shown:
            return None
        period = window_period(window)
        url = f"{self.base_url}/for-you?{urlencode({period.kind: period.key})}"
        return ForYou(
            [self._view(r.id, feed) for r in shown],
            [r.reason for r in shown],
            SeeAll(url, len(shown), False),
        )

    def _feed(self, day: date) -> _Feed:
        if day not in self._feeds:
            days = days_of(self.connection, day - timedelta(days=LOOKBACK_DAYS - 1), day)
            newest = max(days.values(), default=None)
            if newest is None:
                self._feeds[day] = _Feed(None, [], {}, [], {}, {})
                return self._feeds[day]
            upvotes = vote_counts(self.connection, list(days))
            self._upvotes.update(upvotes)
            scores = trending_scores(self.connection, days, self.now)
            ranked = order_papers(days, upvotes, scores, "trending")
            papers = {paper.id: paper for paper in get_papers(self.connection, ranked)}
            rank = {paper_id: position for position, paper_id in enumerate(ranked)}
            self._feeds[day] = _Feed(newest, sorted(set(days.values())), days, ranked, rank, papers)
        return self._feeds[day]

    def _trending(self, feed: _Feed, window: tuple[date, date], who: Subscriber) -> list[str]:
        tops = self._category_tops(feed, window)
        if not who.categories:
            return tops[None]
        found = {i for category in who.categories for i in tops.get(category, ())}
        return sorted(found, key=feed.rank.__getitem__)[:TRENDING_LIMIT]

    def _trending_all(
        self, feed: _Feed, window: tuple[date, date], categories: Sequence[str]
    ) -> SeeAll:
        """The link to the window's list in these categories, trending first, and its size."""
        self._category_tops(feed, window)
        counts = self._counts[window]
        chosen = sorted(set(categories))
        key = (window, tuple(chosen))
        if key not in self._totals:
            self._totals[key] = (
                len(set().union(*(counts.get(c, set()) for c in chosen)))
                if chosen
                else len(counts[None])
            )
        params = [("category", c) for c in chosen] + [("sort", "trending")]
        url = f"{self.base_url}{window_path(window)}?{urlencode(params)}"
        return SeeAll(url, self._totals[key], False)

    def _category_tops(self, feed: _Feed, window: tuple[date, date]) -> dict[str | None, list[str]]:
        """The first TRENDING_LIMIT papers of the window per category (None: any category),
        and every paper of the window per category, from one pass over the ranked papers."""
        if window not in self._tops:
            tops: dict[str | None, list[str]] = {None: []}
            counts: dict[str | None, set[str]] = {None: set()}
            first, last = window
            for paper_id in feed.ranked:
                if not first <= feed.days[paper_id] <= last:
                    continue
                for category in [None, *feed.papers[paper_id].categories]:
                    counts.setdefault(category, set()).add(paper_id)
                    top = tops.setdefault(category, [])
                    if len(top) < TRENDING_LIMIT:
                        top.append(paper_id)
            self._tops[window] = tops
            self._counts[window] = counts
        return self._tops[window]

    def _matching(self, query: str, feed: _Feed, window: tuple[date, date]) -> list[str]:
        if self.search is None:
            return []
        key = (query, *window)
        if key not in self._matches:
            first, last = window
            found = self.search(query, first, last)
            inside = [i for i in found if i in feed.papers and first <= feed.days[i] <= last]
            self._matches[key] = inside
        return self._matches[key]

    def _view(self, paper_id: str, feed: _Feed) -> DigestPaper:
        if paper_id not in self._views:
            paper = feed.papers[paper_id]
            self._views[paper_id] = DigestPaper(
                id=paper.id,
                title=" ".join(plain(paper.title or paper.id).split()),
                url=f"{self.base_url}{paper_path(paper.id)}",
                authors=author_line(paper.authors),
                excerpt=excerpt(paper.abstract),
                upvotes=self._upvotes.get(paper.id, 0),
            )
        return self._views[paper_id]
