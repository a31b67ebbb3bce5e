"""Inputs that reach pages (issue 11, section 3): links and ids that come from data, names
that go into URLs and headers, and values that used to be 500s. Each comes in the way an
attacker would bring it: an import file, the CLI, a form."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

import orjson
import pytest
from fastapi.testclient import TestClient
from markdown_it import MarkdownIt

from dailypapers.config import Settings
from dailypapers.mail.subscriptions import Choices, add_confirmed, holder_payload
from dailypapers.mail.tokens import MANAGE, link_signer
from dailypapers.storage import Store
from dailypapers.storage.papers import get_paper
from dailypapers.storage.upserts import upsert_papers
from dailypapers.text import markdown_text, paper_path, path_segment, safe_url
from tests.factories import make_paper
from tests.web.conftest import csrf

DAY = "2024-01-03"
HOSTILE_ID = "../admin/users/SOMEONE/ban?x="
URL_ATTRIBUTE = re.compile(r'\b(?:href|action|src)="([^"]*)"')
UNSAFE_LINKS = [
    "javascript:alert(document.domain)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "//evil.example/no-scheme",
    "https:no-host",
]


def urls_in(page: str) -> list[str]:
    return [html.unescape(url) for url in URL_ATTRIBUTE.findall(page)]


def assert_only_http_or_local(page: str) -> None:
    """Every URL in the page is this site's (a path, a fragment) or an http(s) one."""
    for url in urls_in(page):
        scheme = urlsplit(url).scheme
        assert scheme in {"http", "https"} or (not scheme and url[:1] in "/#?"), url
    assert "<script>alert" not in page


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in records))
    return path


def test_only_http_links_from_an_import_become_links(
    dailypapers, site: TestClient, tmp_path: Path
) -> None:
    unsafe = [
        {
            "id": f"2401.{number:05d}",
            "title": f"Unsafe {number}",
            "listed": [DAY],
            "project_page": link,
            "github_repo": link,
            "doi": '10.1000/x"><script>alert(1)</script>',
        }
        for number, link in enumerate(UNSAFE_LINKS, start=1)
    ]
    safe = {"id": "2401.00099", "listed": [DAY], "project_page": "https://example.org/p?a=1&b=2"}
    result = dailypapers("ingest", "jsonl", write_jsonl(tmp_path / "p.jsonl", [*unsafe, safe]))
    assert result.exit_code == 0, result.output

    for record in unsafe:
        page = site.get(f"/papers/{record['id']}")
        assert page.status_code == 200
        assert_only_http_or_local(page.text)
        assert "project page" not in page.text
        assert "https://doi.org/10.1000/x%22%3E%3Cscript%3Ealert%281%29%3C/script%3E" in (
            urls_in(page.text)
        )
        twin = site.get(f"/papers/{record['id']}.json").json()["entry"]["paper"]
        assert (twin["project_page"], twin["github_repo"]) == (None, None)
        hf = site.get(f"/api/papers/{record['id']}").json()
        assert "projectPage" not in hf and "githubRepo" not in hf
    page = site.get("/papers/2401.00099")
    assert "https://example.org/p?a=1&b=2" in urls_in(page.text)


def test_only_http_links_from_a_hugging_face_import_become_links(
    dailypapers, site: TestClient, tmp_path: Path
) -> None:
    paper = {
        "id": "2606.00001",
        "title": "From the Hub",
        "authors": [{"name": "Ada Lovelace"}],
        "projectPage": "javascript:alert(document.domain)",
        "githubRepo": "javascript:alert(2)",
        "submittedOnDailyAt": "2026-06-12T00:00:00.000Z",
        "upvotes": 3,
    }
    path = tmp_path / "daily.json"
    path.write_text(json.dumps([{"paper": paper}]))
    assert dailypapers("ingest", "hf-daily", path).exit_code == 0
    page = site.get("/papers/2606.00001")
    assert page.status_code == 200 and "From the Hub" in page.text
    assert_only_http_or_local(page.text)
    assert "javascript:" not in page.text


def _snapshot(paper_id: str) -> dict:
    created = "Mon, 2 Apr 2007 19:18:42 GMT"
    return {"id": paper_id, "title": "T", "versions": [{"version": "v1", "created": created}]}


