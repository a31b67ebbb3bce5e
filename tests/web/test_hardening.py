"""Abuse and hardening: rate limits (429 + Retry-After, shared by worker processes), the
security headers on every response, /docs without a CDN, HEAD on every GET route, and
connections that send their headers too slowly."""

from __future__ import annotations

import re
import secrets
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Route

from dailypapers.config import Settings
from dailypapers.models import Paper
from dailypapers.storage import Store
from dailypapers.storage.ratelimit import Rate, RateLimited, Rule, enforce
from dailypapers.storage.upserts import upsert_papers
from dailypapers.storage.users import add_api_token, create_user
from dailypapers.web import create_app
from dailypapers.web.deps import token_hash
from tests.factories import make_paper
from tests.live_server import running_server
from tests.mail.helpers import mail_settings_for
from tests.smtp_server import Mailbox
from tests.web.conftest import csrf
from tests.web.test_accounts import PASSWORD, post_form, signup
from tests.web.test_page_cache import counted_statements

DAY = date(2026, 7, 1)


@pytest.fixture
def papers(store: Store) -> list[Paper]:
    made = [make_paper(listed=[DAY], categories=["cs.LG"]) for _ in range(3)]
    with store.transaction() as connection:
        upsert_papers(connection, made)
    return made


def api_user(store: Store, username: str) -> dict[str, str]:
    """A user with an API token; the headers that act as them."""
    token = secrets.token_urlsafe(24)
    now = datetime.now(UTC)
    with store.transaction() as connection:
        user = create_user(connection, username, "unused", now, False)
        add_api_token(connection, token_hash(token), user.id, "test", now)
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def site_with(store: Store, **settings: object) -> TestClient:
    return TestClient(create_app(Settings(**settings), store))  # type: ignore[arg-type]


def vote(client: TestClient, paper: Paper, headers: dict[str, str]) -> httpx.Response:
    return client.post(f"/papers/{paper.id}/vote?action=toggle", headers=headers)


# Rate limits


