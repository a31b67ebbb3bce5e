"""Trending: the votes of the last WINDOW_DAYS by when they were cast, each worth half as much
every HALF_LIFE_HOURS; the formula the about page shows.

    score = sum, over the paper's votes cast in the last 7 days, of 0.5 ^ (vote_age_in_hours / 24)

A vote cast now counts 1, a day-old vote 0.5, a two-day-old one 0.25, and one older than the
window nothing. A paper trends while people vote for it, whenever it appeared: an older paper
that people rediscover trends again. Votes a community brought along from another site carry no
time; they count as cast at the start (00:00 UTC) of the paper's day in the feed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

HALF_LIFE_HOURS = 24.0
WINDOW_DAYS = 7
WINDOW = timedelta(days=WINDOW_DAYS)
FORMULA = (
    f"sum over the votes cast in the last {WINDOW_DAYS} days of "
    f"0.5 ^ (vote_age_in_hours / {HALF_LIFE_HOURS:g})"
)
VOTE_AGE = "hours since the vote was cast"
IMPORTED_AGE = (
    "Votes brought along from another site carry no time: they count as cast at 00:00 UTC "
    "of the paper's day in the feed."
)


def hours_since(moment: datetime, now: datetime) -> float:
    return (now - moment).total_seconds() / 3600.0


def day_start(day: date) -> datetime:
    """When a paper's imported votes count as cast."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def vote_weight(age_hours: float) -> float:
    """What one vote cast `age_hours` ago adds; a vote from the future (clock skew) counts 1."""
    if age_hours > WINDOW_DAYS * 24:
        return 0.0
    return 0.5 ** (max(age_hours, 0.0) / HALF_LIFE_HOURS)


def trending_score(votes: Iterable[tuple[float, int]]) -> float:
    """The score of a paper's votes, given as (age in hours, how many votes of that age)."""
    return sum(count * vote_weight(age) for age, count in votes)


SORTS = ("upvotes", "trending", "newest")


def order_papers(
    days: dict[str, date], upvotes: dict[str, int], scores: dict[str, float], sort: str
) -> list[str]:
    """Paper ids in list order (`sort` first, then the other two as tie-breakers)."""
    newest = sorted(days, key=lambda i: (days[i], i), reverse=True)
    rank = {paper_id: position for position, paper_id in enumerate(newest)}
    keys = {
        "upvotes": lambda i: (-upvotes[i], -scores[i], rank[i]),
        "trending": lambda i: (-scores[i], -upvotes[i], rank[i]),
        "newest": lambda i: rank[i],
    }
    return sorted(days, key=keys[sort])
