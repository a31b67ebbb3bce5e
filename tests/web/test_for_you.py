""" "For you" on the site: the signed-in reader's ranked day with reasons (not-interested
papers absent, the cold start saying how to teach it), and POST /recommend.json, which needs
no session or CSRF token, stores nothing and is rate-limited per address."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import feedparser
from fastapi.testclient import TestClient

from dailypapers.config import Settings
from dailypapers.demo import load_demo_if_empty
from dailypapers.for_you import FIT_JOB, fit_reader, library_key, reader_library
from dailypapers.jobs.queue import list_jobs
from dailypapers.models import User
from dailypapers.storage import Store
from dailypapers.storage.library import (
    fitted_model,
    mark_not_interested,
    reader_tags,
    save_papers,
)
from dailypapers.web import create_app

FACES = ["2606.32040", "2606.31703"]
SPEECH = ["2606.20650", "2606.22811", "2606.23285"]  # speech synthesis (cs.CL)


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
    assert all("close to «" in e["reason"] for e in data["entries"])
    html = site.get("/for-you").text
    assert html.count("close to «") == len(ids)
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


def queued_fits(store: Store) -> list[str]:
    with store.read() as connection:
        return [j.key for j in list_jobs(connection) if j.kind == FIT_JOB and j.state == "queued"]


def test_the_model_is_kept_and_fitted_again_by_a_worker_when_the_library_changes(
    store: Store, site: TestClient, sign_in: Callable[..., User]
) -> None:
    load_demo_if_empty(store)
    reader = sign_in(site)
    now = datetime.now(UTC)
    with store.transaction() as connection:
        save_papers(connection, reader.id, "faces", FACES, now)
    first = site.get("/for-you.json").json()  # none kept: fitted now, and kept
    with store.read() as connection:
        kept = fitted_model(connection, reader.id)
        assert kept is not None
        assert kept.library_key == library_key(reader_library(connection, reader.id, now))
    assert site.get("/for-you.json").json() == first and queued_fits(store) == []

    with store.transaction() as connection:  # the library changes: another topic
        save_papers(connection, reader.id, "speech", SPEECH, now)
    stale = site.get("/for-you.json").json()  # ranked with the kept model, a fit asked for
    assert queued_fits(store) == [f"{FIT_JOB}:{reader.id}"]
    with store.read() as connection:
        assert fitted_model(connection, reader.id) == kept
    assert fit_reader(store, reader.id, now)  # what the `for-you` job does
    fresh = site.get("/for-you.json").json()
    with store.read() as connection:
        assert fitted_model(connection, reader.id).library_key != kept.library_key
    assert [e["reason"] for e in fresh["entries"]] != [e["reason"] for e in stale["entries"]]
    assert any("in your tag speech" in e["reason"] for e in fresh["entries"])


def test_the_for_you_feed_opens_with_its_secret_only(
    store: Store, site: TestClient, sign_in: Callable[..., User]
) -> None:
    load_demo_if_empty(store)
    reader = sign_in(site)
    with store.transaction() as connection:
        save_papers(connection, reader.id, "faces", FACES, datetime.now(UTC))
    page = site.get("/for-you.json").json()
    assert page["feed"].startswith("/feeds/for-you/") and page["feed"] in site.get("/for-you").text
    anonymous = TestClient(site.app)
    feed = feedparser.parse(anonymous.get(page["feed"]).text)
    shown = [e["entry"]["paper"]["id"] for e in page["entries"]]
    assert [e.link.rsplit("/", 1)[-1] for e in feed.entries] == shown
    assert anonymous.get("/feeds/for-you/not-the-secret.atom").status_code == 404
    assert anonymous.get(f"/feeds/for-you/{'x' * 65}.atom").status_code == 404
    other = TestClient(site.app)
    sign_in(other, "bob")
    assert other.get("/for-you.json").json()["feed"] != page["feed"]
