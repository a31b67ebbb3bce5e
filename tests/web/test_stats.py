"""The stats page: the storage's counts, and charts drawn on the server."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from dailypapers.demo import load_demo_if_empty
from dailypapers.storage import Store
from dailypapers.storage.feed import papers_per_day
from dailypapers.storage.papers import stats
from dailypapers.storage.users import create_user
from dailypapers.storage.votes import add_vote
from dailypapers.web.charts import BOTTOM, HEIGHT, TOP, bar_chart


def test_stats_are_the_storage_counts(store: Store, site: TestClient) -> None:
    load_demo_if_empty(store)
    now = datetime.now(UTC)
    with store.transaction() as connection:
        ada = create_user(connection, "ada", "unused", now, False)
        bob = create_user(connection, "bob", "unused", now, False)
        add_vote(connection, ada.id, "2606.32040", now - timedelta(days=1))
        add_vote(connection, bob.id, "2606.32040", now)
        add_vote(connection, ada.id, "2606.32039", now)
    data = site.get("/stats.json").json()
    with store.read() as connection:
        counts = stats(connection, top=20)
        per_day = papers_per_day(connection)
    assert (data["papers"], data["days"], data["versions"]) == (2086, 7, counts.versions)
    assert len(per_day) == 7  # listing days: no weekends
    assert (data["categories"], data["submissions"]) == (counts.categories, counts.submissions)
    assert (data["first_day"], data["last_day"]) == ("2026-06-23", "2026-07-01")
    assert [(d["day"], d["count"]) for d in data["papers_per_day"]] == [
        (day.isoformat(), n) for day, n in per_day
    ]
    assert sum(d["count"] for d in data["papers_per_day"]) == 2086
    assert data["votes"] == 3
    assert data["votes_per_day"] == [
        {"day": (now - timedelta(days=1)).date().isoformat(), "count": 1},
        {"day": now.date().isoformat(), "count": 2},
    ]
    top = {row["category"]: row["papers"] for row in data["top_categories"]}
    assert top == counts.top_categories and len(top) == 20
    assert list(top.values()) == sorted(top.values(), reverse=True)

    page = site.get("/stats").text
    charts = re.findall(r'<svg class="chart".*?</svg>', page)
    assert len(charts) == 2
    assert charts[0].count("<rect") == 7 and charts[1].count("<rect") == 2
    assert "<title>2026-07-01: 300</title>" in charts[0]
    assert '<a href="/categories/cs.LG">cs.LG</a>' in page
    assert f"<dd>{2086:,}</dd>" in page


def test_an_empty_site_has_no_charts(site: TestClient) -> None:
    data = site.get("/stats.json").json()
    assert data["papers"] == 0 and data["papers_per_day"] == [] and data["votes"] == 0
    page = site.get("/stats")
    assert page.status_code == 200
    assert "No papers yet." in page.text and "No votes yet." in page.text
    assert "<svg" not in page.text


def test_bar_heights_are_proportional_to_counts() -> None:
    svg = bar_chart([("mon", 10), ("tue", 5), ("<wed>", 0)], "Papers & votes")
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
    plot = heights[0]
    assert plot == HEIGHT - TOP - BOTTOM and heights == [plot, plot / 2, 0.0]
    assert 'viewBox="0 0 ' in svg and 'width="100%"' in svg
    assert "<title>&lt;wed&gt;: 0</title>" in svg and 'aria-label="Papers &amp; votes"' in svg
