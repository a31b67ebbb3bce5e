"""The search page, its JSON twin, and similar papers, over a real index."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dailypapers.models import Paper


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