def _hf(paper_id: str) -> dict:
    return {"paper": {"id": paper_id, "title": "T"}}


BAD_IDS = [HOSTILE_ID, "2401.12345/../../x", "2401.12345v2", "2413.12345", "HEP-TH/9901001"]


@pytest.mark.parametrize("source", ["jsonl", "snapshot", "hf-daily"])
def test_an_id_outside_arxivs_grammar_is_a_skipped_reported_record(
    dailypapers, store: Store, tmp_path: Path, source: str
) -> None:
    good = ["2401.00001", "0704.0001", "hep-th/9901001"]
    ids = [*good, *BAD_IDS]
    if source == "jsonl":
        path = write_jsonl(tmp_path / "p.jsonl", [{"id": i} for i in ids])
    elif source == "snapshot":
        path = write_jsonl(tmp_path / "p.jsonl", [_snapshot(i) for i in ids])
    else:
        path = tmp_path / "daily.json"
        path.write_text(json.dumps([_hf(i) for i in ids]))
    result = dailypapers("ingest", source, path)
    assert result.exit_code == 0, result.output
    assert f"skipped {len(BAD_IDS)} malformed records" in result.output
    assert f"not an arXiv id: {HOSTILE_ID!r}" in result.output
    with store.read() as connection:
        assert all(get_paper(connection, i) for i in good)
        assert not any(get_paper(connection, i) for i in BAD_IDS)


def _write_source(tmp_path: Path, source: str, papers: list[dict]) -> Path:
    """A file for `ingest SOURCE` holding these papers (json, not orjson: it writes any int)."""
    if source == "hf-daily":
        path = tmp_path / "daily.json"
        path.write_text(json.dumps([{"paper": p} for p in papers]))
        return path
    records = [_snapshot(p["id"]) | p for p in papers] if source == "snapshot" else papers
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


@pytest.mark.parametrize("source", ["jsonl", "snapshot", "hf-daily"])
def test_a_record_with_a_nul_is_a_skipped_reported_record(
    dailypapers, store: Store, tmp_path: Path, source: str
) -> None:
    """PostgreSQL text cannot hold NUL: one such record failed the whole import there."""
    papers = [
        {"id": "2401.00001", "title": "Before"},
        {"id": "2401.00002", "title": "A NUL \x00 in the title"},
        {"id": "2401.00003", "title": "Spelled \\u0000, no NUL"},
    ]
    result = dailypapers("ingest", source, _write_source(tmp_path, source, papers))
    assert result.exit_code == 0, result.output
    assert "skipped 1 malformed record" in result.output
    assert "ValueError: contains a NUL character" in result.output
    with store.read() as connection:
        assert get_paper(connection, "2401.00002") is None
        assert get_paper(connection, "2401.00001").title == "Before"
        assert get_paper(connection, "2401.00003").title == "Spelled \\u0000, no NUL"


SUBMITTED = "2026-01-02T00:00:00Z"
# Per source: records whose numbers no integer column holds (one failed the whole import)
OUT_OF_RANGE = {
    "jsonl": [
        {"versions": [{"version": 2**40, "created": None}]},  # SQLite holds it, PostgreSQL not
        {"submission": {"submitted_at": SUBMITTED, "upvotes": 10**30}},  # neither
        {"submission": {"submitted_at": SUBMITTED, "upvotes": -1}},
    ],
    "snapshot": [{"versions": [{"version": "v99999999999", "created": "Mon, 2 Apr 2007"}]}],
    "hf-daily": [{"submittedOnDailyAt": SUBMITTED, "upvotes": 2**31}],
}


@pytest.mark.parametrize("source", ["jsonl", "snapshot", "hf-daily"])
def test_a_number_beyond_the_columns_is_a_skipped_reported_record(
    dailypapers, store: Store, tmp_path: Path, source: str
) -> None:
    bad = [
        {"id": f"2401.{n:05d}", "title": "Too big"} | fields
        for n, fields in enumerate(OUT_OF_RANGE[source], start=2)
    ]
    papers = [{"id": "2401.00001", "title": "Fine"}, *bad]
    result = dailypapers("ingest", source, _write_source(tmp_path, source, papers))
    assert result.exit_code == 0, result.output
    assert f"skipped {len(bad)} malformed record" in result.output
    assert "is not a number from 0 to 2,147,483,647" in result.output
    with store.read() as connection:
        assert get_paper(connection, "2401.00001").title == "Fine"
        assert not any(get_paper(connection, record["id"]) for record in bad)


