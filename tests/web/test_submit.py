"""Submitting papers by id or URL, fetched from a real local fake of the arXiv API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Settings
from dailypapers.models import User
from dailypapers.storage import Store
from dailypapers.storage.papers import get_paper
from dailypapers.web import create_app
from tests.fake_http import FakeServer, fake_arxiv_api, serving
from tests.web.conftest import csrf

JSON = {"Accept": "application/json"}


@pytest.fixture
def arxiv() -> Iterator[FakeServer]:
    with serving(fake_arxiv_api) as server:
        yield server


def site_over(store: Store, arxiv_url: str) -> TestClient:
    settings = Settings(arxiv_api_url=arxiv_url, polite_delay=0, http_retries=0)
    return TestClient(create_app(settings, store))


@pytest.fixture
def site(store: Store, arxiv: FakeServer) -> TestClient:
    return site_over(store, arxiv.url)


def submit(client: TestClient, arxiv_id: str, path: str = "/submit", **headers: str):
    data = {"csrf_token": csrf(client), "arxiv_id": arxiv_id}
    return client.post(path, data=data, headers=headers, follow_redirects=False)


def todays_list(client: TestClient) -> list[tuple[str, str | None]]:
    today = datetime.now(UTC).date()
    entries = client.get(f"/papers.json?date={today}").json()["entries"]
    return sorted((e["paper"]["id"], e["submitted_by"]) for e in entries)


def test_submit_by_id_abs_url_or_pdf_url(
    site: TestClient, sign_in: Callable[..., User], store: Store, arxiv: FakeServer
) -> None:
    sign_in(site, "ada")
    answer = submit(site, "2606.13677")
    assert (answer.status_code, answer.headers["location"]) == (303, "/papers/2606.13677")

    today = datetime.now(UTC).date().isoformat()
    by_abs = submit(site, "https://arxiv.org/abs/2606.13591v1", "/submit.json")
    assert (by_abs.status_code, by_abs.json()) == (
        201,
        {"paper_id": "2606.13591", "submitted_by": "ada", "day": today},
    )
    by_pdf = submit(site, " http://arxiv.org/pdf/2606.13515v1.pdf ", **JSON)
    assert (by_pdf.status_code, by_pdf.json()["paper_id"]) == (201, "2606.13515")
    assert [r["id_list"] for r in arxiv.requests] == ["2606.13677", "2606.13591", "2606.13515"]

    assert todays_list(site) == [
        ("2606.13515", "ada"),
        ("2606.13591", "ada"),
        ("2606.13677", "ada"),
    ]
    with store.read() as connection:
        paper = get_paper(connection, "2606.13677")
    assert paper.title == "Mana: Dexterous Manipulation of Articulated Tools"
    page = site.get("/papers/2606.13677")
    assert page.status_code == 200 and "submitted by ada" in page.text


def test_a_paper_keeps_its_first_submitter(
    site: TestClient, sign_in: Callable[..., User], arxiv: FakeServer
) -> None:
    sign_in(site, "ada")
    assert submit(site, "2606.13677").status_code == 303
    bob = TestClient(site.app)
    sign_in(bob, "bob")
    again = submit(bob, "arXiv:2606.13677v1", **JSON)
    today = datetime.now(UTC).date().isoformat()
    assert (again.status_code, again.json()) == (
        200,
        {"paper_id": "2606.13677", "submitted_by": "ada", "day": today},
    )
    assert len(arxiv.requests) == 1  # a stored paper is not fetched again
    assert todays_list(site) == [("2606.13677", "ada")]


def test_malformed_and_unknown_ids_are_named(
    site: TestClient, sign_in: Callable[..., User], arxiv: FakeServer
) -> None:
    sign_in(site, "ada")
    malformed = submit(site, "not-an-id", **JSON)
    assert (malformed.status_code, malformed.json()) == (
        400,
        {"error": "not an arXiv id: 'not-an-id'", "field": "arxiv_id"},
    )
    assert (
        submit(site, "", **JSON).json()["error"] == "enter an arXiv id or URL, such as 2401.12345"
    )
    too_long = submit(site, "2401.12345" * 30, **JSON)
    assert too_long.json()["error"] == "not an arXiv id: longer than 200 characters"
    assert arxiv.requests == []

    unknown = submit(site, "2401.99999", **JSON)
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"error": "arXiv has no paper 2401.99999"},
    )
    assert [r["id_list"] for r in arxiv.requests] == ["2401.99999"]

    form = submit(site, "https://example.com/abs/2401.00001")
    assert form.status_code == 400
    assert "not an arXiv id: &#39;https://example.com/abs/2401.00001&#39;" in form.text
    assert 'value="https://example.com/abs/2401.00001"' in form.text  # kept for correcting
    assert todays_list(site) == []


def test_arxiv_failing_is_a_502(store: Store, sign_in: Callable[..., User]) -> None:
    with serving(lambda params: (503, {"Retry-After": "0"}, b"busy")) as busy:
        site = site_over(store, busy.url)
        sign_in(site, "ada")
        answer = submit(site, "2606.13677", **JSON)
    assert answer.status_code == 502
    assert answer.json()["error"] == (
        f"arXiv did not answer, try again later: {busy.url}?id_list=2606.13677&max_results=1: "
        "HTTP 503 Service Unavailable"
    )

    closed_port = busy.url  # the server is gone: nothing listens there now
    site = site_over(store, closed_port)
    sign_in(site, "bob")
    answer = submit(site, "2606.13677", **JSON)
    assert answer.status_code == 502
    assert answer.json()["error"].startswith("arXiv did not answer, try again later: ")
    assert "ConnectError" in answer.json()["error"]
    page = submit(site, "2606.13677")
    assert page.status_code == 502 and "arXiv did not answer" in page.text
    assert todays_list(site) == []


def test_only_signed_in_users_submit(site: TestClient, sign_in: Callable[..., User]) -> None:
    form = site.get("/submit")
    assert form.status_code == 200
    assert 'href="/login?next=/submit"' in form.text and 'name="arxiv_id"' not in form.text
    refused = submit(site, "2606.13677", **JSON)
    assert (refused.status_code, refused.json()) == (401, {"error": "sign in first"})

    sign_in(site, "ada")
    form = site.get("/submit").text
    assert 'name="arxiv_id"' in form and f'name="csrf_token" value="{csrf(site)}"' in form
    forged = site.post("/submit", data={"arxiv_id": "2606.13677", "csrf_token": "x"})
    assert forged.status_code == 403
    assert todays_list(site) == []


def test_a_hidden_paper_cannot_be_submitted(site: TestClient, sign_in: Callable[..., User]) -> None:
    root = TestClient(site.app)
    sign_in(root, "root", is_admin=True)
    assert submit(root, "2606.13677").status_code == 303
    hidden = root.post(
        "/papers/2606.13677/hide", headers={"X-CSRF-Token": csrf(root)}, follow_redirects=False
    )
    assert hidden.status_code == 303
    sign_in(site, "ada")
    answer = submit(site, "2606.13677", **JSON)
    assert (answer.status_code, answer.json()) == (
        403,
        {"error": "paper 2606.13677 was hidden by an admin"},
    )
    assert todays_list(site) == []
