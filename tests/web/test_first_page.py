"""The demo fills an empty database once, and the front page shows its newest day."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dailypapers.demo import load_demo_if_empty
from dailypapers.storage import Store
from dailypapers.storage.papers import stats


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


def test_the_front_page_is_the_newest_day(store: Store, site: TestClient) -> None:
    load_demo_if_empty(store)
    page = site.get("/")
    assert page.status_code == 200
    data = site.get("/papers.json").json()
    assert (data["period"], data["key"], data["total"]) == ("date", "2026-07-01", 300)
    assert len(data["entries"]) == 50 and data["pages"] == 6
    assert data["previous"] == "2026-06-30" and data["next"] is None
    for entry in data["entries"][:5]:
        assert f'href="/papers/{entry["paper"]["id"]}"' in page.text
    assert page.headers["link"] == '</papers.json>; rel="alternate"; type="application/json"'


def test_an_empty_site_says_so(site: TestClient) -> None:
    assert "No papers here yet." in site.get("/").text
