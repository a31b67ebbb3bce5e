"""The search page, its JSON twin, and similar papers, over a real index."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dailypapers.models import Paper, User
from dailypapers.storage import Store
from dailypapers.storage.upserts import upsert_papers
from tests.factories import make_paper


@pytest.fixture
def indexed_site(site: TestClient, topic_papers: dict[str, Paper]) -> TestClient:
    site.app.state.search.update_indexes()  # type: ignore[attr-defined]
    return site


def test_search_json_highlights_and_ranks(
    indexed_site: TestClient,
    topic_papers: dict[str, Paper],
) -> None:
    page = indexed_site.get("/search.json", params={"q": "attention translating"}).json()
    best = page["results"][0]
    assert best["id"] == topic_papers["translation"].id
    assert (
        "<mark>attention</mark>" in best["excerpt"] and "<mark>translates</mark>" in best["excerpt"]
    )
    assert best["authors"] == ["Ada Lovelace", "Alan Turing"] and best["upvotes"] == 0
    # the four other papers are about something else: past where relevance ends
    assert page["mode"] == "hybrid" and page["total"] == len(page["results"]) == 1
    keyword = indexed_site.get("/search.json", params={"q": "attention", "mode": "keyword"})
    assert [hit["id"] for hit in keyword.json()["results"]] == [topic_papers["translation"].id]


def test_search_page_renders_results_and_escapes(
    indexed_site: TestClient,
    topic_papers: dict[str, Paper],
) -> None:
    html = indexed_site.get("/search", params={"q": "<b>galaxies</b>"}).text
    assert "&lt;b&gt;galaxies&lt;/b&gt;" in html and "<b>galaxies</b>" not in html
    assert f'href="/papers/{topic_papers["galaxies"].id}"' in html
    assert "<mark>galaxies</mark>" in html
    assert indexed_site.get("/search").status_code == 200  # the empty form


@pytest.mark.parametrize(
    ("params", "field"),
    [({"q": "x" * 1001}, "q"), ({"q": "a", "mode": "fuzzy"}, "mode"), ({"q": "before:never"}, "q")],
)
def test_bad_search_input_is_a_clear_400(
    indexed_site: TestClient, params: dict[str, str], field: str
) -> None:
    response = indexed_site.get("/search.json", params=params)
    assert response.status_code == 400 and response.json()["field"] == field


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.text(max_size=200),
        st.lists(
            st.sampled_from(
                ['"', "*", "-", ":", "NEAR(", ")", "AND", "author:", "cat:", "^", "\\"]
            ),
            max_size=12,
        ).map(" ".join),
    )
)
def test_any_query_answers_without_a_server_error(indexed_site: TestClient, query: str) -> None:
    response = indexed_site.get("/search.json", params={"q": query})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["error"]


def test_similar_papers(indexed_site: TestClient, topic_papers: dict[str, Paper]) -> None:
    paper_id = topic_papers["diffusion"].id
    similar = indexed_site.get(f"/papers/{paper_id}/similar.json").json()
    assert similar["paper_id"] == paper_id
    assert len(similar["results"]) == 4 and paper_id not in [r["id"] for r in similar["results"]]
    page = indexed_site.get(f"/papers/{paper_id}").text
    assert 'id="similar"' in page and topic_papers["protein"].title in page
    assert indexed_site.get("/papers/2401.99999/similar.json").status_code == 404


@pytest.fixture
def named_site(indexed_site: TestClient, store: Store) -> tuple[TestClient, Paper]:
    paper = make_paper(
        title=r"Sorting in $\mathcal{O}(n \log n)$ comparisons",
        abstract="Merging sorted runs of keys.",
        authors=["Jürgen Schmidhuber"],
        categories=["cs.DS"],
    )
    with store.transaction() as connection:
        upsert_papers(connection, [paper])
    indexed_site.app.state.search.update_indexes()  # type: ignore[attr-defined]
    return indexed_site, paper


def test_an_arxiv_link_finds_the_paper_or_offers_to_submit_it(
    named_site: tuple[TestClient, Paper], sign_in: Callable[..., User]
) -> None:
    site, paper = named_site
    found = site.get("/search.json", params={"q": f"arxiv.org/abs/{paper.id}v2"}).json()
    assert [hit["id"] for hit in found["results"]] == [paper.id]
    assert found["paper_id"] == paper.id and found["missing_paper"] is None
    missing = site.get("/search.json", params={"q": "https://arxiv.org/pdf/2606.26100v1"}).json()
    assert missing["results"] == [] and missing["missing_paper"] == "2606.26100"
    html = site.get("/search", params={"q": "arXiv:2606.26100"}).text
    assert 'href="/submit?arxiv_id=2606.26100"' in html and "Nothing matches" not in html
    sign_in(site)
    form = site.get("/submit", params={"arxiv_id": "2606.26100"}).text
    assert 'value="2606.26100"' in form


def test_an_author_name_links_the_author_page_and_titles_render_math(
    named_site: tuple[TestClient, Paper],
) -> None:
    site, paper = named_site
    found = site.get("/search.json", params={"q": "jurgen schmidhuber"}).json()
    assert found["author"] == "Jürgen Schmidhuber" and found["results"][0]["id"] == paper.id
    html = site.get("/search", params={"q": "jurgen schmidhuber"}).text
    assert 'href="/authors/J%C3%BCrgen%20Schmidhuber"' in html
    assert "<math" in html and r"$\mathcal" not in html


def test_a_typo_is_corrected_and_said(
    indexed_site: TestClient, topic_papers: dict[str, Paper]
) -> None:
    found = indexed_site.get("/search.json", params={"q": "galaxeis"}).json()
    assert found["corrected"] == {"galaxeis": "galaxies"}
    assert found["results"][0]["id"] == topic_papers["galaxies"].id
    html = indexed_site.get("/search", params={"q": "galaxeis"}).text
    assert "<strong>galaxies</strong> (you typed <em>galaxeis</em>)" in html


def test_categories_filter_search_and_show_as_chips(
    named_site: tuple[TestClient, Paper], topic_papers: dict[str, Paper]
) -> None:
    site, paper = named_site
    params = [("q", "sorting diffusion"), ("mode", "keyword")]
    both = {hit["id"] for hit in site.get("/search.json", params=params).json()["results"]}
    assert both == {paper.id, topic_papers["diffusion"].id}
    only = site.get("/search.json", params=[*params, ("category", "cs.DS")]).json()
    assert [hit["id"] for hit in only["results"]] == [paper.id] and only["categories"] == ["cs.DS"]
    either = site.get(
        "/search.json", params=[*params, ("category", "cs.DS"), ("category", "cs.LG")]
    ).json()
    assert {hit["id"] for hit in either["results"]} == both
    html = site.get("/search", params=[*params, ("category", "cs.DS")]).text
    assert 'class="chip selected"' in html and "category=cs.DS" in html
    assert 'name="category" value="cs.DS"' in html  # a new search keeps the filter


@pytest.mark.parametrize(
    "categories", [["cs.CL; drop"], ["CS.CL"], ["../x"], [f"cs.c{'x' * i}" for i in range(21)]]
)
def test_bad_categories_are_a_clear_400(indexed_site: TestClient, categories: list[str]) -> None:
    response = indexed_site.get(
        "/search.json", params=[("q", "diffusion"), *(("category", c) for c in categories)]
    )
    assert response.status_code == 400 and response.json()["field"] == "category"


def test_the_page_shows_no_min_max_scores(
    indexed_site: TestClient, topic_papers: dict[str, Paper]
) -> None:
    html = indexed_site.get("/search", params={"q": "dark matter halos"}).text
    assert not re.search(r"score|\b[01]\.\d{3}\b", html) and "1 result" in html
    page = indexed_site.get("/search.json", params={"q": "dark matter halos"}).json()
    (best,) = page["results"]
    assert 0 < best["score"] < 1  # half BM25's share of the best (1), half the cosine
