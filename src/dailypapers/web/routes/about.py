"""How ranking works: the orders of the lists and the trending formula, with worked examples."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from dailypapers.ranking.trending import (
    FORMULA,
    HALF_LIFE_HOURS,
    IMPORTED_AGE,
    VOTE_AGE,
    WINDOW_DAYS,
    trending_score,
)
from dailypapers.web.render import respond
from dailypapers.web.schemas import RankingPage, TrendingExample

router = APIRouter()
ORDERS = {
    "upvotes": "Most upvotes first: votes cast here plus those a community brought along from "
    "another site. Ties go to the higher trending score, then to the newer paper. "
    "The daily, weekly and monthly lists use this order unless asked otherwise.",
    "trending": "Highest trending score first, then more upvotes, then the newer paper. "
    f"The trending page lists, in this order, the papers voted for in the last {WINDOW_DAYS} "
    "days, whenever they appeared: an older paper that people rediscover trends again.",
    "newest": "The newest day first, and within a day the higher arXiv id first. "
    "Category and author pages use this order unless asked otherwise.",
}
# (votes, their age in hours): one vote as it ages through the window and past it; then ten
# votes three days old against an older paper's three votes of the last two hours.
EXAMPLES = ((1, 0.0), (1, 12.0), (1, 24.0), (1, 48.0), (1, 168.0), (1, 169.0), (10, 72.0), (3, 2.0))


@router.get("/about/ranking", response_class=HTMLResponse, summary="How ranking works")
@router.get("/about/ranking.json", response_model=RankingPage, summary="How ranking works")
def ranking(request: Request) -> Response:
    data = RankingPage(
        orders=ORDERS,
        formula=FORMULA,
        half_life_hours=HALF_LIFE_HOURS,
        age=VOTE_AGE,
        imported=IMPORTED_AGE,
        trending_window_days=WINDOW_DAYS,
        examples=[
            TrendingExample(votes=votes, age_hours=hours, score=trending_score([(hours, votes)]))
            for votes, hours in EXAMPLES
        ],
    )
    return respond(request, "about_ranking.html", data)
