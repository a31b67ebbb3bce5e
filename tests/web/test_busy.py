"""A write that cannot get SQLite's one write lock in time is a 503 that saved nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from dailypapers.models import Paper
from dailypapers.storage import Store, open_store
from dailypapers.storage.schema import votes
from dailypapers.storage.upserts import upsert_papers
from tests.factories import make_paper
from tests.held import held_elsewhere
from tests.web.conftest import csrf


@pytest.fixture
def paper(store: Store, site: TestClient, sign_in: Callable) -> Paper:
    """A paper for the signed-in `site` to vote for, on SQLite."""
    if store.dialect != "sqlite":
        pytest.skip("SQLite's single write lock")
    paper = make_paper()
    with store.transaction() as connection:
        upsert_papers(connection, [paper])
    sign_in(site)
    return paper


def vote_by_script(site: TestClient, paper: Paper) -> httpx.Response:
    headers = {"X-CSRF-Token": csrf(site), "Accept": "application/json"}
    return site.post(f"/papers/{paper.id}/vote", headers=headers)


def votes_stored(store: Store) -> int:
    with store.read() as connection:
        return connection.scalar(select(func.count()).select_from(votes)) or 0


def test_a_write_past_the_busy_timeout_is_a_503(
    store: Store, site: TestClient, paper: Paper
) -> None:
    # The site's connections wait 0.2 s instead of 30 s for the lock (after its own pragmas).
    event.listen(store.engine, "connect", lambda raw, _: raw.execute("PRAGMA busy_timeout=200"))
    store.engine.dispose()
    holder = sqlite3.connect(store.engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's writer, holding the lock
    try:
        response = vote_by_script(site, paper)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "busy" in response.json()["error"]
    assert votes_stored(store) == 0


def test_a_write_waiting_past_the_busy_timeout_for_this_process_is_a_503(
    database_url: str,
    store: Store,
    site: TestClient,
    paper: Paper,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """This process's writers queue for their turn at SQLite's lock, and give up as SQLite's
    busy handler would: a job of `serve` (on a Store of its own) holding a long transaction."""
    monkeypatch.setattr("dailypapers.storage.store.BUSY_TIMEOUT_S", 0.2)
    jobs = open_store(database_url)
    try:
        with held_elsewhere(jobs.transaction):  # a long job
            response = vote_by_script(site, paper)
    finally:
        jobs.close()
    assert response.status_code == 503 and "busy" in response.json()["error"]
    assert votes_stored(store) == 0
    assert vote_by_script(site, paper).is_success
    assert votes_stored(store) == 1
