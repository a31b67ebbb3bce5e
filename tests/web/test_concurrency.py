"""10,000 upvotes from 50 threads against a real `serve --workers 2`: none is lost."""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from dailypapers.demo import load_demo_if_empty
from dailypapers.storage import Store
from dailypapers.storage.feed import days_of
from dailypapers.storage.schema import votes
from dailypapers.storage.users import add_api_token, create_user
from dailypapers.storage.votes import vote_counts
from dailypapers.web.deps import token_hash
from tests.live_server import running_server

USERS = 100
PAPERS = 100
THREADS = 50
VOTING_TIMEOUT_S = 300.0


@pytest.fixture
def live_server(store: Store, database_url: str, tmp_path: Path) -> Iterator[str]:
    """`python -m dailypapers serve --workers 2` on a free loopback port, over this test's db."""
    load_demo_if_empty(store)  # before the workers start: one process imports
    unlimited = {"DAILYPAPERS_RATE_LIMITS": "false"}  # 10,000 votes from one address
    with running_server(
        database_url, tmp_path / "server.log", "--workers", "2", env=unlimited
    ) as url:
        yield url


def _voters(store: Store) -> list[str]:
    """USERS users, each with an API token; returns the tokens."""
    now = datetime.now(UTC)
    tokens = [secrets.token_urlsafe(24) for _ in range(USERS)]
    with store.transaction() as connection:
        for number, token in enumerate(tokens):
            user = create_user(connection, f"voter{number}", "unused", now, False)
            add_api_token(connection, token_hash(token), user.id, "load test", now)
    return tokens


def _cast(url: str, ballots: list[tuple[str, str]]) -> list[int]:
    """One thread's share of the votes, over one keep-alive connection; the status codes."""
    statuses = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for token, paper_id in ballots:
            response = client.post(
                f"/papers/{paper_id}/vote",
                params={"action": "up"},
                headers={"Authorization": f"Bearer {token}"},
            )
            statuses.append(response.status_code)
    return statuses


def test_keep_alive_responses_do_not_wait_for_a_delayed_ack(live_server: str) -> None:
    """With Nagle's algorithm left on (as uvicorn's --workers socket had it), each response
    on a kept-alive connection waited ~40 ms for the client's delayed ACK."""
    timings = []
    with httpx.Client(base_url=live_server) as client:
        for _ in range(12):
            start = time.perf_counter()
            assert client.get("/static/site.css").status_code == 200
            timings.append(time.perf_counter() - start)
    assert sorted(timings[2:])[5] < 0.030, timings


def test_concurrent_votes_are_all_counted(store: Store, live_server: str) -> None:
    tokens = _voters(store)
    with store.read() as connection:
        paper_ids = sorted(days_of(connection, date(2026, 7, 1), date(2026, 7, 1)))[:PAPERS]
        imported = vote_counts(connection, paper_ids)  # upvotes brought along from HF
    ballots = [(token, paper_id) for token in tokens for paper_id in paper_ids]
    random.Random(7).shuffle(ballots)  # every paper is voted on from many threads at once
    shares = [ballots[start::THREADS] for start in range(THREADS)]

    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(_cast, live_server, share) for share in shares]
        statuses = [status for future in futures for status in future.result(VOTING_TIMEOUT_S)]

    assert len(statuses) == USERS * PAPERS == 10_000
    assert set(statuses) == {200}
    with store.read() as connection:
        assert connection.scalar(select(func.count()).select_from(votes)) == 10_000
        per_paper = select(votes.c.paper_id, func.count()).group_by(votes.c.paper_id)
        assert dict(connection.execute(per_paper).all()) == dict.fromkeys(paper_ids, USERS)
    with httpx.Client(base_url=live_server) as client:
        for paper_id in paper_ids:
            shown = client.get(f"/papers/{paper_id}.json").json()["entry"]["upvotes"]
            assert shown == imported[paper_id] + USERS
