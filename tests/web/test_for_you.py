""" "For you" on the site: the signed-in reader's ranked day with reasons (not-interested
papers absent, the cold start saying how to teach it), and POST /recommend.json, which needs
no session or CSRF token, stores nothing and is rate-limited per address."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from dailypapers.config import Settings
from dailypapers.demo import load_demo_if_empty
from dailypapers.models import User
from dailypapers.storage import Store
from dailypapers.storage.library import mark_not_interested, reader_tags, save_papers
from dailypapers.web import create_app

FACES = ["2606.32040", "2606.31703"]


def test_for_you_ranks_the_day_with_reasons(
    store: Store, site: TestClient, sign_in: Callable[..., User]
) -> None:
    load_demo_if_empty(store)
    reader = sign_in(site)
    cold = site.get("/for-you.json").json()
    assert not cold["learned"] and len(cold["entries"]) == 30
    assert "save papers into tags" in site.get("/for-you").text

    now = datetime.now(UTC)
    with store.transaction() as connection:
        save_papers(connection, reader.id, "faces", FACES, now)
        mark_not_interested(connection, reader.id, "2606.31201", now)
    data = site.get("/for-you.json").json()
    ids = [e["entry"]["paper"]["id"] for e in data["entries"]]
    assert data["learned"] and data["key"] == "2026-07-01"
    assert "2606.31201" not in ids and not set(ids) & set(FACES)
    assert all(e["reason"].startswith("close to «") for e in data["entries"])
    html = site.get("/for-you").text
    assert html.count("Why: close to «") == len(ids)
    week = site.get("/for-you.json?week=2026-W26").json()
    assert week["period"] == "week" and len(week["entries"]) == 30
    assert site.get("/for-you.json?week=26").status_code == 400
    assert TestClient(site.app).get("/for-you.json").status_code == 401


def test_recommend_json_needs_no_session_and_stores_nothing(store: Store, site: TestClient) -> None:
    load_demo_if_empty(store)
    body = {"library": ["arXiv:2606.32040v1", "https://arxiv.org/abs/2606.31703"], "limit": 5}
    response = site.post("/recommend.json", json={**body, "date": "2026-07-01"})
    assert response.status_code == 200, response.text
    found = response.json()
    assert len(found) == 5 and set(found[0]) == {"id", "score", "reason"}
    assert site.post("/recommend.json", json=body).json() == found  # the newest day
    with store.read() as connection:
        assert reader_tags(connection, 1) == []
    for bad in (
        {"library": ["not an id"]},
        {"library": ["2401.00001"] * 5001},
        {"library": [], "limit": 1000},
        {"library": [], "date": "July"},
    ):
        assert site.post("/recommend.json", json=bad).status_code == 400, bad
    assert site.post("/recommend.json", content=b"{not json").status_code == 400


def test_recommend_json_is_rate_limited_per_address(store: Store) -> None:
    load_demo_if_empty(store)
    site = TestClient(create_app(Settings(rate_limit_recommendations_per_address="2/hour"), store))
    body = {"library": FACES, "limit": 1}
    answers = [site.post("/recommend.json", json=body).status_code for _ in range(3)]
    assert answers == [200, 200, 429]
