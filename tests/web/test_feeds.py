"""Atom and RSS feeds: valid for feedparser, and the same papers as the lists they follow."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import feedparser
import pytest
from fastapi.testclient import TestClient

from dailypapers.demo import load_demo_if_empty
from dailypapers.search.keyword import analyzer
from dailypapers.storage import Store
from dailypapers.storage.papers import iter_paper_batches
from dailypapers.storage.upserts import upsert_papers
from dailypapers.storage.users import create_user
from dailypapers.storage.votes import add_vote
from dailypapers.texmath import plain
from dailypapers.web.lists import PAGE_SIZE
from tests.factories import make_paper

MEDIA_TYPES = {"atom": "application/atom+xml", "rss": "application/rss+xml"}
JSON = {"Accept": "application/json"}  # errors as JSON, naming the field
FACEMOE = "2606.32040"  # "FaceMoE: Mixture of Experts for Low-Resolution Face Recognition"


def fetch(site: TestClient, path: str, kind: str) -> feedparser.FeedParserDict:
    """`path` (without its extension) as `kind`, checked to be served and parsed cleanly."""
    name, _, query = path.partition("?")
    response = site.get(f"/feeds/{name}.{kind}" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MEDIA_TYPES[kind]
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == {"atom": "atom10", "rss": "rss20"}[kind]
    return feed


def ids(feed: feedparser.FeedParserDict) -> list[str]:
    return [e.id.removeprefix("https://arxiv.org/abs/") for e in feed.entries]


def assert_same_papers(feed: feedparser.FeedParserDict, entries: list[dict]) -> None:  # type: ignore[type-arg]
    """The feed's entries are these JSON entries, in order, with their titles, links, authors."""
    assert [e.id for e in feed.entries] == [
        f"https://arxiv.org/abs/{e['paper']['id']}" for e in entries
    ]
    for item, entry in zip(feed.entries, entries, strict=True):
        paper = entry["paper"]
        assert item.title == plain(paper["title"])  # formulas as Unicode, never raw dollars
        assert item.link == f"http://testserver/papers/{paper['id']}"
        assert item.summary == plain(paper["abstract"])
        assert [tag.term for tag in item.tags] == paper["categories"]
        assert [author.get("name") for author in item.authors] == paper["authors"]
        day = datetime.combine(date.fromisoformat(entry["day"]), datetime.min.time(), UTC)
        assert item.published_parsed[:6] == day.timetuple()[:6]


