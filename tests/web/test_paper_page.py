"""The paper page: comments right after the abstract, who upvoted, the links as one row, a
citation to copy, math drawn, views remembered, and refused comments shown again in place."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date

import pytest
from fastapi.testclient import TestClient

from dailypapers.library.citation import bibtex
from dailypapers.models import Paper, User
from dailypapers.storage import Store
from dailypapers.storage.upserts import upsert_papers
from dailypapers.storage.users import update_user
from dailypapers.storage.views import seen_papers
from dailypapers.storage.votes import add_vote
from tests.factories import make_paper
from tests.web.conftest import csrf

TITLE = r"Sorting in $\mathcal{O}(n)$ with {braces} & 100% effort"


@pytest.fixture
def paper(store: Store) -> Paper:
    paper = make_paper(
        title=TITLE,
        abstract=r"We bound it by $\alpha^2$. Code: https://github.com/ada/sorting.",
        authors=["Ada Lovelace", "Alan M. Turing"],
        categories=["cs.DS", "cs.LG"],
        doi="10.1000/xyz123",
        project_page="https://sorting.example.org",
        published=date(2024, 1, 2),
    )
    with store.transaction() as connection:
        upsert_papers(connection, [paper])
    return paper


@pytest.fixture
def client_of(site: TestClient, sign_in: Callable[..., User]) -> Callable[..., TestClient]:
    def make(username: str) -> TestClient:
        client = TestClient(site.app)
        sign_in(client, username)
        return client

    return make


def _post(client: TestClient, path: str, **fields: str):
    return client.post(path, data={"csrf_token": csrf(client), **fields}, follow_redirects=False)


def test_the_page_in_reading_order(site: TestClient, paper: Paper) -> None:
    page = site.get(f"/papers/{paper.id}").text
    order = [
        page.index(marker)
        for marker in ('class="links"', "<h2>Abstract", 'id="comments"', 'id="similar"')
    ]
    assert order == sorted(order)
    links = re.search(r'<nav class="links".*?</nav>', page, re.S)[0]  # type: ignore[index]
    hrefs = re.findall(r'href="([^"]+)"', links)
    assert hrefs == [
        f"https://arxiv.org/abs/{paper.id}",
        f"https://arxiv.org/pdf/{paper.id}",
        "https://doi.org/10.1000/xyz123",
        "https://github.com/ada/sorting",
        "https://sorting.example.org",
    ]
    # Title and abstract draw their formulas, keeping the TeX for copying.
    title = re.search(r"<h1>(.*?)</h1>", page, re.S)[1]  # type: ignore[index]
    assert "<math" in title and r"\mathcal{O}(n)" in html.unescape(title)
    abstract = re.search(r'<section class="abstract">(.*?)</section>', page, re.S)[1]  # type: ignore[index]
    assert "<math" in abstract and "$" not in abstract


def test_bibtex_on_the_page_and_as_a_file(site: TestClient, paper: Paper) -> None:
    entry = bibtex(paper)
    assert entry.startswith("@misc{lovelace2024sorting,\n")
    assert r"title = {Sorting in 𝒪(n) with \{braces\} \& 100\% effort}," in entry
    assert "author = {Ada Lovelace and Alan M. Turing}," in entry
    for line in (
        "year = {2024}",
        f"eprint = {{{paper.id}}}",
        "archivePrefix = {arXiv}",
        "primaryClass = {cs.DS}",
        f"url = {{https://arxiv.org/abs/{paper.id}}}",
    ):
        assert line in entry
    # Braces balance: no field ends early.
    assert entry.count("{") - entry.count(r"\{") == entry.count("}") - entry.count(r"\}")

    page = site.get(f"/papers/{paper.id}").text
    shown = re.search(r'<details class="citation">.*?<pre[^>]*>(.*?)</pre>', page, re.S)[1]  # type: ignore[index]
    assert html.unescape(shown) == entry
    assert f'href="/papers/{paper.id}.bib"' in page
    download = site.get(f"/papers/{paper.id}.bib")
    assert download.status_code == 200 and download.text == entry
    assert download.headers["content-type"].startswith("application/x-bibtex")
    assert (
        download.headers["content-disposition"] == 'attachment; filename="lovelace2024sorting.bib"'
    )
    assert site.get("/papers/2401.99999.bib").status_code == 404
    assert site.get(f"/papers/{paper.id}.json").json()["bibtex"] == entry


def test_upvoted_by_leaves_out_private_upvoters(
    store: Store, site: TestClient, paper: Paper, sign_in: Callable[..., User]
) -> None:
    users = [sign_in(TestClient(site.app), name) for name in ("ada", "bob", "eve")]
    with store.transaction() as connection:
        for user in users:
            add_vote(connection, user.id, paper.id, paper.versions[0].created)
        update_user(connection, users[2].id, private_upvotes=True)
    page = site.get(f"/papers/{paper.id}").text
    upvoters = re.search(r'<p class="meta upvoters">(.*?)</p>', page, re.S)[1]  # type: ignore[index]
    assert re.findall(r'href="(/users/[^"]+)"', upvoters) == ["/users/ada", "/users/bob"]
    assert 'src="/users/ada/avatar.svg"' in upvoters
    assert "eve" not in upvoters
    assert "and 1 other." in upvoters
    data = site.get(f"/papers/{paper.id}.json").json()
    assert sorted(data["upvoters"]) == ["ada", "bob"] and data["other_upvotes"] == 1


def test_a_signed_in_reader_opening_the_page_is_remembered(
    store: Store, site: TestClient, paper: Paper, sign_in: Callable[..., User]
) -> None:
    ada = sign_in(site)
    assert site.get(f"/papers/{paper.id}").status_code == 200
    with store.read() as connection:
        assert seen_papers(connection, ada.id, [paper.id]) == {paper.id}


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("   \n\t ", "Write something first."),
        ("x" * 10_001, "At most 10,000 characters, not 10,001."),
    ],
)
def test_a_refused_comment_shows_the_page_again_with_what_was_typed(
    site: TestClient, paper: Paper, client_of: Callable[..., TestClient], typed: str, reason: str
) -> None:
    ada = client_of("ada")
    answer = _post(ada, f"/papers/{paper.id}/comments", body=typed)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    form = re.search(r"<h3>Add a comment</h3>\s*<form.*?</form>", answer.text, re.S)[0]  # type: ignore[index]
    assert f'role="alert" id="new-comment-error">{reason}</p>' in form
    assert f'aria-describedby="new-comment-error" autofocus>{typed}</textarea>' in form
    assert "<h2>Abstract" in answer.text  # the page itself, not the error page
    assert ada.get(f"/papers/{paper.id}.json").json()["comments"] == []


def test_a_refused_reply_or_edit_opens_its_own_form(
    site: TestClient, paper: Paper, client_of: Callable[..., TestClient]
) -> None:
    ada = client_of("ada")
    posted = _post(ada, f"/papers/{paper.id}/comments", body="First!")
    comment_id = int(posted.headers["location"].rsplit("-", 1)[1])

    reply = _post(ada, f"/papers/{paper.id}/comments", body="  ", parent_id=str(comment_id))
    assert reply.status_code == 422
    opened = re.search(r"<details open><summary>reply</summary>(.*?)</details>", reply.text, re.S)
    assert opened and f'id="reply-{comment_id}-error">Write something first.' in opened[1]
    assert "new-comment-error" not in reply.text

    edit = _post(ada, f"/comments/{comment_id}/edit", body=" ")
    assert edit.status_code == 422
    opened = re.search(r"<details open><summary>edit</summary>(.*?)</details>", edit.text, re.S)
    assert opened and f'id="edit-{comment_id}-error">Write something first.' in opened[1]
    assert [c["body"] for c in ada.get(f"/papers/{paper.id}.json").json()["comments"]] == ["First!"]
