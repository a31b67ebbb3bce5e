"""Comments: threads, editing and deleting one's own, admins hiding comments and papers, and
hostile or oversized input."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from dailypapers.models import User
from dailypapers.storage import Store
from dailypapers.storage.upserts import upsert_papers
from dailypapers.storage.users import add_api_token
from dailypapers.web.deps import token_hash
from tests.factories import make_paper
from tests.web.conftest import csrf

DAY = date(2024, 1, 3)
JSON = {"Accept": "application/json"}


@pytest.fixture
def paper_ids(store: Store) -> list[str]:
    """Two papers of DAY, both in cs.LG by Ada Lovelace."""
    papers = [make_paper(), make_paper()]
    with store.transaction() as connection:
        upsert_papers(connection, papers)
    return [paper.id for paper in papers]


@pytest.fixture
def client_of(site: TestClient, sign_in: Callable[..., User]) -> Callable[..., TestClient]:
    """A browser of its own, signed in as `username`."""

    def make(username: str, is_admin: bool = False) -> TestClient:
        client = TestClient(site.app)
        sign_in(client, username, is_admin)
        return client

    return make


def post(client: TestClient, path: str, headers: dict[str, str] | None = None, **fields: str):
    return client.post(
        path,
        data={"csrf_token": csrf(client), **fields},
        headers=headers or {},
        follow_redirects=False,
    )


def comment(client: TestClient, paper_id: str, body: str, parent_id: int | None = None) -> int:
    """Post like a browser does; the new comment's id, from the redirect."""
    fields = {"body": body} | ({"parent_id": str(parent_id)} if parent_id else {})
    answer = post(client, f"/papers/{paper_id}/comments", **fields)
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(f"/papers/{paper_id}#c-")
    return int(location.rsplit("-", 1)[1])


def thread(client: TestClient, paper_id: str) -> list[dict]:
    return client.get(f"/papers/{paper_id}.json").json()["comments"]


def error_of(answer: Response) -> tuple[int, dict]:
    return answer.status_code, answer.json()


def test_replies_nest_under_their_parent_at_any_depth(
    site: TestClient, client_of, paper_ids: list[str]
) -> None:
    paper_id = paper_ids[0]
    ada, bob = client_of("ada"), client_of("bob")
    first = comment(ada, paper_id, "First!")
    reply = comment(bob, paper_id, "A reply", parent_id=first)
    second = comment(ada, paper_id, "Another topic")
    deeper = comment(ada, paper_id, "Deeper", parent_id=reply)
    late_reply = comment(bob, paper_id, "Late reply to the first", parent_id=first)
    deepest = comment(bob, paper_id, "Deepest", parent_id=deeper)

    comments = thread(site, paper_id)
    assert [(c["id"], c["parent_id"], c["depth"], c["author"]) for c in comments] == [
        (first, None, 0, "ada"),
        (reply, first, 1, "bob"),
        (deeper, reply, 2, "ada"),
        (deepest, deeper, 3, "bob"),
        (late_reply, first, 1, "bob"),
        (second, None, 0, "ada"),
    ]
    assert comments[0]["html"] == "<p>First!</p>\n" and comments[0]["body"] == "First!"
    assert thread(site, paper_ids[1]) == []

    page = site.get(f"/papers/{paper_id}").text
    shown = re.findall(r'<article class="comment depth-(\d)" id="c-(\d+)">', page)
    assert shown == [
        ("0", str(first)),
        ("1", str(reply)),
        ("2", str(deeper)),
        ("3", str(deepest)),
        ("1", str(late_reply)),
        ("0", str(second)),
    ]
    listed = site.get(f"/papers.json?date={DAY}").json()["entries"]
    assert {e["paper"]["id"]: e["comments"] for e in listed} == {paper_id: 6, paper_ids[1]: 0}


