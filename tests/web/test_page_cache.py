"""The daily page is cached for anonymous readers, and every write shows on the next request."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import event

from dailypapers.config import Settings
from dailypapers.demo import load_demo_if_empty
from dailypapers.storage import Store
from dailypapers.storage.store import versions
from dailypapers.storage.users import create_user
from dailypapers.storage.votes import add_vote
from dailypapers.web import create_app
from tests.web.conftest import csrf

PAPER = "2606.32040"  # on the demo's newest day, 2026-07-01


def upvotes_shown(page: str, paper_id: str = PAPER) -> int:
    found = re.search(rf'<span class="count" data-paper="{re.escape(paper_id)}">(\d+)</span>', page)
    assert found, f"{paper_id} is not on the page"
    return int(found[1])


def tokens_in(page: str) -> set[str]:
    return set(re.findall(r'name="csrf_token" value="([^"]+)"', page))


@contextmanager
def counted_statements(store: Store) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(store.engine, "before_cursor_execute", count)


def test_every_transaction_moves_the_version_on(store: Store) -> None:
    with store.read() as connection:
        before = versions(connection).data
    with store.transaction() as connection:
        create_user(connection, "ada", "unused", datetime.now(UTC), False)
    with store.transaction():
        pass  # what a transaction did is not looked at: committing is enough
    with store.read() as connection:
        assert versions(connection).data == before + 2


def test_a_repeated_anonymous_page_costs_one_query(store: Store, site: TestClient) -> None:
    load_demo_if_empty(store)
    first = site.get("/")
    with counted_statements(store) as statements:
        again = site.get("/")
    assert len(statements) == 1 and "data_version" in statements[0]
    assert again.status_code == 200 and again.text == first.text
    assert again.headers["link"] == first.headers["link"]
    assert again.headers["content-type"] == "text/html; charset=utf-8"


def test_each_reader_gets_their_own_csrf_token(store: Store, site: TestClient) -> None:
    load_demo_if_empty(store)
    site.get("/")
    with TestClient(site.app) as other:
        page = other.get("/")
        assert tokens_in(page.text) == {other.cookies["dp_csrf"]}
        assert "dp_csrf=" in page.headers["set-cookie"]
    assert other.cookies["dp_csrf"] != site.cookies["dp_csrf"]
    assert "set-cookie" not in site.get("/").headers  # the cookie is set once


def test_a_cached_page_is_the_page_rendered_afresh(store: Store, site: TestClient) -> None:
    load_demo_if_empty(store)
    site.get("/papers?date=2026-06-30&page=2")
    cached = site.get("/papers?date=2026-06-30&page=2")
    with TestClient(create_app(Settings(), store)) as fresh:
        fresh.cookies.set("dp_csrf", site.cookies["dp_csrf"])
        assert fresh.get("/papers?date=2026-06-30&page=2").text == cached.text


def write_vote(store: Store, username: str) -> None:
    """A vote from elsewhere (another worker process, a script): not through this app."""
    with store.transaction() as connection:
        user = create_user(connection, username, "unused", datetime.now(UTC), False)
        add_vote(connection, user.id, PAPER, datetime.now(UTC))


def test_a_vote_shows_on_the_next_request(store: Store, site: TestClient) -> None:
    load_demo_if_empty(store)
    before = upvotes_shown(site.get("/").text)
    write_vote(store, "ada")
    assert upvotes_shown(site.get("/").text) == before + 1
    write_vote(store, "grace")
    assert upvotes_shown(site.get("/").text) == before + 2


def test_signed_in_readers_see_their_own_votes(
    store: Store, site: TestClient, sign_in: Callable[..., object]
) -> None:
    load_demo_if_empty(store)
    site.get("/")  # cached for anonymous readers
    sign_in(site, "ada")
    json_script = {"X-CSRF-Token": csrf(site), "Accept": "application/json"}
    voted = site.post(f"/papers/{PAPER}/vote", headers=json_script)
    assert voted.status_code == 200 and voted.json()["voted"]
    page = site.get("/").text
    assert f'<li class="entry" id="p-{PAPER}">' in page
    assert re.search(rf'action="/papers/{PAPER}/vote" class="vote voted"', page)


def test_a_hostile_csrf_cookie_neither_poisons_nor_escapes(store: Store, site: TestClient) -> None:
    """A client picks its own cookie: one the site did not sign is replaced, so no text of
    the page gets swapped for it, nor markup put into the page."""
    load_demo_if_empty(store)
    assert site.get("/").text.count("dailypapers") > 1  # kept: its token is one the site made
    for cookie in ("dailypapers", '"><script>alert(1)</script>', site.cookies["dp_csrf"][:31]):
        for _ in range(2):  # the first may be kept; the second would then be from the cache
            with TestClient(site.app, cookies={"dp_csrf": cookie}) as client:
                page = client.get("/")
                assert page.cookies["dp_csrf"] != cookie  # a cookie the site did not sign
                assert tokens_in(page.text) == {page.cookies["dp_csrf"]}
            assert "<script>alert(1)</script>" not in page.text
            assert page.text.count("dailypapers") == site.get("/").text.count("dailypapers")