def vote(store: Store, votes: dict[str, int]) -> None:
    """`votes[paper_id]` votes on each paper, from as many users."""
    now = datetime.now(UTC)
    with store.transaction() as connection:
        users = [
            create_user(connection, f"voter{n}", "unused", now, False)
            for n in range(max(votes.values()))
        ]
        for paper_id, count in votes.items():
            for user in users[:count]:
                add_vote(connection, user.id, paper_id, now)


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_the_daily_feed_is_the_front_page(store: Store, site: TestClient, kind: str) -> None:
    load_demo_if_empty(store)
    vote(store, {"2606.32014": 3, "2606.32025": 1})  # two papers of the newest day
    feed = fetch(site, "daily", kind)
    front = site.get("/papers.json").json()
    assert feed.feed.title == "dailypapers: Daily papers"
    assert len(feed.entries) == 50 and front["key"] == "2026-07-01"
    assert_same_papers(feed, front["entries"])
    top = [e.id.removeprefix("https://arxiv.org/abs/") for e in feed.entries[:3]]
    assert top == ["2606.32014", "2606.32025", FACEMOE]  # most upvoted, then the highest id
    assert feed.feed.link == "http://testserver/"
    assert "Wednesday, 01 July 2026" in feed.feed.subtitle


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_the_trending_feed_is_the_trending_page(store: Store, site: TestClient, kind: str) -> None:
    load_demo_if_empty(store)
    today = datetime.now(UTC).date()
    fresh = [make_paper(listed=[today - timedelta(days=age)]) for age in (0, 2, 3)]
    with store.transaction() as connection:
        upsert_papers(connection, fresh)
    votes = {fresh[0].id: 1, fresh[1].id: 20, FACEMOE: 50}  # FaceMoE is older
    vote(store, votes)
    feed = fetch(site, "trending", kind)
    listed = site.get("/trending.json").json()["entries"]
    assert feed.feed.title == "dailypapers: Trending papers"
    # Votes cast now count whole, whatever the paper's age: the months-old paper leads.
    assert [e["paper"]["id"] for e in listed] == [FACEMOE, fresh[1].id, fresh[0].id]
    assert_same_papers(feed, listed)


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_category_and_author_feeds_are_their_pages(
    store: Store, site: TestClient, kind: str
) -> None:
    load_demo_if_empty(store)
    category = fetch(site, "category/cs.LG", kind)
    assert category.feed.title == "dailypapers: Newest in cs.LG"
    assert category.feed.link == "http://testserver/categories/cs.LG"
    assert_same_papers(category, site.get("/categories/cs.LG.json").json()["entries"][:50])
    assert len(category.entries) == 50

    author = site.get(f"/papers/{FACEMOE}.json").json()["entry"]["paper"]["authors"][1]
    assert author == "Vishal M. Patel"
    feed = fetch(site, f"author/{quote(author)}", kind)
    assert feed.feed.title == "dailypapers: Papers by Vishal M. Patel"
    page = site.get(f"/authors/{quote(author)}.json").json()
    assert 1 < len(page["entries"]) < 50
    assert_same_papers(feed, page["entries"])


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_feeds_take_the_periods_and_categories_of_their_pages(
    store: Store, site: TestClient, kind: str
) -> None:
    load_demo_if_empty(store)
    cs_cl = [("category", "cs.CL")]
    for period, page in (
        ("week=2026-W26", "/papers/week/2026-W26.json"),
        ("month=2026-06", "/papers/month/2026-06.json"),
        ("date=2026-06-24", "/papers/date/2026-06-24.json"),
    ):
        for categories in ([], cs_cl, [*cs_cl, ("category", "math.CO")]):
            twin = site.get(page, params=categories).json()
            assert twin["entries"], (page, categories)
            query = "&".join([period, *(f"category={c}" for _, c in categories)])
            feed = fetch(site, f"daily?{query}", kind)
            assert ids(feed) == [e["paper"]["id"] for e in twin["entries"]]
    feed = fetch(site, "daily?week=2026-W26&category=cs.CL", kind)
    assert feed.feed.link == "http://testserver/papers/week/2026-W26?category=cs.CL"
    assert feed.feed.title == "dailypapers: Papers of week 2026-W26"

    for feed_path, page in (
        ("trending", "/trending.json"),
        ("category/cs.LG", "/categories/cs.LG.json"),
        ("author/Chengzhi%20Zhang", "/authors/Chengzhi%20Zhang.json"),
    ):
        twin = site.get(page, params=cs_cl).json()
        feed = fetch(site, f"{feed_path}?category=cs.CL", kind)
        assert ids(feed) == [e["paper"]["id"] for e in twin["entries"]]
        assert all("cs.CL" in e["paper"]["categories"] for e in twin["entries"])
    everything = fetch(site, "search?q=language+model", kind)
    only = fetch(site, "search?q=language+model&category=cs.CV", kind)
    in_cs_cv = ["cs.CV" in [tag.term for tag in e.tags] for e in everything.entries]
    assert only.entries and all("cs.CV" in [t.term for t in e.tags] for e in only.entries)
    assert any(in_cs_cv) and not all(in_cs_cv)


def test_feeds_refuse_bad_periods_and_categories(site: TestClient) -> None:
    for query, field in (
        ("week=2026-26", "week"),
        ("month=June", "month"),
        ("date=2026-02-30", "date"),
        ("date=2026-06-24&week=2026-W26", "week"),
        ("category=cs.CL%22%3E%3Cscript%3E", "category"),
    ):
        response = site.get(f"/feeds/daily.atom?{query}", headers=JSON)
        assert response.status_code == 400, query
        assert response.json()["field"] == field
    many = "&".join(f"category=cs.X{n}" for n in range(21))
    response = site.get(f"/feeds/trending.rss?{many}")
    assert response.status_code == 400 and "category: at most 20" in response.text


