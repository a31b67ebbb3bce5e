"""How ranking works: the orders of the lists and the trending formula, with worked examples."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from dailypapers.ranking.trending import FORMULA, GRAVITY, OFFSET_HOURS, trending_score
from dailypapers.web.lists import TRENDING_WINDOW_DAYS
from dailypapers.web.render import respond
from dailypapers.web.schemas import RankingPage, TrendingExample

router = APIRouter()
ORDERS = {
    "upvotes": "Most upvotes first: votes cast here plus those a community brought along from "
    "another site. Ties go to the higher trending score, then to the newer paper. "
    "The daily, weekly and monthly lists use this order unless asked otherwise.",
    "trending": "Highest trending score first, then more upvotes, then the newer paper. "
    f"The trending page lists the last {TRENDING_WINDOW_DAYS} days' papers that have at least "
    "one vote in this order.",
    "newest": "The newest day first, and within a day the higher arXiv id first. "
    "Category and author pages use this order unless asked otherwise.",
}
AGE = "hours since the start (00:00 UTC) of the paper's day in the feed"
# (votes, age in hours): a fresh paper, one a day old, and two days old with enough votes to
# rank beside the day-old one.
EXAMPLES = ((10, 3.0), (10, 24.0), (10, 48.0), (27, 48.0))


@router.get("/about/ranking", response_class=HTMLResponse, summary="How ranking works")
@router.get("/about/ranking.json", response_model=RankingPage, summary="How ranking works")
def ranking(request: Request) -> Response:
    data = RankingPage(
        orders=ORDERS,
        formula=FORMULA,
        gravity=GRAVITY,
        offset_hours=OFFSET_HOURS,
        age=AGE,
        trending_window_days=TRENDING_WINDOW_DAYS,
        examples=[
            TrendingExample(votes=votes, age_hours=hours, score=trending_score(votes, hours))
            for votes, hours in EXAMPLES
        ],
    )
    two_days_handicap = trending_score(1, 24.0) / trending_score(1, 48.0)
    return respond(request, "about_ranking.html", data, handicap=two_days_handicap)
