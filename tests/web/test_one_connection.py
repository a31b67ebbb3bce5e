"""A request reads on one database connection from start to end.

The paper page held its request's connection while similar papers checked out a second one;
with as many concurrent requests as the pool has connections, each held one and waited for
another: a 30 s stall, then 500s. Here the site runs under uvicorn on loopback, first over a
pool of one connection (any second checkout by a request then fails at once, route by route),
then over the default pool with more concurrent keep-alive clients than it holds."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from dailypapers.config import Settings
from dailypapers.models import Paper
from dailypapers.storage import Store, open_store
from dailypapers.storage.users import add_api_token, create_user
from dailypapers.web import create_app
from dailypapers.web.deps import token_hash
from tests.live_server import free_port

POOL_WAIT_S = 1.0  # a second checkout by a request fails after this long
CLIENTS = 24  # more than the default pool's 5 + 10 connections
ROUNDS = 1  # of every read route, per client
ANSWER_WITHIN_S = 10.0  # a deadlocked pool answers after its 30 s timeout


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """`app` under uvicorn (one process, as `serve --workers 1`) in a thread, on a free
    loopback port; yields the base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), log_level="warning", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(60)


def read_paths(app: FastAPI, paper: Paper) -> list[str]:
    """Every GET route of the site, with its path parameters filled in; searches search."""
    day = paper.announced or date.today()
    values = {
        "paper_id": paper.id,
        "name": paper.authors[0],
        "category": paper.categories[0],
        "token": "not-a-valid-token",
        "secret": "not-a-valid-secret",
        "day": day.isoformat(),
        "week": f"{day.isocalendar().year}-W{day.isocalendar().week:02d}",
        "month": f"{day:%Y-%m}",
    }
    paths = []
    for path, operations in app.openapi()["paths"].items():
        if "get" in operations:
            filled = re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], path)
            paths.append(f"{filled}?q=diffusion&mode=keyword")
    return paths


def api_token(store: Store) -> dict[str, str]:
    token = secrets.token_urlsafe(24)
    now = datetime.now(UTC)
    with store.transaction() as connection:
        user = create_user(connection, "reader", "unused", now, False)
        add_api_token(connection, token_hash(token), user.id, "tests", now)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def paper(store: Store, topic_papers: dict[str, Paper], tmp_path: Path) -> Paper:
    """A paper with similar papers: every topic paper embedded and indexed."""
    create_app(Settings(data_dir=tmp_path), store).state.search.update_indexes()
    return topic_papers["diffusion"]


def problems_reading(client: httpx.Client, paths: list[str], rounds: int = 1) -> list[str]:
    """GET each path `rounds` times; what went wrong (a 5xx, no answer in time)."""
    problems = []
    for _ in range(rounds):
        for path in paths:
            try:
                status = client.get(path).status_code
            except httpx.TransportError as error:
                return [*problems, f"{type(error).__name__}: {path}"]  # the pool is stuck
            if status >= 500:
                problems.append(f"{status}: {path}")
    return problems


def test_every_route_reads_on_one_connection(
    database_url: str, store: Store, paper: Paper, tmp_path: Path
) -> None:
    signed_in = api_token(store)
    single = open_store(database_url, pool_size=1, max_overflow=0, pool_timeout=POOL_WAIT_S)
    app = create_app(Settings(data_dir=tmp_path), single)
    paths = read_paths(app, paper)
    try:
        with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            anonymous = problems_reading(client, paths)
            client.headers.update(signed_in)
            problems = problems_reading(client, paths)
            vote = client.post(f"/papers/{paper.id}/vote")
            comment = client.post(f"/papers/{paper.id}/comments", data={"body": "One connection"})
    finally:
        single.close()
    assert (anonymous, problems) == ([], [])
    assert (vote.status_code, comment.status_code) == (200, 201)


def _reader(url: str, paths: list[str], headers: dict[str, str]) -> list[str]:
    with httpx.Client(base_url=url, timeout=ANSWER_WITHIN_S, headers=headers) as client:
        return problems_reading(client, paths, ROUNDS)


def test_more_concurrent_readers_than_the_pool_holds(
    store: Store, paper: Paper, tmp_path: Path
) -> None:
    signed_in = api_token(store)
    app = create_app(Settings(data_dir=tmp_path), store)
    paths = read_paths(app, paper)
    with serving(app) as url, ThreadPoolExecutor(CLIENTS) as pool:
        readers = [
            pool.submit(_reader, url, paths, signed_in if number % 2 else {})
            for number in range(CLIENTS)
        ]
        problems = [problem for reader in readers for problem in reader.result()]
    assert problems == []