def test_pages_point_to_their_feeds(store: Store, site: TestClient) -> None:
    load_demo_if_empty(store)
    atom = 'rel="alternate" type="application/atom+xml"'
    assert f'<link {atom} title="Daily papers" href="/feeds/daily.atom">' in site.get("/").text
    page = site.get("/categories/cs.LG").text
    assert f'<link {atom} title="This list" href="/feeds/category/cs.LG.atom">' in page
    assert 'href="/feeds/category/cs.LG.rss"' in page
    page = site.get("/authors/Vishal%20M.%20Patel").text
    assert 'href="/feeds/author/Vishal%20M.%20Patel.atom"' in page
    page = site.get("/papers/week/2026-W26?category=cs.CL&category=cs.AI").text
    assert 'href="/feeds/daily.atom?week=2026-W26&amp;category=cs.CL&amp;category=cs.AI"' in page
    assert 'href="/feeds/daily.rss?week=2026-W26&amp;category=cs.CL&amp;category=cs.AI"' in page


def test_unknown_category_or_author_is_not_found(site: TestClient) -> None:
    for path in ("category/cs.XX.atom", "category/cs.XX.rss", "author/Nobody%20Here.atom"):
        response = site.get(f"/feeds/{path}")
        assert response.status_code == 404, path
        assert "no papers" in response.text


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_an_empty_site_has_valid_empty_feeds(site: TestClient, kind: str) -> None:
    for path in ("daily", "trending", "search?q=anything"):
        assert fetch(site, path, kind).entries == []


def matching(store: Store, terms: list[str]) -> list[str]:
    """Reference: ids of papers whose title or abstract holds every term (as a word, by its
    English stem), newest first."""
    stems = analyzer(stem=True)
    wanted = [set(stems.analyze(term)) for term in terms]
    found = []
    with store.read() as connection:
        for batch in iter_paper_batches(connection):
            for paper in batch:
                words = set(stems.analyze(f"{paper.title}\n{paper.abstract}"))
                if all(term <= words for term in wanted):
                    found.append((paper.announced, paper.id))
    return [paper_id for _, paper_id in sorted(found, reverse=True)]


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_the_search_feed_holds_papers_with_every_word(
    store: Store, site: TestClient, kind: str
) -> None:
    load_demo_if_empty(store)
    feed = fetch(site, "search?q=facemoe%20RESOLUTION", kind)
    assert feed.feed.title == "dailypapers: Papers matching 'facemoe RESOLUTION'"
    assert [e.id for e in feed.entries] == [f"https://arxiv.org/abs/{FACEMOE}"]
    assert matching(store, ["facemoe", "RESOLUTION"]) == [FACEMOE]

    words = ["diffusion", "video"]
    expected = matching(store, words)
    assert 5 < len(expected) < 50
    feed = fetch(site, "search?q=" + "+".join(words), kind)
    assert_search_matches(store, [e.id for e in feed.entries], expected)

    assert fetch(site, "search?q=facemoe+zzzqx", kind).entries == []
    if store.dialect != "sqlite":
        return  # PostgreSQL's parser and stop words ("a") differ from the reference below
    for literal in ("100%", "a_b"):  # query syntax of other engines: words
        feed = fetch(site, f"search?q={quote(literal)}", kind)
        expected = matching(store, literal.split())[:PAGE_SIZE]
        assert [e.id.removeprefix("https://arxiv.org/abs/") for e in feed.entries] == expected


def assert_search_matches(store: Store, links: list[str], expected: list[str]) -> None:
    """The reference tokenises as tantivy does (SQLite's keyword index): exactly those papers,
    newest first. PostgreSQL's parser keeps some words whole ("image/video" is a file name to
    it), so there: in the same order, missing no more than a tenth of them."""
    found = [link.removeprefix("https://arxiv.org/abs/") for link in links]
    if store.dialect == "sqlite":
        assert found == expected
    else:
        assert found == [paper_id for paper_id in expected if paper_id in found]
        assert len(found) >= 0.9 * len(expected)


def test_a_search_feed_needs_a_word(site: TestClient) -> None:
    for query in ("?q=%20%20", ""):
        response = site.get(f"/feeds/search.atom{query}")
        assert response.status_code == 400
        assert "q" in response.text


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_characters_xml_forbids_are_left_out(store: Store, site: TestClient, kind: str) -> None:
    paper = make_paper(title="Vertical\x0btab", abstract="Form\x0cfeed", categories=["q-bio.XX"])
    with store.transaction() as connection:
        upsert_papers(connection, [paper])
    feed = fetch(site, "category/q-bio.XX", kind)
    assert (feed.entries[0].title, feed.entries[0].summary) == ("Verticaltab", "Formfeed")
