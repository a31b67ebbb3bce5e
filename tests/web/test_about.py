"""The about-ranking page states the trending formula and works it out with the real function."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dailypapers.ranking.trending import FORMULA, HALF_LIFE_HOURS, WINDOW_DAYS, trending_score


def test_the_formula_and_its_constants(site: TestClient) -> None:
    data = site.get("/about/ranking.json").json()
    assert (data["formula"], data["half_life_hours"], data["trending_window_days"]) == (
        FORMULA,
        HALF_LIFE_HOURS,
        WINDOW_DAYS,
    )
    assert FORMULA == "sum over the votes cast in the last 7 days of 0.5 ^ (vote_age_in_hours / 24)"
    assert list(data["orders"]) == ["upvotes", "trending", "newest"]
    assert "00:00 UTC of the paper's day" in data["imported"]
    for example in data["examples"]:
        assert example["score"] == trending_score([(example["age_hours"], example["votes"])])


def test_the_page_shows_worked_examples(site: TestClient) -> None:
    page = site.get("/about/ranking").text
    assert f"score = {FORMULA}" in page
    assert "1 × 0.5 ^ (24 / 24) = 0.5000" in page
    assert "1 × 0.5 ^ (48 / 24) = 0.2500" in page
    assert "0 (older than the window)" in page  # the vote of 169 hours ago
    # Three votes of the last two hours outrank ten of three days ago: 2.83 against 1.25.
    assert (
        "3 votes of the last 2 hours\n(2.83) rank above 10 votes cast\n72 hours ago (1.25)" in page
    )