def test_json_clients_get_the_new_comment(
    site: TestClient, client_of, store: Store, paper_ids: list[str]
) -> None:
    ada = client_of("ada")
    answer = post(ada, f"/papers/{paper_ids[0]}/comments", headers=JSON, body="  *Nice*  ")
    assert answer.status_code == 201
    made = answer.json()
    assert (made["author"], made["body"], made["html"], made["depth"], made["edited_at"]) == (
        "ada",
        "*Nice*",
        "<p><em>Nice</em></p>\n",
        0,
        None,
    )

    token = secrets.token_urlsafe(16)
    with store.transaction() as connection:
        add_api_token(connection, token_hash(token), 1, "script", datetime.now(UTC))
    script = TestClient(site.app, headers={"Authorization": f"Bearer {token}"})
    answer = script.post(
        f"/papers/{paper_ids[0]}/comments",
        data={"body": "From a script", "parent_id": str(made["id"])},
    )
    assert answer.status_code == 201
    assert (answer.json()["parent_id"], answer.json()["depth"]) == (made["id"], 1)


def test_edit_and_delete_only_ones_own(site: TestClient, client_of, paper_ids: list[str]) -> None:
    paper_id = paper_ids[0]
    ada, bob = client_of("ada"), client_of("bob")
    mine = comment(ada, paper_id, "Tpyo")
    reply = comment(bob, paper_id, "You have a typo", parent_id=mine)

    assert post(ada, f"/comments/{mine}/edit", body="Typo **fixed**").status_code == 303
    edited = thread(site, paper_id)[0]
    assert (edited["body"], edited["html"]) == (
        "Typo **fixed**",
        "<p>Typo <strong>fixed</strong></p>\n",
    )
    assert edited["edited_at"] is not None

    refused = post(bob, f"/comments/{mine}/edit", headers=JSON, body="Hijacked")
    assert error_of(refused) == (403, {"error": "you can only edit your own comments"})
    refused = post(bob, f"/comments/{mine}/delete", headers=JSON)
    assert error_of(refused) == (403, {"error": "you can only delete your own comments"})
    assert thread(site, paper_id)[0]["body"] == "Typo **fixed**"

    deleted = post(ada, f"/comments/{mine}/delete", headers=JSON)
    assert deleted.status_code == 200
    assert (deleted.json()["deleted"], deleted.json()["body"], deleted.json()["html"]) == (
        True,
        None,
        None,
    )
    comments = thread(site, paper_id)
    assert [(c["id"], c["deleted"], c["body"]) for c in comments] == [
        (mine, True, None),
        (reply, False, "You have a typo"),
    ]
    assert "[removed]" in site.get(f"/papers/{paper_id}").text
    gone = post(ada, f"/comments/{mine}/edit", headers=JSON, body="Back")
    assert error_of(gone) == (410, {"error": f"comment {mine} was removed"})
    no_reply = post(
        bob, f"/papers/{paper_id}/comments", headers=JSON, body="?", parent_id=str(mine)
    )
    assert error_of(no_reply) == (
        400,
        {
            "error": f"parent_id: comment {mine} was removed and takes no replies",
            "field": "parent_id",
        },
    )


def test_the_page_offers_the_forms_each_viewer_may_use(
    site: TestClient, client_of, paper_ids: list[str]
) -> None:
    paper_id = paper_ids[0]
    ada, bob, root = client_of("ada"), client_of("bob"), client_of("root", is_admin=True)
    mine = comment(ada, paper_id, "Mine")

    anonymous = site.get(f"/papers/{paper_id}").text
    assert 'name="body"' not in anonymous and "to comment." in anonymous
    assert f'href="/login?next=/papers/{paper_id}"' in anonymous

    own = ada.get(f"/papers/{paper_id}").text
    assert f'name="csrf_token" value="{csrf(ada)}"' in own
    assert own.count('<textarea name="body"') == 3  # reply, edit, new comment
    assert f'action="/comments/{mine}/edit"' in own and f'action="/comments/{mine}/delete"' in own
    assert f'<input type="hidden" name="parent_id" value="{mine}">' in own
    assert "<summary>reply</summary>" in own and f'action="/comments/{mine}/hide"' not in own

    other = bob.get(f"/papers/{paper_id}").text
    assert other.count('<textarea name="body"') == 2
    assert f'action="/comments/{mine}/edit"' not in other

    admin = root.get(f"/papers/{paper_id}").text
    assert f'action="/comments/{mine}/hide"' in admin
    assert f'action="/papers/{paper_id}/hide"' in admin


