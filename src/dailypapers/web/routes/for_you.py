""" "For you": a period's papers ranked for the signed-in reader (`/for-you`), and the same
ranking for any library given as ids (`POST /recommend.json`: it stores nothing, so it needs
no session and no CSRF token, and is rate-limited per address)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from dailypapers.for_you import (
    HOW_TO_TEACH,
    Known,
    Recommendation,
    fit_library,
    library_of_ids,
    period_candidates,
    reader_library,
    reader_model,
    recommend,
)
from dailypapers.library.formats import arxiv_id_in
from dailypapers.periods import period_path
from dailypapers.storage import Store
from dailypapers.storage.feed import latest_day
from dailypapers.storage.library import (
    for_you_secret,
    make_for_you_secret,
    reader_of_for_you_secret,
)
from dailypapers.storage.readers import remembered_categories
from dailypapers.web.deps import ReadDep, StoreDep, UserDep
from dailypapers.web.lists import newest_period, requested_period
from dailypapers.web.ratelimit import RateLimit
from dailypapers.web.render import respond
from dailypapers.web.routes.feeds import AtomResponse, FeedList, feed_response
from dailypapers.web.routes.library import entries_of, ordered_entries
from dailypapers.web.schemas import EntryOut

router = APIRouter()
MAX_LIBRARY_IDS = 5000
FOR_YOU_SIZE = 30


class RecommendIn(BaseModel):
    library: list[Annotated[str, Field(max_length=200)]] = Field(
        max_length=MAX_LIBRARY_IDS, description="arXiv ids or URLs of the library's papers."
    )
    day: date | None = Field(
        None, alias="date", description="The feed day to rank, YYYY-MM-DD (default: the newest)."
    )
    limit: int = Field(10, ge=1, le=100)


class RecommendationOut(BaseModel):
    id: str
    score: float
    reason: str


class ForYouEntry(BaseModel):
    entry: EntryOut
    score: float
    reason: str


class ForYouPage(BaseModel):
    title: str
    period: str
    key: str
    learned: bool  # False: nothing saved yet, so these are the trending papers
    how_to_teach: str
    feed: str  # private: the secret URL of this ranking's Atom feed (the newest day)
    entries: list[ForYouEntry]


@router.post(
    "/recommend.json",
    response_model=list[RecommendationOut],
    dependencies=[RateLimit("recommendations")],
    summary="Rank a day's papers for a library given as arXiv ids (stores nothing)",
)
def recommend_for_library(body: RecommendIn, connection: ReadDep) -> Response:
    ids = []
    for number, text in enumerate(body.library):
        paper_id = arxiv_id_in(text)
        if paper_id is None:
            raise HTTPException(
                400, f"library[{number}]: {text[:80]!r} is not an arXiv id", {"X-Field": "library"}
            )
        ids.append(paper_id)
    day = body.day or latest_day(connection)
    if day is None:
        return JSONResponse([])
    known = library_of_ids(ids)
    model = fit_library(connection, known)
    found = recommend(connection, known, model, period_candidates(connection, day, day), body.limit)
    return JSONResponse([_out(r).model_dump() for r in found])


def _out(found: Recommendation) -> RecommendationOut:
    return RecommendationOut(id=found.id, score=found.score, reason=found.reason)


@router.get("/for-you", response_class=HTMLResponse, summary="Papers for you")
@router.get("/for-you.json", response_model=ForYouPage, summary="Papers for you")
def for_you(
    request: Request,
    store: StoreDep,
    connection: ReadDep,
    viewer: UserDep,
    date: Annotated[str | None, Query(description="A day, YYYY-MM-DD.")] = None,
    week: Annotated[str | None, Query(description="An ISO week, YYYY-Www.")] = None,
    month: Annotated[str | None, Query(description="A month, YYYY-MM.")] = None,
) -> Response:
    """The period's papers (the newest day by default) ranked for you, with the reasons."""
    period = requested_period(date, week, month) or newest_period(connection)
    known, found = _ranked(store, connection, viewer.id, period.first, period.last)
    entries = {e.paper.id: e for e in entries_of(connection, viewer.id, [r.id for r in found])}
    if (secret := for_you_secret(connection, viewer.id)) is None:
        with store.bookkeeping(connection) as writing:
            secret = make_for_you_secret(writing, viewer.id)
    data = ForYouPage(
        title=f"For you: {period.title[0].lower()}{period.title[1:]}",
        period=period.kind,
        key=period.key,
        learned=any(k.label > 0 for k in known),
        how_to_teach=HOW_TO_TEACH,
        feed=f"/feeds/for-you/{secret}.atom",
        entries=[
            ForYouEntry(entry=entries[r.id], score=r.score, reason=r.reason)
            for r in found
            if r.id in entries
        ],
    )
    path = period_path(period.kind, period.key)
    return respond(request, "for_you.html", data, period_path=path, feed_url=data.feed)


def _ranked(
    store: Store, connection: Connection, user_id: int, first: date, last: date
) -> tuple[list[Known], list[Recommendation]]:
    now = datetime.now(UTC)
    known = reader_library(connection, user_id, now)
    model = reader_model(store, connection, user_id, known, now, fit_now=False)
    categories = remembered_categories(connection, user_id)
    candidates = period_candidates(connection, first, last)
    return known, recommend(connection, known, model, candidates, FOR_YOU_SIZE, categories)


@router.get(
    "/feeds/for-you/{secret}.atom",
    response_class=AtomResponse,
    summary="A reader's newest day for them, Atom (the secret URL is the key)",
)
def for_you_feed(request: Request, secret: str, store: StoreDep, connection: ReadDep) -> Response:
    user_id = reader_of_for_you_secret(connection, secret) if len(secret) <= 64 else None
    if user_id is None:
        raise HTTPException(404, "no such feed")
    period = newest_period(connection)
    _, found = _ranked(store, connection, user_id, period.first, period.last)
    entries = ordered_entries(connection, None, [r.id for r in found])
    listed = FeedList("For you", "The newest day's papers ranked for you", "/for-you", entries)
    return feed_response(request, listed)
