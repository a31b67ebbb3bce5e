"""Every page knows who reads it: pages that never ask for the viewer, and error pages too,
show a signed-in reader signed in; the anonymous page cache never crosses the two."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Settings
from dailypapers.models import Paper, User
from dailypapers.storage import Store
from dailypapers.web import create_app
from tests.web.conftest import csrf

SIGNED_IN = '<a href="/account" class="who">ada</a>'
SIGNED_OUT = '<a href="/login">Log in</a>'


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/search?q=protein", 200),
        ("/stats", 200),
        ("/about/ranking", 200),
        ("/subscribe", 200),
        ("/submit", 200),
        ("/no/such/page", 404),  # no route: no handler ran
        ("/papers/2101.99999", 404),  # a handler's refusal
        ("/trending?page=many", 400),  # a parameter refused before the handler
    ],
)
def test_a_signed_in_reader_is_signed_in_on_every_page(
    site: TestClient,
    sign_in: Callable[..., User],
    topic_papers: dict[str, Paper],
    path: str,
    status: int,
) -> None:
    anonymous = site.get(path)
    assert anonymous.status_code == status and SIGNED_OUT in anonymous.text
    sign_in(site)
    page = site.get(path)
    assert page.status_code == status
    assert SIGNED_IN in page.text and SIGNED_OUT not in page.text


def test_a_refused_form_and_a_rate_limit_show_the_reader_signed_in(
    store: Store, sign_in: Callable[..., User]
) -> None:
    limited = Settings(rate_limit_password_resets_per_address="1/hour", smtp_host="localhost")
    site = TestClient(create_app(limited, store))
    sign_in(site)
    forbidden = site.post("/logout", data={"csrf_token": "forged"})
    assert forbidden.status_code == 403 and SIGNED_IN in forbidden.text
    token = csrf(site)
    assert site.post("/forgot", data={"csrf_token": token, "who": "ada"}).status_code == 200
    limited = site.post("/forgot", data={"csrf_token": token, "who": "ada"})
    assert limited.status_code == 429 and SIGNED_IN in limited.text
    assert "Retry-After" in limited.headers


def test_the_save_search_button_is_offered_to_a_signed_in_reader(
    site: TestClient, sign_in: Callable[..., User], topic_papers: dict[str, Paper]
) -> None:
    assert 'action="/subscription/searches"' not in site.get("/search?q=protein").text
    sign_in(site)
    assert 'action="/subscription/searches"' in site.get("/search?q=protein").text


def test_an_expired_session_is_signed_out_on_an_error_page(site: TestClient) -> None:
    site.cookies.set("dp_session", "not-a-session")
    page = site.get("/no/such/page")
    assert page.status_code == 404 and SIGNED_OUT in page.text


def test_the_anonymous_page_cache_never_crosses_sign_in(
    site: TestClient, sign_in: Callable[..., User], topic_papers: dict[str, Paper]
) -> None:
    assert SIGNED_OUT in site.get("/").text  # kept for anonymous readers
    reader = TestClient(site.app)
    sign_in(reader)
    assert SIGNED_IN in reader.get("/").text
    assert SIGNED_OUT in site.get("/").text and SIGNED_IN not in site.get("/").text
