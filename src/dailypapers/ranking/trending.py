"""Trending: Hacker News-style gravity over votes and age, the formula the about page shows.

    score = votes / (age_in_hours + OFFSET_HOURS) ** GRAVITY

A paper's age counts from the start of its day in the feed (UTC). Each vote counts once;
an older paper needs many more votes to rank beside a new one: with GRAVITY 1.5 and
OFFSET_HOURS 2, a two-day-old paper needs about 2.7 times the votes of a day-old one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

GRAVITY = 1.5
OFFSET_HOURS = 2.0
FORMULA = f"votes / (age_in_hours + {OFFSET_HOURS:g}) ^ {GRAVITY:g}"


def age_hours(day: date, now: datetime) -> float:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return max((now - start).total_seconds() / 3600.0, 0.0)


def trending_score(votes: int, hours: float) -> float:
    return votes / (hours + OFFSET_HOURS) ** GRAVITY


def trending_scores(votes: Sequence[int], days: Sequence[date], now: datetime) -> list[float]:
    return [trending_score(v, age_hours(d, now)) for v, d in zip(votes, days, strict=True)]


SORTS = ("upvotes", "trending", "newest")


def order_papers(
    days: dict[str, date], upvotes: dict[str, int], now: datetime, sort: str
) -> tuple[list[str], dict[str, float]]:
    """Paper ids in list order (`sort` first, then the other two as tie-breakers)."""
    ids = list(days)
    scores = dict(
        zip(
            ids,
            trending_scores([upvotes[i] for i in ids], [days[i] for i in ids], now),
            strict=True,
        )
    )
    newest = sorted(ids, key=lambda i: (days[i], i), reverse=True)
    rank = {paper_id: position for position, paper_id in enumerate(newest)}
    keys = {
        "upvotes": lambda i: (-upvotes[i], -scores[i], rank[i]),
        "trending": lambda i: (-scores[i], -upvotes[i], rank[i]),
        "newest": lambda i: rank[i],
    }
    return sorted(ids, key=keys[sort]), scores
