"""A paper's page costs a bounded number of SQL statements (counted, as Django's
assertNumQueries does), and anonymous readers share it through the page cache."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dailypapers.config import Settings
from dailypapers.demo import load_demo_if_empty
from dailypapers.models import Paper, User
from dailypapers.storage import Store
from dailypapers.storage.feed import days_of
from dailypapers.storage.store import versions
from dailypapers.web import create_app
from tests.web.conftest import csrf
from tests.web.test_page_cache import PAPER, counted_statements, upvotes_shown, write_vote

# The versions; the paper with its day, votes, trending score, submission and comment count
# (11); its vector and neighbours (2, and 1 more on PostgreSQL); who upvoted it; its
# comments; the similar papers with their votes (6). Signed in: the reader's vote and tags
# and remembering the visit, but no versions (their pages are never shared).
ANONYMOUS_STATEMENTS = 23
SIGNED_IN_STATEMENTS = 26


@pytest.fixture
def indexed(store: Store, topic_papers: dict[str, Paper], tmp_path: Path) -> FastAPI:
    """The site with every topic paper embedded and indexed, so pages have similar papers."""
    app = create_app(Settings(data_dir=tmp_path), store)
    app.state.search.update_indexes()
    return app


def as_script(client: TestClient) -> dict[str, str]:
    """vote.js's headers: an answer in JSON, not a redirect to the page."""
    return {"X-CSRF-Token": csrf(client), "Accept": "application/json"}


def similar_shown(page: str) -> int:
    return page.split('id="similar"')[1].count('<a class="title"')


def test_an_anonymous_paper_page_is_bounded_then_shared(
    store: Store, indexed: FastAPI, topic_papers: dict[str, Paper]
) -> None:
    paper = topic_papers["diffusion"]
    with TestClient(indexed) as client:
        with counted_statements(store) as statements:
            first = client.get(f"/papers/{paper.id}")
        with counted_statements(store) as again:
            cached = client.get(f"/papers/{paper.id}")
    assert first.status_code == 200 and similar_shown(first.text) == len(topic_papers) - 1
    assert len(statements) <= ANONYMOUS_STATEMENTS, "\n".join(statements)
    assert len(again) == 1 and "data_version" in again[0]
    assert cached.text == first.text


def test_a_signed_in_paper_page_is_bounded(
    store: Store,
    indexed: FastAPI,
    topic_papers: dict[str, Paper],
    sign_in: Callable[..., User],
) -> None:
    paper = topic_papers["diffusion"]
    with TestClient(indexed) as client:
        sign_in(client, "ada")
        client.get(f"/papers/{paper.id}")  # the first visit also records the view
        with counted_statements(store) as statements:
            page = client.get(f"/papers/{paper.id}")
    assert page.status_code == 200 and similar_shown(page.text) == len(topic_papers) - 1
    assert len(statements) <= SIGNED_IN_STATEMENTS, "\n".join(statements)


def test_a_paper_without_similar_papers_skips_their_queries(
    store: Store, site: TestClient, topic_papers: dict[str, Paper]
) -> None:
    """Nothing is embedded: no statements for an empty list of similar papers."""
    with counted_statements(store) as statements:
        page = site.get(f"/papers/{topic_papers['diffusion'].id}")
    assert "appear here once this paper is indexed" in page.text
    assert len(statements) <= ANONYMOUS_STATEMENTS - 7, "\n".join(statements)


def test_a_vote_shows_on_the_shared_paper_page(store: Store, site: TestClient) -> None:
    load_demo_if_empty(store)
    before = upvotes_shown(site.get(f"/papers/{PAPER}").text)
    write_vote(store, "ada")
    assert upvotes_shown(site.get(f"/papers/{PAPER}").text) == before + 1


def test_the_cache_holds_pages_within_its_budget(store: Store, tmp_path: Path) -> None:
    """0 MB keeps nothing: every request reads the page's data again."""
    load_demo_if_empty(store)
    with TestClient(create_app(Settings(data_dir=tmp_path, page_cache_mb=0), store)) as client:
        client.get(f"/papers/{PAPER}")
        with counted_statements(store) as statements:
            client.get(f"/papers/{PAPER}")
    assert len(statements) > 1


def test_a_vote_empties_only_the_pages_that_show_its_paper(
    store: Store, site: TestClient, sign_in: Callable[..., User]
) -> None:
    """A paper's page and its day's list show the vote at once; another day's list and
    another paper's page stay cached (one more small query says so), and no write but the
    vote's own rows and its mark happens."""
    load_demo_if_empty(store)
    with store.read() as connection:
        other = next(iter(days_of(connection, date(2026, 6, 30), date(2026, 6, 30))))
    pages = [f"/papers/{PAPER}", "/papers/date/2026-07-01"]
    pages += [f"/papers/{other}", "/papers/month/2026-06"]
    with TestClient(site.app) as voter:
        sign_in(voter, "ada")
        before = {path: site.get(path).text for path in pages}
        with store.read() as connection:
            data_before = versions(connection).data
        with counted_statements(store) as statements:
            voted = voter.post(f"/papers/{PAPER}/vote", headers=as_script(voter))
    assert voted.is_success
    writes = {" ".join(s.split()[:3]) for s in statements if not s.lstrip().startswith("SELECT")}
    assert writes <= {
        "INSERT INTO votes",
        "UPDATE data_version SET",
        "INSERT INTO vote_marks",
        "DELETE FROM vote_marks",
        "INSERT INTO rate_limit_hits",  # the rate limits' own bookkeeping
        "DELETE FROM rate_limit_hits",
    }, writes
    with store.read() as connection:
        assert versions(connection).data == data_before
    for path in pages[:2]:
        assert upvotes_shown(site.get(path).text) == upvotes_shown(before[path]) + 1
    for path in pages[2:]:
        with counted_statements(store) as statements:
            assert site.get(path).text == before[path]
        assert len(statements) == 2, statements  # the versions, then the marks since the page
        with counted_statements(store) as statements:
            site.get(path)
        assert len(statements) == 1  # kept again as of the vote
