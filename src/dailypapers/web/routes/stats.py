"""The site in numbers: totals, papers and votes per day as charts, papers by category."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from dailypapers.storage.feed import papers_per_day
from dailypapers.storage.papers import stats
from dailypapers.storage.votes import votes_per_day
from dailypapers.web.charts import bar_chart
from dailypapers.web.deps import ReadDep
from dailypapers.web.render import respond
from dailypapers.web.schemas import CategoryCount, DayCount, StatsPage

router = APIRouter()
TOP_CATEGORIES = 20
CHART_DAYS = 90  # the charts show the latest days; the JSON has them all


def _chart(per_day: Sequence[DayCount], label: str) -> Markup:
    return bar_chart([(c.day.isoformat(), c.count) for c in per_day[-CHART_DAYS:]], label)


def _day_counts(per_day: list[tuple[date, int]]) -> list[DayCount]:
    return [DayCount(day=day, count=count) for day, count in per_day]


@router.get("/stats", response_class=HTMLResponse, summary="The site in numbers")
@router.get("/stats.json", response_model=StatsPage, summary="The site in numbers")
def site_stats(request: Request, connection: ReadDep) -> Response:
    counts = stats(connection, top=TOP_CATEGORIES)
    votes_daily = _day_counts(votes_per_day(connection))
    data = StatsPage(
        papers=counts.papers,
        days=counts.days,
        categories=counts.categories,
        versions=counts.versions,
        submissions=counts.submissions,
        votes=sum(c.count for c in votes_daily),
        first_day=counts.first_day,
        last_day=counts.last_day,
        papers_per_day=_day_counts(papers_per_day(connection)),
        votes_per_day=votes_daily,
        top_categories=[
            CategoryCount(category=name, papers=n) for name, n in counts.top_categories.items()
        ],
    )
    charts = {
        "papers": _chart(data.papers_per_day, "Papers per day"),
        "votes": _chart(data.votes_per_day, "Votes per day"),
    }
    return respond(request, "stats.html", data, charts=charts, chart_days=CHART_DAYS)
