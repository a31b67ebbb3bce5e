"""The Content-Security-Policy breaks nothing a reader uses: in Chromium no page reports a
violation or asks another host for anything, and /docs and /redoc render Swagger UI and
ReDoc from the site's own files."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Page, Request, expect

from tests.browser.test_site import KNOWN_ID, sign_up

PAGES = [
    "/",
    "/trending",
    "/stats",
    "/about/ranking",
    "/search?q=face+recognition",
    f"/papers/{KNOWN_ID}",
    "/login",
    "/subscribe",
]


def watch(page: Page, site_url: str) -> tuple[list[str], list[str]]:
    """What the page refused under the policy, and what it asked of other hosts."""
    refused: list[str] = []
    elsewhere: list[str] = []
    site = urlsplit(site_url).netloc

    def console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            refused.append(message.text)

    def request(made: Request) -> None:
        host = urlsplit(made.url).netloc
        if made.url.startswith("http") and host != site:
            elsewhere.append(made.url)

    page.on("console", console)
    page.on("request", request)
    return refused, elsewhere


def test_no_page_breaks_the_policy(page: Page, site_url: str) -> None:
    """(Upvoting in place, vote.js, is test_site's test, under the same policy.)"""
    refused, elsewhere = watch(page, site_url)
    for path in PAGES:
        page.goto(path)
    sign_up(page, "reader")
    for path in ("/", "/account", "/subscription"):
        page.goto(path)
    assert refused == [] and elsewhere == []


def test_api_docs_render_from_the_sites_own_files(page: Page, site_url: str) -> None:
    refused, elsewhere = watch(page, site_url)
    page.goto("/docs")
    expect(page.locator(".opblock").first).to_be_visible()  # Swagger UI read /openapi.json
    assert refused == [] and elsewhere == []
    page.goto("/redoc")
    expect(page.get_by_role("heading", name="dailypapers").first).to_be_visible()
    # ReDoc's footer always shows Redocly's logo from their CDN: the policy refuses it (no
    # request leaves), and ReDoc hides the image. Nothing else goes elsewhere.
    assert all("https://cdn.redoc.ly/redoc/logo-mini.svg" in line for line in refused), refused
    assert set(elsewhere) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}
