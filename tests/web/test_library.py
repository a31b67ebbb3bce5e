"""A reader's library on the site: Save and Not interested in place on lists and paper
pages (plain forms), tag pages and their JSON twins, the private Atom feed that only its
secret opens, imports and exports; another reader's library is never readable."""

from __future__ import annotations

from collections.abc import Callable

import feedparser
from fastapi.testclient import TestClient

from dailypapers.config import Settings
from dailypapers.demo import load_demo_if_empty
from dailypapers.library.formats import parse_library
from dailypapers.models import User
from dailypapers.storage import Store
from dailypapers.web import create_app
from tests.conftest import shared
from tests.fake_http import fake_arxiv_api, serving
from tests.web.conftest import csrf

DAY = "/papers/date/2026-07-01"


def top_ids(site: TestClient, count: int) -> list[str]:
    return [e["paper"]["id"] for e in site.get(f"{DAY}.json").json()["entries"][:count]]


def post(site: TestClient, path: str, back: str = DAY, **form: str) -> None:
    response = site.post(
        path,
        data={"csrf_token": csrf(site), **form},
        headers={"Referer": f"http://testserver{back}"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == back


def test_saving_from_a_list_and_a_paper_page_fills_a_tag(
    store: Store, site: TestClient, sign_in: Callable[..., User]
) -> None:
    load_demo_if_empty(store)
    sign_in(site)
    first, second, third, dull = top_ids(site, 4)
    post(site, f"/papers/{first}/save", f"/papers/{first}", tag="diffusion")
    for paper_id in (second, third):  # a list's Save goes to the tag saved into last
        post(site, f"/papers/{paper_id}/save")
    post(site, f"/papers/{dull}/not-interested")

    listed = site.get(f"{DAY}.json").json()
    ids = [e["paper"]["id"] for e in listed["entries"]]
    assert dull not in ids and listed["total"] == 299
    assert [e["saved"] for e in listed["entries"][:3]] == [["diffusion"]] * 3
    html = site.get(DAY).text
    assert html.count('aria-pressed="true">Saved in diffusion') == 3

    library = site.get("/library.json").json()
    assert library["current_tag"] == "diffusion"
    (tag,) = library["tags"]
    assert (tag["name"], tag["papers"]) == ("diffusion", 3)
    page = site.get(tag["page"] + ".json").json()
    assert sorted(e["paper"]["id"] for e in page["entries"]) == sorted([first, second, third])

    anonymous = TestClient(site.app)
    feed = feedparser.parse(anonymous.get(tag["feed"]).content)
    assert sorted(e.id.rsplit("/", 1)[-1] for e in feed.entries) == sorted([first, second, third])
    assert anonymous.get("/library.json").status_code == 401
    assert anonymous.get(tag["page"] + ".json").status_code == 401
    assert anonymous.get("/feeds/library/not-the-secret.atom").status_code == 404

    post(site, f"/papers/{second}/save?action=unsave")
    assert site.get("/library.json").json()["tags"][0]["papers"] == 2
    post(site, f"/papers/{dull}/not-interested?action=clear")
    assert site.get(f"{DAY}.json").json()["total"] == 300


def test_another_readers_library_stays_theirs(
    store: Store, site: TestClient, sign_in: Callable[..., User]
) -> None:
    load_demo_if_empty(store)
    sign_in(site, "ada")
    (paper_id,) = top_ids(site, 1)
    post(site, f"/papers/{paper_id}/save", tag="secret project")
    other = TestClient(site.app)
    sign_in(other, "bob")
    assert other.get("/library.json").json()["tags"] == []
    assert other.get("/library/tags/secret%20project.json").status_code == 404
    assert other.get(f"{DAY}.json").json()["entries"][0]["saved"] == []


def test_import_and_export_on_the_site(
    store: Store, site: TestClient, sign_in: Callable[..., User]
) -> None:
    load_demo_if_empty(store)
    sign_in(site)
    ids = top_ids(site, 3)
    text = "\n".join([*ids, "not an id", "# note"]) + "\n"
    response = site.post(
        "/library/import",
        data={"csrf_token": csrf(site), "tag": "to read"},
        files={"file": ("ids.txt", text.encode(), "text/plain")},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["added"], report["skipped"]) == (
        3,
        ["line 4: 'not an id' is not an arXiv id or URL"],
    )
    exported = site.get("/library/export.bib?tag=to%20read")
    assert exported.headers["content-disposition"] == 'attachment; filename="library.bib"'
    assert sorted(parse_library(exported.text).ids) == sorted(ids)
    lines = site.get("/library/export.jsonl").text.splitlines()
    assert len(lines) == 3 and '"tags":["to read"]' in lines[0]

    zotero = shared("fixtures/libraries/zotero.bib").read_bytes()
    with serving(fake_arxiv_api) as arxiv:  # it knows none of them
        settings = Settings(arxiv_api_url=arxiv.url, polite_delay=0, http_retries=1)
        reader = TestClient(create_app(settings, store), cookies=site.cookies)
        html = reader.post(
            "/library/import",
            data={"csrf_token": csrf(reader), "tag": "zotero"},
            files={"file": ("zotero.bib", zotero, "application/x-bibtex")},
        ).text
    assert "1 paper added (0 were there already, 0 fetched from arXiv); 10 skipped." in html
    assert "line 85: @book{goodfellow_deep_2016 names no arXiv paper" in html
    assert "line 1: 2510.19964: arXiv has no such paper" in html


def test_hostile_library_input_is_a_4xx(
    store: Store, site: TestClient, sign_in: Callable[..., User]
) -> None:
    load_demo_if_empty(store)
    sign_in(site)
    (paper_id,) = top_ids(site, 1)
    token = csrf(site)
    json = {"Accept": "application/json"}
    for path, data in (
        (f"/papers/{paper_id}/save", {"tag": "x" * 65}),
        (f"/papers/{paper_id}/save", {"tag": "bad\x00tag"}),
        ("/papers/2401.99999/save", {}),
        (f"/papers/{paper_id}/save?action=burn", {}),
    ):
        response = site.post(path, data={"csrf_token": token, **data}, headers=json)
        assert 400 <= response.status_code < 500, (path, data, response.text)
    assert site.post(f"/papers/{paper_id}/save", data={}).status_code == 403  # no CSRF token
    binary = site.post(
        "/library/import",
        data={"csrf_token": token},
        files={"file": ("x.bib", b"\xff\xfe\x00", "application/octet-stream")},
        headers=json,
    )
    assert binary.status_code == 400 and binary.json()["field"] == "file"
    huge = site.post(
        "/library/import",
        data={"csrf_token": token},
        files={"file": ("x.txt", b"2401.00001\n" * 1_000_000, "text/plain")},
        headers=json,
    )
    assert huge.status_code == 413
    signed_out = TestClient(site.app)
    response = signed_out.post(
        f"/papers/{paper_id}/save",
        data={"csrf_token": csrf(signed_out)},
        headers={"Referer": f"http://testserver{DAY}"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"].startswith("/login?")
