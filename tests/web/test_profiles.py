"""Members' profiles, their generated avatars, and the account's two switches."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

from dailypapers.models import Paper, Submission, User
from dailypapers.storage import Store
from dailypapers.storage.comments import add_comment, update_comment
from dailypapers.storage.papers import set_paper_hidden
from dailypapers.storage.upserts import upsert_papers, upsert_submissions
from dailypapers.storage.users import update_user
from dailypapers.storage.votes import add_vote
from dailypapers.web.avatars import identicon_svg
from tests.factories import make_paper
from tests.web.conftest import csrf

NOW = datetime(2024, 1, 5, 12, tzinfo=UTC)


@pytest.fixture
def papers(store: Store) -> list[Paper]:
    made = [make_paper(title=f"Paper about $\\alpha_{n}$") for n in range(3)]
    with store.transaction() as connection:
        upsert_papers(connection, made)
    return made


@pytest.fixture
def ada(store: Store, site: TestClient, sign_in: Callable[..., User], papers: list[Paper]) -> User:
    """Ada upvoted papers 0 then 1, submitted paper 2, and commented on papers 0 and 1."""
    user = sign_in(TestClient(site.app), "ada")
    with store.transaction() as connection:
        add_vote(connection, user.id, papers[0].id, NOW)
        add_vote(connection, user.id, papers[1].id, NOW + timedelta(hours=1))
        upsert_submissions(connection, [Submission(papers[2].id, NOW, "ada", 0, "local")])
        add_comment(connection, papers[0].id, user.id, "An **early** note", NOW)
        add_comment(connection, papers[1].id, user.id, "A later note", NOW + timedelta(hours=2))
        gone = add_comment(connection, papers[1].id, user.id, "Deleted", NOW + timedelta(hours=3))
        update_comment(connection, gone, deleted=True)
    return user


def test_a_profile_lists_upvotes_submissions_and_comments_newest_first(
    site: TestClient, ada: User, papers: list[Paper]
) -> None:
    data = site.get("/users/ada.json").json()
    assert [p["id"] for p in data["upvotes"]] == [papers[1].id, papers[0].id]
    assert [p["id"] for p in data["submissions"]] == [papers[2].id]
    assert [(c["paper_id"], c["html"]) for c in data["comments"]] == [
        (papers[1].id, "<p>A later note</p>\n"),
        (papers[0].id, "<p>An <strong>early</strong> note</p>\n"),
    ]
    assert data["avatar"] == "/users/ada/avatar.svg" and data["private_upvotes"] is False

    page = site.get("/users/ADA")  # names are matched in any case
    assert page.status_code == 200
    assert '<img class="avatar" src="/users/ada/avatar.svg"' in page.text
    assert f'href="/papers/{papers[1].id}#c-' in page.text and "<math" in page.text
    assert "Deleted" not in page.text


def test_private_upvotes_stay_private(store: Store, site: TestClient, ada: User) -> None:
    with store.transaction() as connection:
        update_user(connection, ada.id, private_upvotes=True)
    data = site.get("/users/ada.json").json()
    assert data["private_upvotes"] is True and data["upvotes"] == []
    assert "ada keeps their upvotes private." in site.get("/users/ada").text


def test_hidden_papers_and_unknown_or_banned_members(
    store: Store, site: TestClient, ada: User, papers: list[Paper]
) -> None:
    with store.transaction() as connection:
        set_paper_hidden(connection, papers[0].id, True)
    data = site.get("/users/ada.json").json()
    assert papers[0].id not in [p["id"] for p in data["upvotes"] + data["comments"]]
    for name in ("nobody", "x", "../admin", "a" * 500, "%00"):
        assert site.get(f"/users/{name}").status_code == 404, name
    with store.transaction() as connection:
        update_user(connection, ada.id, banned=True)
    assert site.get("/users/ada.json").json() == {"error": "no member of that name"}


def test_avatars_are_made_from_the_name_and_cacheable(site: TestClient) -> None:
    answer = site.get("/users/ada/avatar.svg")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/svg+xml"
    assert "max-age" in answer.headers["cache-control"]
    assert answer.text == identicon_svg("ada") == site.get("/users/Ada/avatar.svg").text
    svg = ElementTree.fromstring(answer.text)  # well-formed, and only shapes: no script, no link
    assert {element.tag.split("}")[1] for element in svg.iter()} <= {"svg", "g", "rect"}
    assert identicon_svg("bob") != identicon_svg("ada")
    assert site.get("/users/a%2Fb/avatar.svg").status_code == 404


def test_comments_show_their_authors_avatar(
    site: TestClient, sign_in: Callable[..., User], papers: list[Paper]
) -> None:
    sign_in(site, "grace")
    site.post(f"/papers/{papers[0].id}/comments", data={"csrf_token": csrf(site), "body": "Nice"})
    page = site.get(f"/papers/{papers[0].id}").text
    assert '<a href="/users/grace"><img class="avatar" src="/users/grace/avatar.svg"' in page


def test_the_account_switches(store: Store, site: TestClient, sign_in: Callable[..., User]) -> None:
    sign_in(site, "ada")
    account = site.get("/account").text
    assert re.search(r'name="reply_mails" checked', account)
    assert not re.search(r'name="private_upvotes" checked', account)
    refused = site.post("/account/preferences", data={"private_upvotes": "on"})
    assert refused.status_code == 403  # no CSRF token
    saved = site.post(
        "/account/preferences", data={"csrf_token": csrf(site), "private_upvotes": "on"}
    )
    assert saved.status_code == 200 and "Saved." in saved.text
    assert re.search(r'name="private_upvotes" checked', saved.text)
    assert not re.search(r'name="reply_mails" checked', saved.text)
    account_data = site.get("/account.json").json()
    assert (account_data["private_upvotes"], account_data["reply_mails"]) == (True, False)
    assert site.get("/users/ada.json").json()["private_upvotes"] is True
