"""Voting while signed out keeps the vote: the log-in (or sign-up) it leads to records it."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from dailypapers.accounts import sign_up_and_log_in
from dailypapers.models import Paper
from dailypapers.storage import Store
from dailypapers.storage.papers import set_paper_hidden
from dailypapers.storage.upserts import upsert_papers
from tests.factories import make_paper
from tests.web.conftest import csrf

PASSWORD = "correct horse battery"


@pytest.fixture
def paper(store: Store) -> Paper:
    paper = make_paper(title="Sparse attention for $O(n)$ memory")
    with store.transaction() as connection:
        upsert_papers(connection, [paper])
    return paper


def _vote_signed_out(site: TestClient, paper_id: str, **headers: str):
    return site.post(
        f"/papers/{paper_id}/vote",
        data={"csrf_token": csrf(site)},
        headers={"Referer": "http://testserver/papers/week/2024-W01?page=2", **headers},
        follow_redirects=False,
    )


def _hidden_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))


def _upvotes(site: TestClient, paper_id: str) -> tuple[int, bool]:
    entry = site.get(f"/papers/{paper_id}.json").json()["entry"]
    return entry["upvotes"], entry["voted"]


def test_the_vote_leads_to_a_login_that_records_it(
    store: Store, site: TestClient, paper: Paper
) -> None:
    sign_up_and_log_in(store, "ada", PASSWORD)
    asked = _vote_signed_out(site, paper.id)
    assert asked.status_code == 303
    login_url = urlsplit(asked.headers["location"])
    assert login_url.path == "/login"
    assert parse_qs(login_url.query) == {
        "next": [f"/papers/week/2024-W01?page=2#p-{paper.id}"],
        "vote": [paper.id],
    }

    form = site.get(asked.headers["location"])
    assert "Log in to upvote «Sparse attention for" in form.text
    assert "<math" in form.text  # the title as the site shows it
    fields = _hidden_fields(form.text)
    assert fields["vote"] == paper.id
    assert fields["next"] == f"/papers/week/2024-W01?page=2#p-{paper.id}"
    signup_link = re.search(r'href="(/signup\?[^"]+)"', form.text)[1]  # type: ignore[index]
    assert parse_qs(urlsplit(signup_link.replace("&amp;", "&")).query)["vote"] == [paper.id]

    logged_in = site.post(
        "/login", data={**fields, "username": "ada", "password": PASSWORD}, follow_redirects=False
    )
    assert logged_in.status_code == 303
    assert logged_in.headers["location"] == f"/papers/week/2024-W01?page=2#p-{paper.id}"
    assert _upvotes(site, paper.id) == (1, True)

    # Logging in again with the same vote adds it (never a toggle): still one vote.
    site.post("/login", data={**fields, "username": "ada", "password": PASSWORD})
    assert _upvotes(site, paper.id) == (1, True)


def test_a_refused_login_keeps_the_vote_for_the_next_try(
    store: Store, site: TestClient, paper: Paper
) -> None:
    sign_up_and_log_in(store, "ada", PASSWORD)
    form = site.get("/login", params={"next": "/", "vote": paper.id})
    fields = _hidden_fields(form.text)
    refused = site.post("/login", data={**fields, "username": "ada", "password": "wrong one"})
    assert refused.status_code == 401
    assert _hidden_fields(refused.text)["vote"] == paper.id
    again = {**_hidden_fields(refused.text), "username": "ada", "password": PASSWORD}
    site.post("/login", data=again)
    assert _upvotes(site, paper.id) == (1, True)


def test_signing_up_records_the_vote(site: TestClient, paper: Paper) -> None:
    form = site.get("/signup", params={"next": f"/#p-{paper.id}", "vote": paper.id})
    assert "Sign up to upvote «Sparse attention for" in form.text
    fields = _hidden_fields(form.text)
    answer = site.post(
        "/signup",
        data={**fields, "username": "grace", "password": PASSWORD, "password_again": PASSWORD},
        follow_redirects=False,
    )
    assert (answer.status_code, answer.headers["location"]) == (303, f"/#p-{paper.id}")
    assert _upvotes(site, paper.id) == (1, True)


def test_json_clients_get_a_401_that_names_the_login(site: TestClient, paper: Paper) -> None:
    answer = _vote_signed_out(site, paper.id, Accept="application/json")
    assert answer.status_code == 401
    assert answer.json() == {"error": "sign in first"}
    assert parse_qs(urlsplit(answer.headers["x-login"]).query)["vote"] == [paper.id]


@pytest.mark.parametrize("vote", ["2401.99999", "../admin", "x" * 5000])
def test_an_unknown_paper_is_ignored_with_a_message(
    store: Store, site: TestClient, vote: str
) -> None:
    sign_up_and_log_in(store, "ada", PASSWORD)
    form = site.get("/login", params={"next": "/", "vote": vote})
    assert form.status_code == 200
    assert "not on this site: nothing is upvoted" in form.text
    assert "vote" not in _hidden_fields(form.text)
    answer = site.post(
        "/login",
        data={"csrf_token": csrf(site), "username": "ada", "password": PASSWORD, "vote": vote},
        follow_redirects=False,
    )
    assert (answer.status_code, answer.headers["location"]) == (303, "/")


def test_a_hidden_paper_is_not_upvoted(
    store: Store, site: TestClient, paper: Paper, sign_in: Callable
) -> None:
    sign_up_and_log_in(store, "ada", PASSWORD)
    with store.transaction() as connection:
        set_paper_hidden(connection, paper.id, True)
    form = site.get("/login", params={"vote": paper.id})
    assert "not on this site" in form.text and paper.title not in form.text
    site.post(
        "/login",
        data={"csrf_token": csrf(site), "username": "ada", "password": PASSWORD, "vote": paper.id},
    )
    with store.transaction() as connection:
        set_paper_hidden(connection, paper.id, False)
    assert _upvotes(site, paper.id) == (0, False)