def test_votes_past_the_limit_get_429_with_retry_after_and_a_reason(
    store: Store, papers: list[Paper]
) -> None:
    client = site_with(store, rate_limit_votes_per_user="3/hour")
    ada = api_user(store, "ada")
    statuses = [vote(client, papers[0], ada).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    refused = vote(client, papers[1], ada)
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    (line,) = refused.json()["error"].splitlines()
    assert line.startswith("too many votes from your account: try again in")
    # Another user from the same address is still welcome: this was the per-user limit.
    assert vote(client, papers[0], api_user(store, "bob")).status_code == 200


def test_the_per_address_limit_holds_across_users(store: Store, papers: list[Paper]) -> None:
    client = site_with(store, rate_limit_comments_per_address="4/hour")
    statuses = []
    for name in ("ada", "bob", "cy"):
        user = api_user(store, name)
        for _ in range(2):
            answer = client.post(
                f"/papers/{papers[0].id}/comments", data={"body": "hi"}, headers=user
            )
            statuses.append(answer.status_code)
    assert statuses == [201, 201, 201, 201, 429, 429]
    assert "too many comments from your address" in answer.json()["error"]


def test_sign_ups_and_submissions_are_limited_too(store: Store) -> None:
    """A limit of 0 refuses at once: no password is hashed, arXiv is never asked."""
    client = site_with(store, rate_limit_signups_per_address="0/hour")
    form = {
        "username": "eve",
        "password": "a long passphrase",
        "password_again": "a long passphrase",
    }
    answer = client.post("/signup", data={**form, "csrf_token": csrf(client)})
    assert answer.status_code == 429 and "too many signups from your address" in answer.text
    assert "Retry-After" in answer.headers and answer.headers["Cache-Control"] == "no-store"

    client = site_with(store, rate_limit_submissions_per_user="0/hour")
    answer = client.post(
        "/submit.json", data={"arxiv_id": "2401.00001"}, headers=api_user(store, "ada")
    )
    assert answer.status_code == 429 and "too many submissions from your account" in answer.text


def test_rate_limits_false_turns_every_limit_off(store: Store, papers: list[Paper]) -> None:
    client = site_with(store, rate_limits=False, rate_limit_votes_per_user="0/hour")
    ada = api_user(store, "ada")
    assert {vote(client, papers[0], ada).status_code for _ in range(6)} == {200}


def test_a_window_that_turns_lets_requests_through_and_refusals_count_nothing(
    store: Store,
) -> None:
    rule = Rule("test/key", Rate.parse("2/minute"), "too many tests")
    start = 1_800_000_000.0  # a minute's start
    for moment in (start, start + 1):
        enforce(store, [rule], moment)
    for moment in (start + 2, start + 3):  # refused, and not counted: the count stays at 2
        with pytest.raises(RateLimited) as refused:
            enforce(store, [rule], moment)
        assert refused.value.retry_after == 60 - (moment - start)
    enforce(store, [rule], start + 60)  # the next window
    enforce(store, [rule], start + 61)
    with pytest.raises(RateLimited):
        enforce(store, [rule], start + 62)


def test_a_request_over_one_of_its_limits_counts_under_none(store: Store) -> None:
    loose, tight = Rate.parse("5/hour"), Rate.parse("1/hour")
    now = 1_800_000_000.0
    enforce(store, [Rule("user/1", loose, "user"), Rule("address/a", tight, "address")], now)
    for _ in range(3):
        with pytest.raises(RateLimited, match="address"):
            enforce(
                store, [Rule("user/1", loose, "user"), Rule("address/a", tight, "address")], now
            )
    for _ in range(4):  # user/1 was counted once, not four times
        enforce(store, [Rule("user/1", loose, "user")], now)
    with pytest.raises(RateLimited, match="user"):
        enforce(store, [Rule("user/1", loose, "user")], now)


def test_an_accounts_address_shares_the_confirmation_mail_limits(
    store: Store, mailbox: Mailbox
) -> None:
    """Setting an address mails it a link: it was a mail cannon for a signed-in user."""
    settings = mail_settings_for(mailbox, rate_limit_confirmations_per_address="2/hour")
    site = TestClient(create_app(settings, store))
    signup(site, "ada")
    answers = [
        post_form(site, "/account/address", email=f"someone+{n}@example.org", password=PASSWORD)
        for n in range(4)
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 429, 429]
    assert "too many confirmation mails from your address" in answers[-1].text
    assert mailbox.count() == 2


def test_forgot_password_requests_are_limited_per_address(store: Store) -> None:
    """Counted as asked, whoever is named: a 429 tells nothing about who exists."""
    site = site_with(store, rate_limit_password_resets_per_address="2/hour", smtp_host="localhost")
    statuses = [post_form(site, "/forgot", who=f"nobody{n}").status_code for n in range(3)]
    assert statuses == [200, 200, 429]


@pytest.fixture
def limited_server(store: Store, database_url: str, tmp_path: Path) -> Iterator[str]:
    """`serve --workers 2` with 5 votes per user and hour, and a 2 s header timeout."""
    env = {"DAILYPAPERS_RATE_LIMIT_VOTES_PER_USER": "5/hour", "DAILYPAPERS_HEADER_TIMEOUT": "2"}
    with running_server(database_url, tmp_path / "server.log", "--workers", "2", env=env) as url:
        yield url


def test_concurrent_requests_on_two_workers_cannot_pass_the_limit(
    store: Store, papers: list[Paper], limited_server: str
) -> None:
    ada = api_user(store, "ada")

    def up(paper: Paper) -> int:
        with httpx.Client(base_url=limited_server, timeout=60) as client:
            return client.post(f"/papers/{paper.id}/vote?action=up", headers=ada).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(up, papers * 10))
    assert sorted(statuses) == [200] * 5 + [429] * 25


# Slow clients


def test_a_connection_trickling_its_headers_is_closed(limited_server: str) -> None:
    """uvicorn reset its only timer on every byte: one header line a second held a
    connection for ever."""
    port = int(limited_server.rsplit(":", 1)[1])
    with (
        socket.create_connection(("127.0.0.1", port)) as slow,
        socket.create_connection(("127.0.0.1", port)) as silent,
    ):
        slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        closed_after = None
        while time.monotonic() - start < 15:
            try:
                slow.sendall(b"X-Slow: 1\r\n")
                slow.settimeout(0.5)
                if slow.recv(1024) == b"":
                    closed_after = time.monotonic() - start
                    break
            except TimeoutError:
                continue
            except OSError:  # reset: closed too
                closed_after = time.monotonic() - start
                break
        assert closed_after is not None and closed_after < 4, "still open after 15 s"
        silent.settimeout(5)
        assert silent.recv(1024) == b""  # one that never sends a byte goes the same way
    assert httpx.get(f"{limited_server}/papers.json").status_code == 200  # others are served