def test_admins_hide_a_comment(site: TestClient, client_of, paper_ids: list[str]) -> None:
    paper_id = paper_ids[0]
    ada, root = client_of("ada"), client_of("root", is_admin=True)
    spam = comment(ada, paper_id, "Buy now")

    refused = post(ada, f"/comments/{spam}/hide", headers=JSON)
    assert error_of(refused) == (403, {"error": "only admins may do that"})
    hidden = post(root, f"/comments/{spam}/hide")
    assert (hidden.status_code, hidden.headers["location"]) == (303, f"/papers/{paper_id}#c-{spam}")

    (shown,) = thread(site, paper_id)
    assert (shown["deleted"], shown["body"], shown["html"]) == (True, None, None)
    assert "Buy now" not in site.get(f"/papers/{paper_id}").text
    assert site.get(f"/papers.json?date={DAY}").json()["entries"][0]["comments"] == 0
    refused = post(ada, f"/comments/{spam}/edit", headers=JSON, body="Buy later")
    assert error_of(refused) == (410, {"error": f"comment {spam} was removed"})


def test_admins_hide_a_paper_from_every_list_and_page(
    site: TestClient, client_of, paper_ids: list[str]
) -> None:
    hidden_id, kept_id = paper_ids
    ada, root = client_of("ada"), client_of("root", is_admin=True)
    assert error_of(post(ada, f"/papers/{hidden_id}/hide", headers=JSON))[0] == 403

    answer = post(root, f"/papers/{hidden_id}/hide", headers=JSON)
    assert error_of(answer) == (200, {"paper_id": hidden_id, "hidden": True})
    for client in (site, ada):
        assert client.get(f"/papers/{hidden_id}").status_code == 404
        assert error_of(client.get(f"/papers/{hidden_id}.json")) == (
            404,
            {"error": f"no paper {hidden_id}"},
        )
    for path in (
        f"/papers.json?date={DAY}",
        "/categories/cs.LG.json",
        "/authors/Ada Lovelace.json",
    ):
        assert [e["paper"]["id"] for e in site.get(path).json()["entries"]] == [kept_id], path
    refused = post(ada, f"/papers/{hidden_id}/comments", headers=JSON, body="Hello?")
    assert error_of(refused) == (404, {"error": f"no paper {hidden_id}"})
    assert post(ada, f"/papers/{hidden_id}/vote", headers=JSON).status_code == 404

    seen_by_admin = root.get(f"/papers/{hidden_id}")
    assert seen_by_admin.status_code == 200
    assert "Hidden by an admin" in seen_by_admin.text
    assert f'action="/papers/{hidden_id}/unhide"' in seen_by_admin.text
    assert root.get(f"/papers/{hidden_id}.json").json()["hidden"] is True

    shown = post(root, f"/papers/{hidden_id}/unhide")
    assert (shown.status_code, shown.headers["location"]) == (303, f"/papers/{hidden_id}")
    assert site.get(f"/papers/{hidden_id}.json").json()["hidden"] is False
    assert site.get(f"/papers.json?date={DAY}").json()["total"] == 2
    assert error_of(post(root, "/papers/2401.99999/hide", headers=JSON)) == (
        404,
        {"error": "no paper 2401.99999"},
    )


HOSTILE = [
    ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"),
    ("<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>\n"),
    ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>\n"),
    ("[x](JaVaScRiPt:alert(1))", "<p>[x](JaVaScRiPt:alert(1))</p>\n"),
    ("[x](&#106;avascript:alert(1))", "<p>[x](javascript:alert(1))</p>\n"),
    (
        '<a href="https://e.com" onclick="alert(1)">hi</a>',
        '<p>&lt;a href="https://e.com" onclick="alert(1)"&gt;hi&lt;/a&gt;</p>\n',
    ),
    (
        "<iframe src=https://e.com></iframe>",
        "<p>&lt;iframe src=https://e.com&gt;&lt;/iframe&gt;</p>\n",
    ),
    ("<style>*{display:none}</style>", "<p>&lt;style&gt;*{display:none}&lt;/style&gt;</p>\n"),
    (
        "![pixel](https://tracker.example/p.png)",
        '<p>!<a href="https://tracker.example/p.png" rel="nofollow noopener noreferrer">'
        "pixel</a></p>\n",
    ),
    (
        '[paper](https://arxiv.org/abs/2401.00001 "the paper") ~~old~~',
        '<p><a href="https://arxiv.org/abs/2401.00001" title="the paper" '
        'rel="nofollow noopener noreferrer">paper</a> <s>old</s></p>\n',
    ),
]


