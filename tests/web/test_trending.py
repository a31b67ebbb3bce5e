"""Trending ranks by when votes were cast: votes cast at chosen times, on papers old and new."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import feedparser
import pytest
from fastapi.testclient import TestClient

from dailypapers.models import Paper, Submission
from dailypapers.ranking.trending import day_start, hours_since, trending_score, vote_weight
from dailypapers.storage import Store
from dailypapers.storage.papers import set_paper_hidden
from dailypapers.storage.upserts import upsert_papers, upsert_submissions
from dailypapers.storage.users import create_user
from dailypapers.storage.votes import add_vote
from tests.factories import make_paper


def cast(store: Store, paper: Paper, hours_ago: list[float]) -> None:
    """One vote per age, each from a new user, cast that many hours ago."""
    now = datetime.now(UTC)
    with store.transaction() as connection:
        for hours in hours_ago:
            name = f"u{paper.id}-{hours}"
            user = create_user(connection, name, "unused", now, False)
            add_vote(connection, user.id, paper.id, now - timedelta(hours=hours))


def papers_of(store: Store, *days: date) -> list[Paper]:
    made = [make_paper(listed=[day]) for day in days]
    with store.transaction() as connection:
        upsert_papers(connection, made)
    return made


def trending(site: TestClient) -> dict[str, float]:
    """The trending page's papers, in order, with their scores."""
    response = site.get("/trending.json")
    assert response.status_code == 200, response.text
    return {e["paper"]["id"]: e["trending"] for e in response.json()["entries"]}


def test_the_weight_of_a_vote_halves_every_day_and_ends_with_the_window() -> None:
    assert [vote_weight(hours) for hours in (0, 24, 48, 168)] == [1, 0.5, 0.25, 0.5**7]
    assert vote_weight(168.01) == 0 and vote_weight(-3) == 1  # a vote "from the future" is now
    assert trending_score([(0, 2), (24, 1), (200, 40)]) == 2.5


def test_a_rediscovered_old_paper_trends_above_a_new_one_with_older_votes(
    store: Store, site: TestClient
) -> None:
    today = datetime.now(UTC).date()
    old, new = papers_of(store, today - timedelta(days=90), today)
    cast(store, old, [1, 2, 3])  # three votes of the last hours on a three-month-old paper
    cast(store, new, [70, 71, 72, 73, 74])  # five votes three days ago on today's paper
    scores = trending(site)
    assert list(scores) == [old.id, new.id]
    assert scores[old.id] == pytest.approx(sum(0.5 ** (h / 24) for h in (1, 2, 3)), abs=1e-3)
    assert scores[new.id] == pytest.approx(sum(0.5 ** (h / 24) for h in range(70, 75)), abs=1e-3)


def test_votes_older_than_the_window_leave_a_paper_off_trending(
    store: Store, site: TestClient
) -> None:
    today = datetime.now(UTC).date()
    stale, hidden, fresh = papers_of(store, today, today, today - timedelta(days=30))
    cast(store, stale, [24 * 8, 24 * 9])
    cast(store, hidden, [1])
    cast(store, fresh, [5])
    with store.transaction() as connection:
        set_paper_hidden(connection, hidden.id, True)
    assert list(trending(site)) == [fresh.id]
    # On its day's list the stale paper keeps its two votes but a trending score of 0.
    listed = site.get("/papers.json", params={"date": today.isoformat(), "sort": "trending"})
    entries = {e["paper"]["id"]: e for e in listed.json()["entries"]}
    assert (entries[stale.id]["upvotes"], entries[stale.id]["trending"]) == (2, 0)


def test_imported_votes_count_as_cast_at_the_start_of_the_papers_day(
    store: Store, site: TestClient
) -> None:
    now = datetime.now(UTC)
    recent, early = make_paper(), make_paper()
    days_ago = {recent.id: 2, early.id: 10}  # the early one's day is outside the window
    with store.transaction() as connection:
        upsert_papers(connection, [recent, early])
        upsert_submissions(
            connection,
            [
                Submission(p.id, now - timedelta(days=days_ago[p.id]), "hf-user", 40, "hf")
                for p in (recent, early)
            ],
        )
    scores = trending(site)
    assert list(scores) == [recent.id]
    day = (now - timedelta(days=2)).date()
    expected = 40 * 0.5 ** (hours_since(day_start(day), now) / 24)
    assert scores[recent.id] == pytest.approx(expected, rel=1e-3)


def test_the_day_list_sorted_by_trending_and_the_feed_use_the_same_score(
    store: Store, site: TestClient
) -> None:
    today = datetime.now(UTC).date()
    papers = papers_of(store, today, today, today)
    for paper, hours in zip(papers, ([10, 11], [1], [30, 31, 32]), strict=True):
        cast(store, paper, hours)
    expected = [papers[0].id, papers[2].id, papers[1].id]  # 1.48, 1.22 and 0.97: not by count
    assert list(trending(site)) == expected
    day = site.get("/papers.json", params={"date": today.isoformat(), "sort": "trending"})
    assert [e["paper"]["id"] for e in day.json()["entries"]] == expected
    feed = feedparser.parse(site.get("/feeds/trending.atom").content)
    assert [e.id.rsplit("/", 1)[1] for e in feed.entries] == expected
