"""The first page lists the newest papers; the demo fills an empty database once."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dailypapers.config import Settings
from dailypapers.demo import load_demo_if_empty
from dailypapers.storage import Store
from dailypapers.storage.papers import stats
from dailypapers.web import create_app


def test_demo_loads_into_an_empty_database_only(store: Store) -> None:
    report = load_demo_if_empty(store)
    assert report is not None and report.papers == 2086 and report.skipped == 0
    assert load_demo_if_empty(store) is None
    with store.read() as connection:
        numbers = stats(connection)
    assert numbers.papers == 2086
    assert (numbers.first_day.isoformat(), numbers.last_day.isoformat()) == (
        "2026-06-23",
        "2026-07-01",
    )


def test_the_first_page_shows_the_newest_papers(store: Store) -> None:
    load_demo_if_empty(store)
    client = TestClient(create_app(Settings(), store))
    page = client.get("/")
    assert page.status_code == 200
    newest = client.get("/papers.json").json()["papers"]
    assert len(newest) == 50
    assert all(paper["listed"][0] == "2026-07-01" for paper in newest)
    for paper in newest[:5]:
        assert f'href="https://arxiv.org/abs/{paper["id"]}"' in page.text
    assert '<link rel="alternate" type="application/json" href="/papers.json">' in page.text


def test_the_first_page_of_an_empty_site_says_how_to_fill_it(store: Store) -> None:
    page = TestClient(create_app(Settings(), store)).get("/")
    assert "No papers yet" in page.text