# Per source: fields of the wrong type (each one failed the whole import with a traceback)
WRONG_TYPES = {
    "jsonl": [{"submission": {"submitted_at": SUBMITTED, "submitted_by": {"name": "x"}}}],
    "snapshot": [{"title": 5}, {"comments": ["a"]}],
    "hf-daily": [
        {"submittedOnDailyAt": SUBMITTED, "submittedOnDailyBy": "someone"},
        {"submittedOnDailyAt": SUBMITTED, "submittedOnDailyBy": {"name": {"a": 1}}},
        {"title": 5},
        {"projectPage": {"a": 1}},
        {"authors": [{"name": 5}]},
        {"publishedAt": 5},
    ],
}


@pytest.mark.parametrize("source", ["jsonl", "snapshot", "hf-daily"])
def test_a_field_of_the_wrong_type_is_a_skipped_reported_record(
    dailypapers, store: Store, tmp_path: Path, source: str
) -> None:
    bad = [
        {"id": f"2401.{n:05d}", "title": "Wrong"} | fields
        for n, fields in enumerate(WRONG_TYPES[source], start=2)
    ]
    papers = [{"id": "2401.00001", "title": "Fine"}, *bad]
    result = dailypapers("ingest", source, _write_source(tmp_path, source, papers))
    assert result.exit_code == 0, result.output
    assert f"skipped {len(bad)} malformed record" in result.output
    with store.read() as connection:
        assert get_paper(connection, "2401.00001").title == "Fine"
        assert not any(get_paper(connection, record["id"]) for record in bad)


def test_pages_quote_an_id_that_was_stored_unchecked(store: Store, site: TestClient) -> None:
    """Ids stored before the sources checked them, straight through the upsert path: every
    URL built from them stays one path segment under /papers/."""
    ids = [HOSTILE_ID, "..", "a b#c", "2401.00001"]
    with store.transaction() as connection:
        upsert_papers(connection, [make_paper(id=i, listed=[date(2024, 1, 3)]) for i in ids])
    page = site.get("/papers", params={"date": DAY})
    assert page.status_code == 200
    base = f"http://testserver/papers?date={DAY}"
    for url in urls_in(page.text):
        resolved = urlsplit(urljoin(base, url))
        assert "/admin" not in resolved.path and "?x=" not in url, url
    actions = re.findall(r'<form method="post" action="([^"]*)" class="vote', page.text)
    assert len(actions) == len(ids)
    for action in actions:
        path = urlsplit(urljoin(base, html.unescape(action))).path
        assert re.fullmatch(r"/papers/[^/?#]+/vote", path), action
    assert "/papers/..%2Fadmin%2Fusers%2FSOMEONE%2Fban%3Fx%3D/vote" in actions
    feed = site.get("/feeds/daily.atom").text
    assert "/papers/..%2Fadmin%2Fusers%2FSOMEONE%2Fban%3Fx%3D" in feed
    assert "/papers/../admin" not in feed


def test_url_helpers() -> None:
    assert paper_path("hep-th/9901001", "/vote") == "/papers/hep-th/9901001/vote"
    assert paper_path(HOSTILE_ID) == "/papers/..%2Fadmin%2Fusers%2FSOMEONE%2Fban%3Fx%3D"
    assert paper_path("..", "/vote") == "/papers/%252E%252E/vote"
    assert path_segment("Aleksander Mądry") == "Aleksander%20M%C4%85dry"
    assert path_segment("a/b?c#d") == "a%2Fb%3Fc%23d"
    assert [safe_url(link) for link in UNSAFE_LINKS] == [None] * len(UNSAFE_LINKS)
    assert safe_url(" https://github.com/a/b ") == "https://github.com/a/b"
    assert safe_url("HTTP://Example.org/x") == "http://Example.org/x"
    assert safe_url("http://[::1") is None
    assert markdown_text("<b>[x](javascript:y)</b> a_1") == (
        "&lt;b&gt;\\[x\\](javascript:y)&lt;/b&gt; a\\_1"
    )