@pytest.mark.parametrize(("body", "html"), HOSTILE)
def test_hostile_markup_is_neutralised(
    site: TestClient, client_of, paper_ids: list[str], body: str, html: str
) -> None:
    ada = client_of("ada")
    made = post(ada, f"/papers/{paper_ids[0]}/comments", headers=JSON, body=body).json()
    assert (made["body"], made["html"]) == (body, html)
    page = site.get(f"/papers/{paper_ids[0]}").text
    comment_html = page.split('<div class="comment-body">', 1)[1].split("</div>", 1)[0]
    assert comment_html == html
    for tag, attributes in elements(comment_html):
        assert tag in {"p", "a", "s"}
        assert not [name for name, _ in attributes if name.startswith("on")]
        assert all(value.startswith("https://") for name, value in attributes if name == "href")


def elements(html: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The tags of `html` with their attributes, as a browser's parser reads them."""
    found: list[tuple[str, list[tuple[str, str]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, [(name, value or "") for name, value in attrs]))

    Collector().feed(html)
    return found


def test_bodies_are_checked(site: TestClient, client_of, paper_ids: list[str]) -> None:
    paper_id = paper_ids[0]
    ada, other_paper = client_of("ada"), paper_ids[1]
    path = f"/papers/{paper_id}/comments"
    assert error_of(post(ada, path, headers=JSON, body=" \n ")) == (
        400,
        {"error": "body: write something first", "field": "body"},
    )
    assert error_of(post(ada, path, headers=JSON)) == (
        400,
        {"error": "body: write something first", "field": "body"},
    )
    assert error_of(post(ada, path, headers=JSON, body="x" * 10_001)) == (
        400,
        {"error": "body: at most 10,000 characters, not 10,001", "field": "body"},
    )
    assert error_of(post(ada, path, headers=JSON, body="a\x00b"))[0] == 400
    longest = post(ada, path, headers=JSON, body="é" * 9_998 + "\r\nz")
    assert longest.status_code == 201 and longest.json()["body"] == "é" * 9_998 + "\nz"
    too_big = post(ada, path, headers=JSON, body="x" * 70_000)
    assert error_of(too_big) == (413, {"error": "request body too large"})

    foreign = comment(ada, other_paper, "On the other paper")
    assert error_of(post(ada, path, headers=JSON, body="Re", parent_id=str(foreign))) == (
        400,
        {"error": f"parent_id: no comment {foreign} on paper {paper_id}", "field": "parent_id"},
    )
    for parent in ("x", "0", "99999999999999999999"):
        answer = post(ada, path, headers=JSON, body="Re", parent_id=parent)
        assert (answer.status_code, answer.json()["field"]) == (400, "parent_id"), parent
    for comment_id in ("0", "abc", "99999999999999999999"):
        assert post(ada, f"/comments/{comment_id}/edit", body="x").status_code == 400
    assert error_of(post(ada, "/comments/12345/edit", headers=JSON, body="x")) == (
        404,
        {"error": "no comment 12345"},
    )
    assert error_of(post(ada, "/papers/2401.99999/comments", headers=JSON, body="x")) == (
        404,
        {"error": "no paper 2401.99999"},
    )
    assert thread(site, paper_id)[0]["body"] == "é" * 9_998 + "\nz"


def test_signed_out_or_forged_posts_are_refused(
    site: TestClient, client_of, paper_ids: list[str]
) -> None:
    path = f"/papers/{paper_ids[0]}/comments"
    assert error_of(post(site, path, headers=JSON, body="Hi")) == (401, {"error": "sign in first"})
    ada = client_of("ada")
    forged = ada.post(path, data={"body": "Hi", "csrf_token": "forged"}, headers=JSON)
    assert forged.status_code == 403
    assert thread(site, paper_ids[0]) == []
