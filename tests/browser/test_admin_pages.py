"""The admin pages render under the Content-Security-Policy: in Chromium no violation, no
error in the console, and the follow form works."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import ConsoleMessage, Page, expect

from dailypapers.accounts import set_admin
from dailypapers.jobs import queue
from dailypapers.storage import Store
from tests.browser.test_site import sign_up


def test_admin_pages_render_under_the_policy(page: Page, store: Store) -> None:
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.location.get("url", "").endswith("/favicon.ico"):
            return  # the site has none; Chromium asks anyway
        if message.type == "error" or "Content Security Policy" in message.text:
            problems.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", lambda answer: answer.status >= 400 and problems.append(answer.url))
    now = datetime.now(UTC)
    with store.bookkeeping() as connection:
        queue.enqueue(connection, "announcements", "announcements", {}, now)
    queue.register_worker(store, "browser:1:abcd", "browser", 1, "cpu", now)
    sign_up(page, "root")
    set_admin(store, "root")
    page.goto("/admin/jobs")
    expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()
    expect(page.locator("code", has_text="browser:1:abcd")).to_be_visible()
    page.get_by_role("link", name="follows", exact=True).click()
    page.get_by_label("Categories or archives").fill("cs.LG cs.CL")
    page.get_by_role("button", name="Follow").click()
    expect(page.locator("td code", has_text="cs.CL")).to_be_visible()
    page.get_by_role("row", name="cs.CL").get_by_role("button", name="Stop following").click()
    expect(page.locator("td code", has_text="cs.CL")).to_have_count(0)
    assert problems == []
