"""A reader's library in Chromium: save papers into a tag from the daily list, its paper
pages and search, turn one down, and find "for you" with its reasons, without the paper
turned down; the tag's page and its private Atom feed (opened without a session) hold them."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import DEVICES, TIMEOUT_MS
from tests.browser.test_every_page import severe_violations
from tests.browser.test_site import sign_up

TAG = "reading"


def entries(page: Page) -> list[str]:
    return [
        i.removeprefix("p-")
        for i in page.locator("ol.entries > li.entry").evaluate_all("es => es.map(e => e.id)")
    ]


def row(page: Page, paper_id: str) -> Locator:
    return page.locator(f'li.entry[id="p-{paper_id}"]')


def save_from_the_list(page: Page, paper_id: str) -> None:
    """In place: the page is not loaded again (a mark left on it stays)."""
    page.evaluate("window.unloaded = false")
    saving = row(page, paper_id)
    saving.get_by_role("button", name="Save", exact=True).click()
    expect(saving.get_by_role("button", name=re.compile(f"^Saved in {TAG}"))).to_have_attribute(
        "aria-pressed", "true"
    )
    assert page.evaluate("window.unloaded") is False


def test_save_turn_down_and_read_for_you(page: Page, browser: Browser, site_url: str) -> None:
    sign_up(page, "librarian")
    page.goto("/papers/date/2026-07-01")
    first, second, third, dull = entries(page)[:4]

    page.goto(f"/papers/{first}")  # a paper's page names the tag; the list then saves there
    page.get_by_label("Save to tag").fill(TAG)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("form.save-to")).to_contain_text(f"Saved in {TAG}")
    assert severe_violations(page) == []

    page.goto("/papers/date/2026-07-01")
    save_from_the_list(page, second)
    save_from_the_list(page, third)
    row(page, dull).get_by_role("button", name="Not interested").click()
    expect(row(page, dull)).to_have_count(0)
    assert severe_violations(page) == []

    page.goto("/search?q=face+recognition")
    unsaved = page.get_by_role("button", name="Save", exact=True)
    found = page.locator("ol.results > li").filter(has=unsaved).first
    searched = found.locator("a.title").get_attribute("href").rsplit("/", 1)[-1]  # type: ignore[union-attr]
    found.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(f'ol.results > li:has(a[href$="{searched}"])')).to_contain_text(
        f"Saved in {TAG}"
    )

    page.goto("/for-you")
    expect(page.get_by_role("heading", level=1)).to_contain_text("For you")
    listed = entries(page)
    assert listed and dull not in listed and not {first, second, third} & set(listed)
    expect(page.locator("li.reason")).to_have_count(len(listed))
    expect(page.locator("li.reason").first).to_contain_text(f"in your tag {TAG}")
    assert severe_violations(page) == []

    page.goto("/library")
    page.get_by_role("link", name=TAG, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Saved in {TAG}")
    saved = {first, second, third, searched}
    assert set(entries(page)) == saved
    assert severe_violations(page) == []
    feed = page.get_by_role("link", name="private Atom feed").get_attribute("href")

    stranger = browser.new_context(base_url=site_url)  # no session: the secret URL is the key
    atom = stranger.request.get(feed).text()  # type: ignore[arg-type]
    stranger.close()
    assert set(re.findall(r"<id>https://arxiv.org/abs/([^<]+)</id>", atom)) == saved


def test_without_javascript_on_a_phone_the_same_forms_work(browser: Browser, site_url: str) -> None:
    context = browser.new_context(base_url=site_url, java_script_enabled=False, **DEVICES["phone"])
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    sign_up(page, "nojs")
    page.goto("/papers/date/2026-07-01")
    kept, dull = entries(page)[:2]
    row(page, kept).get_by_role("button", name="Save", exact=True).click()  # posts, comes back
    expect(page).to_have_url(re.compile(r"/papers/date/2026-07-01$"))
    expect(row(page, kept)).to_contain_text("Saved in")
    row(page, dull).get_by_role("button", name="Not interested").click()
    expect(row(page, dull)).to_have_count(0)
    page.goto("/for-you")
    listed = entries(page)
    assert listed and dull not in listed and kept not in listed
    expect(page.locator("li.reason").first).to_contain_text("close to «")
    context.close()  # (axe needs JavaScript: the pages' checks are in test_every_page)