# Headers

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def assert_hardened(
    answer: httpx.Response, policy: str = "script-src 'self'; style-src 'self';"
) -> None:
    for name, value in HEADERS.items():
        assert answer.headers.get(name) == value, (answer.url, name)
    csp = answer.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and policy in csp


def test_every_kind_of_response_carries_the_headers(
    store: Store, site: TestClient, papers: list[Paper]
) -> None:
    site.get("/")  # kept by the page cache
    with counted_statements(store) as statements:
        cached = site.get("/")
    assert len(statements) == 1, "not from the page cache"
    for answer in (
        cached,
        site.get(f"/papers/{papers[0].id}"),
        site.get("/papers.json"),
        site.get("/feeds/daily.atom"),
        site.get("/static/site.css"),
        site.get("/papers/9999.99999"),  # 404
        site.get("/papers?date=nonsense"),  # 400
        site.post("/papers/2401.00001/vote"),  # 403
    ):
        assert_hardened(answer)
    assert cached.headers["Cache-Control"] == "private"  # it holds the reader's CSRF token
    assert "Cache-Control" not in site.get("/papers.json").headers  # public data


def test_even_a_server_error_carries_the_headers(store: Store) -> None:
    """Starlette answers an unhandled exception outside every added middleware."""
    app = create_app(Settings(), store)

    @app.get("/fails")
    def fails() -> None:
        raise RuntimeError("a bug")

    answer = TestClient(app, raise_server_exceptions=False).get("/fails")
    assert answer.status_code == 500
    assert_hardened(answer)


def test_pages_with_secrets_are_never_stored(store: Store, site: TestClient) -> None:
    secret_pages = ["/login", "/signup", "/forgot", "/reset/x", "/account/address/confirm/x"]
    secret_pages += ["/subscription", "/subscribe/confirm/x", "/unsubscribe/x"]
    for path in secret_pages:
        assert site.get(path).headers["Cache-Control"] == "no-store", path
    signed_in = api_user(store, "ada")
    for path in ("/", "/account", "/account.json", "/papers.json"):
        answer = site.get(path, headers=signed_in)
        assert answer.headers["Cache-Control"] == "no-store", path
    assert "Cache-Control" not in site.get("/static/site.css", headers=signed_in).headers


def test_templates_hold_no_inline_script_or_style() -> None:
    """What the site's CSP would block: inline scripts, handlers, style attributes."""
    templates = Path(__file__).parents[2] / "src/dailypapers/web/templates"
    inline = re.compile(r"<script(?![^>]*\bsrc=)|<style|\son[a-z]+=|\sstyle=|javascript:", re.I)
    for template in templates.glob("*.html"):
        assert not inline.search(template.read_text()), template.name


# /docs


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_load_everything_from_the_site(site: TestClient, page: str) -> None:
    answer = site.get(page)
    assert answer.status_code == 200
    assert_hardened(answer, policy="script-src 'self';")
    assets = re.findall(r'(?:src|href|spec-url)="([^"]+)"', answer.text)
    assert assets and all(asset.startswith("/") and not asset.startswith("//") for asset in assets)
    assert not re.search(r"https?://", answer.text)
    assert not re.search(r"<script(?![^>]*\bsrc=)", answer.text)  # no inline script
    for asset in assets:
        loaded = site.get(asset)
        assert loaded.status_code == 200 and loaded.content, asset


# HEAD


def sample_path(path: str, paper: Paper) -> str:
    values = {
        "paper_id": paper.id,
        "name": paper.authors[0],
        "category": paper.categories[0],
        "token": "not-a-token",
    }
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m[1], "1"), path)


def get_routes(routes: list[BaseRoute]) -> Iterator[str]:
    """The paths of every GET route, in included routers too (FastAPI keeps them nested)."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from get_routes(route.original_router.routes)
        elif isinstance(route, Route) and "GET" in (route.methods or ()):
            yield route.path


def test_head_answers_every_get_route_like_get_without_a_body(
    store: Store, site: TestClient, papers: list[Paper]
) -> None:
    app = site.app
    paths = [sample_path(path, papers[0]) for path in get_routes(app.routes)]  # type: ignore[attr-defined]
    assert len(paths) > 30 and "/docs" in paths
    paths += ["/static/site.css", "/static/api-docs/swagger-ui.css", "/", "/"]  # / twice: cached
    for path in paths:
        got, head = site.get(path), site.head(path)
        assert head.status_code == got.status_code != 405, path
        assert head.content == b"", path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path
        assert head.headers.get("X-Frame-Options") == "DENY", path
