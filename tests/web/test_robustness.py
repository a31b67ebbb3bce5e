"""No input gives a 500: schemathesis over the OpenAPI schema, property tests over the list
parameters, and the error pages themselves (404, 400 naming the field, 413)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error

from dailypapers.config import Settings
from dailypapers.demo import load_demo_if_empty
from dailypapers.storage import Store
from dailypapers.web import create_app
from dailypapers.web.app import MAX_BODY_BYTES
from tests.web.conftest import csrf

UNKNOWN = "2612.99999"
QUICK = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def demo_app(store: Store) -> FastAPI:
    load_demo_if_empty(store)
    return create_app(Settings(), store)


@pytest.fixture
def demo_site(demo_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(demo_app) as client:
        yield client


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode))
def test_no_request_the_schema_allows_or_forbids_is_a_server_error(
    demo_app: FastAPI, mode: schemathesis.GenerationMode
) -> None:
    """Every operation in the OpenAPI schema, with data that fits it and data that does not.
    The POSTs come without a CSRF token or a sign-in, so they must answer 4xx.

    (schemathesis.pytest.from_fixture cannot run under pytest 9, hence the loop.)"""
    schema = schemathesis.openapi.from_asgi("/openapi.json", demo_app)
    for operation in schema.get_all_operations():
        _fuzz(operation.ok(), mode)


def _fuzz(operation: schemathesis.APIOperation, mode: schemathesis.GenerationMode) -> None:
    @settings(QUICK, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(mode))
    def no_server_error(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=[not_a_server_error])

    try:
        no_server_error()
    except Unsatisfiable:  # nothing to get wrong: no parameters, or any string will do
        assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label


# Valid-looking values, so that the lists are reached too, and arbitrary text.
DAYS = st.dates().map(lambda day: day.isoformat())
WEEKS = st.from_regex(r"\d{4}-W\d{2}", fullmatch=True)
MONTHS = st.from_regex(r"\d{4}-\d{2}", fullmatch=True)
SORTS = st.sampled_from(["upvotes", "trending", "newest"])
PAGES = st.integers(min_value=-5, max_value=20_000).map(str)


def _maybe(*strategies: st.SearchStrategy[str]) -> st.SearchStrategy[str | None]:
    return st.none() | st.one_of(*strategies, st.text(max_size=30))


@given(
    date=_maybe(DAYS),
    week=_maybe(WEEKS),
    month=_maybe(MONTHS),
    sort=_maybe(SORTS),
    page=_maybe(PAGES),
)
@example(date="9999-12-31", week=None, month=None, sort=None, page=None)  # no day after it
@example(date=None, week="9999-W52", month=None, sort="newest", page="1")
@example(date=None, week=None, month="9999-12", sort=None, page=None)
@example(date=None, week="0001-W01", month=None, sort=None, page=None)
@settings(QUICK, max_examples=150)
def test_list_parameters_give_a_list_or_a_400_naming_the_field(
    demo_site: TestClient,
    date: str | None,
    week: str | None,
    month: str | None,
    sort: str | None,
    page: str | None,
) -> None:
    given_ = {"date": date, "week": week, "month": month, "sort": sort, "page": page}
    params = {name: value for name, value in given_.items() if value is not None}
    response = demo_site.get("/papers.json", params=params)
    assert response.status_code in {200, 400, 404}, response.text
    body = response.json()
    if response.status_code == 200:
        assert len(body["entries"]) <= 50 and body["sort"] in {"upvotes", "trending", "newest"}
    else:
        assert body["field"] in params and body["error"].startswith(body["field"])


@given(name=st.text(min_size=1, max_size=40))
@example(name="Aleksander Mądry")  # a demo author: the Link header was a 500
@example(name="..")
@example(name='王小明 "x" <y> 100%')
@settings(QUICK, max_examples=60)
def test_any_name_in_a_path_is_a_page_or_a_4xx(demo_site: TestClient, name: str) -> None:
    """Author and category names go into paths, feeds and the Link header, in any script."""
    segment = quote(name, safe="")
    for path in (
        f"/authors/{segment}",
        f"/authors/{segment}.json",
        f"/categories/{segment}",
        f"/feeds/author/{segment}.atom",
        f"/feeds/category/{segment}.rss",
    ):
        response = demo_site.get(path)
        assert response.status_code in {200, 400, 404}, (path, response.text)


def test_a_malformed_parameter_is_a_400_naming_it(demo_site: TestClient) -> None:
    response = demo_site.get("/papers.json", params={"page": "two"})
    assert response.status_code == 400 and response.json()["field"] == "page"
    response = demo_site.get("/papers.json", params={"week": "2026-W99"})
    assert response.status_code == 400
    assert response.json() == {
        "error": "week='2026-W99' is not a week like 2024-W05",
        "field": "week",
    }
    response = demo_site.get("/papers.json", params={"date": "9999-12-31"})
    assert response.json() == {
        "error": "date='9999-12-31' is not in the years 1000 to 9998",
        "field": "date",
    }
    page = demo_site.get("/papers", params={"month": "July"})
    assert page.status_code == 400 and "month=&#39;July&#39; is not a month" in page.text


def test_an_unknown_paper_is_a_404_page_and_a_json_error(demo_site: TestClient) -> None:
    page = demo_site.get(f"/papers/{UNKNOWN}")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in page.text and f"no paper {UNKNOWN}" in page.text
    twin = demo_site.get(f"/papers/{UNKNOWN}.json")
    assert twin.status_code == 404 and twin.json() == {"error": f"no paper {UNKNOWN}"}
    assert demo_site.get("/papers/not-an-id.json").status_code == 404


def test_nul_characters_are_a_400_on_postgresql(store: Store, demo_site: TestClient) -> None:
    """PostgreSQL refuses NUL in text (SQLite stores it), wherever the NUL comes in."""
    on_postgresql = store.dialect == "postgresql"
    category = demo_site.get("/categories/cs.A%00I.json")
    assert category.status_code == (400 if on_postgresql else 404) and "error" in category.json()
    fields = {"csrf_token": csrf(demo_site), "username": "ada\x00", "password": "whatever"}
    login = demo_site.post("/login", data=fields, follow_redirects=False)
    assert login.status_code == (400 if on_postgresql else 401)


def test_an_oversized_body_is_refused(demo_site: TestClient) -> None:
    body = b"csrf_token=x&comment=" + b"a" * 100_000
    assert len(body) > MAX_BODY_BYTES
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    declared = demo_site.post("/papers/2606.32040/vote", content=body, headers=form)
    assert declared.status_code == 413
    assert declared.json() == {"error": "request body too large"}

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    streamed = demo_site.post("/papers/2606.32040/vote", content=chunks(), headers=form)
    assert streamed.status_code == 413
