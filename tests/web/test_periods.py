"""Days, ISO weeks and months have addresses of their own (/papers/date/2026-06-26,
/papers/week/2026-W26, /papers/month/2026-06); the older ?date= addresses redirect there, and
each period links its neighbours, the other kinds and its pages."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from dailypapers.demo import load_demo_if_empty
from dailypapers.storage import Store


@pytest.fixture
def demo(store: Store, site: TestClient) -> TestClient:
    load_demo_if_empty(store)
    return site


@pytest.mark.parametrize(
    ("path", "title", "total", "previous", "following", "tabs"),
    [
        (
            "/papers/date/2026-06-23",
            "Papers of Tuesday, 23 June 2026",
            537,
            None,
            "2026-06-24",
            ("2026-06-23", "2026-W26", "2026-06"),
        ),
        (
            "/papers/week/2026-W26",
            "Papers of week 2026-W26",
            1090,
            None,
            "2026-W27",
            ("2026-06-26", "2026-W26", "2026-06"),
        ),
        (
            "/papers/month/2026-07",
            "Papers of July 2026",
            300,
            "2026-06",
            None,
            ("2026-07-01", "2026-W27", "2026-07"),
        ),
    ],
)
def test_each_period_has_its_address_neighbours_and_tabs(
    demo: TestClient,
    path: str,
    title: str,
    total: int,
    previous: str | None,
    following: str | None,
    tabs: tuple[str, str, str],
) -> None:
    data = demo.get(f"{path}.json").json()
    assert (data["title"], data["total"]) == (title, total)
    assert (data["previous"], data["next"]) == (previous, following)
    assert tuple(data["tabs"][kind] for kind in ("date", "week", "month")) == tabs
    html = demo.get(path).text
    kind = path.split("/")[2]
    for key, rel in ((previous, "prev"), (following, "next")):
        if key:
            assert f'<a rel="{rel}" href="/papers/{kind}/{key}">' in html
    other = {"date": tabs[0], "week": tabs[1], "month": tabs[2]}
    for tab_kind, key in other.items():
        if tab_kind != kind:
            assert f'href="/papers/{tab_kind}/{key}">' in html
    assert '<strong aria-current="page">' in html


def test_the_date_picker_offers_the_days_with_papers(demo: TestClient) -> None:
    html = demo.get("/papers/week/2026-W26?category=cs.CL&sort=newest").text
    picker = re.search(r'<input type="date"[^>]*>', html)[0]  # type: ignore[index]
    assert 'min="2026-06-23"' in picker and 'max="2026-07-01"' in picker
    assert 'value="2026-06-26"' in picker and 'name="date"' in picker
    assert '<input type="hidden" name="category" value="cs.CL">' in html  # the filter stays
    assert '<input type="hidden" name="sort" value="newest">' in html
    assert '<label for="date-picker">Go to a day</label>' in html


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/papers?date=2026-06-24", "/papers/date/2026-06-24"),
        ("/papers?week=2026-W26&category=cs.CL", "/papers/week/2026-W26?category=cs.CL"),
        (
            "/papers?month=2026-06&sort=newest&page=2",
            "/papers/month/2026-06?sort=newest&page=2",
        ),
        ("/papers.json?date=2026-06-24", "/papers/date/2026-06-24.json"),
        ("/papers?date=2026-06-24&category=cs.CL&category=cs.AI", None),
    ],
)
def test_the_older_addresses_redirect_keeping_their_parameters(
    demo: TestClient, old: str, new: str | None
) -> None:
    response = demo.get(old, follow_redirects=False)
    assert response.status_code == 301
    if new is None:
        new = "/papers/date/2026-06-24?category=cs.CL&category=cs.AI"
    assert response.headers["location"] == new
    assert demo.get(old).status_code == 200


def test_a_day_without_papers_names_the_nearest_days(demo: TestClient) -> None:
    response = demo.get("/papers/date/2026-06-27")
    assert response.status_code == 200
    assert "No papers on that day." in response.text
    assert 'href="/papers/date/2026-06-26">2026-06-26</a>' in response.text
    assert 'href="/papers/date/2026-06-29">2026-06-29</a>' in response.text
    assert demo.get("/papers/date/2026-06-27.json").json()["total"] == 0


def test_long_lists_page_both_ways_with_numbers(demo: TestClient) -> None:
    html = demo.get("/papers/week/2026-W26?sort=newest&page=3").text
    pages = re.search(r'<nav class="pages".*?</nav>', html, re.S)[0]  # type: ignore[index]
    base = "/papers/week/2026-W26?sort=newest"
    assert f'<a rel="prev" href="{base}&amp;page=2">' in pages
    assert f'<a rel="next" href="{base}&amp;page=4">' in pages
    assert f'href="{base}" aria-label="page 1">1</a>' in pages
    assert f'href="{base}&amp;page=22" aria-label="page 22">22</a>' in pages
    assert '<strong aria-current="page">3</strong>' in pages and "…" in pages
    data = demo.get(f"{base.replace('2026-W26', '2026-W26.json')}&page=22").json()
    assert (data["page"], data["pages"], len(data["entries"])) == (22, 22, 1090 - 21 * 50)
    first = demo.get(f"{base.replace('2026-W26', '2026-W26.json')}&page=1").json()["entries"]
    second = demo.get(f"{base.replace('2026-W26', '2026-W26.json')}&page=2").json()["entries"]
    assert not {e["paper"]["id"] for e in first} & {e["paper"]["id"] for e in second}


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/papers/date/2026-02-30", "date"),
        ("/papers/date/yesterday", "date"),
        ("/papers/week/2026-W54", "week"),
        ("/papers/week/2026-26", "week"),
        ("/papers/month/2026-13", "month"),
        ("/papers/month/0999-01", "month"),
        ("/papers?date=2026-06-24&week=2026-W26", "week"),
        ("/papers?month=%3Cscript%3E", "month"),
        ("/papers/week/2026-W26?page=0", "page"),
        ("/papers/week/2026-W26?sort=random", "sort"),
    ],
)
def test_a_period_that_is_not_one_is_a_400_naming_the_field(
    site: TestClient, path: str, field: str
) -> None:
    response = site.get(path, headers={"Accept": "application/json"})
    assert response.status_code == 400, path
    assert response.json()["field"] == field
    page = site.get(path)
    assert page.status_code == 400 and "<script>" not in page.text
