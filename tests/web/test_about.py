"""The about-ranking page states the trending formula and works it out with the real function."""

from __future__ import annotations

from fastapi.testclient import TestClient

from dailypapers.ranking.trending import FORMULA, GRAVITY, OFFSET_HOURS, trending_score


def test_the_formula_and_its_constants(site: TestClient) -> None:
    data = site.get("/about/ranking.json").json()
    assert (data["formula"], data["gravity"], data["offset_hours"]) == (
        FORMULA,
        GRAVITY,
        OFFSET_HOURS,
    )
    assert FORMULA == "votes / (age_in_hours + 2) ^ 1.5"
    assert list(data["orders"]) == ["upvotes", "trending", "newest"]
    assert data["trending_window_days"] == 7
    for example in data["examples"]:
        assert example["score"] == trending_score(example["votes"], example["age_hours"])


def test_the_page_shows_a_worked_example(site: TestClient) -> None:
    page = site.get("/about/ranking").text
    assert f"score = {FORMULA}" in page
    assert "10 / (24 + 2) ^ 1.5 = 0.0754" in page  # 10 / 26 ** 1.5 = 0.07543
    assert "27 / (48 + 2) ^ 1.5 = 0.0764" in page
    assert f"{trending_score(10, 24):.4f}" == "0.0754"
    assert "about 2.7 times the votes" in page
