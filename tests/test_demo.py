"""The demo's sample vote history: trending and vote counts from the first start, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func, select

from dailypapers.demo import load_demo_if_empty, load_demo_votes
from dailypapers.storage import Store
from dailypapers.storage.schema import votes
from dailypapers.web.lists import trending_page
from tests.live_server import running_server

SAMPLE_VOTES = 906  # scripts/make_demo_votes.py's output, on 58 demo papers


def test_a_fresh_demo_store_has_trending_papers_and_counts(store: Store) -> None:
    now = datetime.now(UTC)
    load_demo_if_empty(store)
    assert load_demo_votes(store, now) == SAMPLE_VOTES
    assert load_demo_votes(store, now + timedelta(hours=1)) == SAMPLE_VOTES  # offered again...
    with store.read() as connection:
        first, last, count = connection.execute(
            select(func.min(votes.c.created_at), func.max(votes.c.created_at), func.count())
        ).one()
        listed = trending_page(connection, 1, None, now)
    assert count == SAMPLE_VOTES  # ... and added nothing
    cast = [moment if moment.tzinfo else moment.replace(tzinfo=UTC) for moment in (first, last)]
    assert now - timedelta(days=6) <= cast[0] < cast[1] <= now  # spread over the last days
    assert listed.total == 58
    top = listed.entries[0]
    assert top.upvotes >= 74 and top.trending > 10  # one of the three largest recorded counts
    assert [e.trending for e in listed.entries] == sorted(
        (e.trending for e in listed.entries), reverse=True
    )


def test_serve_demo_shows_trending_and_votes_on_the_first_start(
    database_url: str, tmp_path: Path
) -> None:
    for start in ("first", "second"):
        log = tmp_path / f"{start}.log"
        with running_server(database_url, log, "--demo", "--no-worker") as url:
            trending = httpx.get(f"{url}/trending.json", timeout=30).json()
            newest = httpx.get(f"{url}/papers.json", timeout=30).json()
        assert trending["total"] == 58 and trending["entries"][0]["upvotes"] > 0
        assert newest["entries"][0]["upvotes"] > 0  # the day's list, most upvoted first
    assert (
        f"loaded 2,086 demo papers and {SAMPLE_VOTES} sample votes"
        in (tmp_path / "first.log").read_text()
    )
    assert "demo papers" not in (tmp_path / "second.log").read_text()  # loaded once
