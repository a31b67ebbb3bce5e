"""The OpenAPI schema documents the period and category parameters of every list's JSON twin
and feed, as the pages take them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Settings
from dailypapers.storage import open_store
from dailypapers.web import create_app

LISTS = [
    "/papers.json",
    "/papers/date/{day}.json",
    "/papers/week/{week}.json",
    "/papers/month/{month}.json",
    "/trending.json",
    "/authors/{name}.json",
    "/categories/{category}.json",
    "/search.json",
]
FEEDS = [
    f"/feeds/{name}.{kind}"
    for name in ("daily", "trending", "category/{category}", "author/{name}", "search")
    for kind in ("atom", "rss")
]
PERIODS = {"/papers.json", "/feeds/daily.atom", "/feeds/daily.rss"}
PERIOD_PATHS = {
    "/papers/date/{day}.json": "day",
    "/papers/week/{week}.json": "week",
    "/papers/month/{month}.json": "month",
}


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The schema does not depend on the database: one SQLite file serves the module."""
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('schema') / 'site.db'}")
    try:
        return TestClient(create_app(Settings(), store)).get("/openapi.json").json()  # type: ignore[no-any-return]
    finally:
        store.close()


def parameters(schema: dict[str, Any], path: str) -> dict[str, dict[str, Any]]:
    operation = schema["paths"][path]["get"]
    return {p["name"]: p for p in operation.get("parameters", [])}


@pytest.mark.parametrize("path", LISTS + FEEDS)
def test_every_list_and_feed_documents_its_categories(schema: dict[str, Any], path: str) -> None:
    category = parameters(schema, path)["category"]
    assert category["in"] == "query" and not category["required"]
    kinds = category["schema"]["anyOf"]
    assert {"type": "array", "items": {"type": "string"}} in kinds
    assert "repeat the parameter" in category["description"]


@pytest.mark.parametrize("path", sorted(PERIODS))
def test_periods_are_documented_where_they_are_taken(schema: dict[str, Any], path: str) -> None:
    given = parameters(schema, path)
    for name, example in (("date", "YYYY-MM-DD"), ("week", "YYYY-Www"), ("month", "YYYY-MM")):
        assert given[name]["in"] == "query", (path, name)
        assert example in given[name]["description"], (path, name)


@pytest.mark.parametrize(("path", "name"), sorted(PERIOD_PATHS.items()))
def test_period_addresses_document_their_key(schema: dict[str, Any], path: str, name: str) -> None:
    given = parameters(schema, path)
    assert given[name]["in"] == "path" and given[name]["description"]
    assert {"sort", "page", "category", "all", "unseen"} <= set(given)