NAMES = [
    "Aleksander Mądry",
    "Łukasz Kaiser",
    "王小明",
    'Flann O\'Brien "Myles"',
    "Zoë <b>Smith & Co; 100%",
]


def test_names_in_any_script_are_pages_twins_and_feeds(store: Store, site: TestClient) -> None:
    with store.transaction() as connection:
        upsert_papers(connection, [make_paper(id="2401.00001", authors=NAMES)])
    paper = site.get("/papers/2401.00001")
    links = urls_in(paper.text)
    for name in NAMES:
        segment = quote(name, safe="")
        assert f"/authors/{segment}" in links
        page = site.get(f"/authors/{segment}")
        assert page.status_code == 200, name
        link = page.headers["link"]
        link.encode("ascii")
        twin_path = re.fullmatch(r'<([^>]*)>; rel="alternate"; type="application/json"', link)
        assert twin_path and unquote(twin_path[1]) == f"/authors/{name}.json"
        twin = site.get(twin_path[1])
        assert twin.status_code == 200
        assert [e["paper"]["id"] for e in twin.json()["entries"]] == ["2401.00001"]
        assert f"/feeds/author/{segment}.atom" in urls_in(page.text)
        for kind in ("atom", "rss"):
            feed = site.get(f"/feeds/author/{segment}.{kind}")
            assert feed.status_code == 200 and "2401.00001" in feed.text
        assert (
            f"http://testserver/authors/{segment}" in site.get(f"/feeds/author/{segment}.atom").text
        )


@pytest.mark.parametrize("time_zone", ["America", "a" * 300, "Europe/../Europe/Paris", "UTC\x00"])
def test_a_time_zone_that_is_no_zone_is_a_400(
    site: TestClient, dailypapers, time_zone: str
) -> None:
    fields = {"csrf_token": csrf(site), "email": "ada@example.org", "time_zone": time_zone}
    answer = site.post("/subscribe.json", data=fields)
    assert answer.status_code == 400
    assert answer.json()["field"] == "time_zone"
    assert answer.json()["error"].startswith("unknown time zone")
    page = site.post("/subscribe", data=fields)
    assert page.status_code == 400 and "unknown time zone" in page.text
    result = dailypapers("subscriber", "add", "ada@example.org", "--time-zone", time_zone)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and "unknown time zone" in result.output


@pytest.mark.parametrize("row_id", [2**31, 2**63, 2**64 + 1, 0, -1])
def test_a_row_id_beyond_the_columns_is_a_400_naming_it(
    store: Store, site: TestClient, row_id: int
) -> None:
    now = datetime.now(UTC)
    subscriber = add_confirmed(store, "ada@example.org", Choices(), ["robots"], now)
    token = link_signer(Settings(), store).make(MANAGE, holder_payload(subscriber))
    fields = {"csrf_token": csrf(site), "token": token}
    path = f"/subscription/searches/{row_id}/delete"
    answer = site.post(path, data=fields, headers={"Accept": "application/json"})
    assert answer.status_code == 400 and answer.json()["field"] == "search_id"
    missing = site.post("/subscription/searches/9999/delete", data=fields)
    assert missing.status_code == 404


def test_the_markdown_twin_shows_stored_html_as_text(store: Store, site: TestClient) -> None:
    stored = make_paper(
        id="2401.00001",
        title="<script>alert(1)</script>",
        authors=["<svg onload=alert(1)>"],
        abstract="<img src=x onerror=alert(1)> [click](javascript:alert(1)) "
        "![x](https://evil.example/x.png) <javascript:alert(1)> $a_1 * b_2$",
        comments="<iframe src=//evil.example>",
    )
    with store.transaction() as connection:
        upsert_papers(connection, [stored])
    text = site.get("/papers/2401.00001.md").text
    shown = MarkdownIt("commonmark", {"html": True}).render(text)  # a renderer that allows HTML
    for tag in ("<script", "<svg", "<img", "<iframe"):
        assert tag not in shown
    assert "javascript:" not in " ".join(re.findall(r'href="([^"]*)"', shown))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown
    assert "[click](javascript:alert(1))" in html.unescape(shown)
    assert "$a_1 * b_2$" in shown
