"""A reader's morning, end to end, on a phone and on a laptop: browse the day, the week and the
month, jump to a day, filter to a category, read an abstract and an equation, search three
ways, upvote while signed out, and discuss a paper; axe-core checks every page on the way."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import DEVICES, TIMEOUT_MS
from tests.browser.test_every_page import severe_violations
from tests.browser.test_site import (
    KNOWN_ID,
    KNOWN_TITLE,
    PASSWORD,
    comment,
    header,
    log_out,
    sign_up,
)

SCREENS = {"phone": DEVICES["phone"], "desktop": {"viewport": {"width": 1280, "height": 800}}}
READER = "early-bird"
PICKED_DAY, PICKED_HEADING = "2026-06-24", "Papers of Wednesday, 24 June 2026"
MATH_PAPER = "2606.22472"  # "Quantum Codes with Transversal $CCZ$ Gates …"
AUTHOR, AUTHOR_PATH = "Chengzhi Zhang", "/authors/Chengzhi%20Zhang"
MISSPELT, SPELT = "metacogntive", "metacognitive"
SPELT_TITLE = (
    "Reinforcement Learning with Metacognitive Feedback Elicits Faithful Uncertainty "
    "Expression in LLMs"
)

Audit = dict[str, list[str]]  # axe-core's severe findings, by the URL they were found on


@pytest.fixture
def page(browser: Browser, site_url: str, device: str) -> Iterator[Page]:
    """As conftest's `page`, on this test's screens (the desktop here is a 1280×800 laptop)."""
    context = browser.new_context(base_url=site_url, **SCREENS[device])  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def audit(page: Page, found: Audit) -> None:
    found.setdefault(page.url, []).extend(severe_violations(page))


def heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def tab(page: Page, period: str, path: str, title: str, found: Audit) -> None:
    """Click the day/week/month tab; the list of that period shows."""
    periods = page.get_by_role("navigation", name="Periods")
    periods.get_by_role("link", name=period, exact=True).click()
    expect(page).to_have_url(re.compile(rf"{re.escape(path)}$"))
    heading(page, title)
    expect(periods.locator("[aria-current=page]")).to_have_text(period)
    audit(page, found)


def browse_the_periods(page: Page, found: Audit) -> None:
    page.goto("/")
    heading(page, "Papers of Wednesday, 01 July 2026")
    audit(page, found)
    tab(page, "week", "/papers/week/2026-W27", "Papers of week 2026-W27", found)
    tab(page, "month", "/papers/month/2026-07", "Papers of July 2026", found)
    tab(page, "day", "/papers/date/2026-07-01", "Papers of Wednesday, 01 July 2026", found)


def pick_a_day(page: Page, found: Audit) -> None:
    picker = page.get_by_label("Go to a day")
    expect(picker).to_have_attribute("min", "2026-06-23")
    expect(picker).to_have_attribute("max", "2026-07-01")
    picker.fill(PICKED_DAY)
    page.get_by_role("button", name="Go", exact=True).click()  # GET /papers?date=… redirects
    expect(page).to_have_url(re.compile(rf"/papers/date/{PICKED_DAY}$"))
    heading(page, PICKED_HEADING)
    audit(page, found)


def filter_to_cs_cl(page: Page, found: Audit) -> None:
    chips = page.get_by_role("navigation", name="Categories")
    chips.get_by_role("link", name="cs.CL", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/papers/date/{PICKED_DAY}\?category=cs\.CL$"))
    heading(page, PICKED_HEADING)
    expect(chips.get_by_role("link", name="cs.CL", exact=True)).to_have_attribute(
        "aria-current", "true"
    )
    entries = page.locator("ol.entries > li.entry")
    expect(entries.first).to_be_visible()
    cs_cl = page.get_by_role("link", name="cs.CL", exact=True)
    expect(entries.filter(has_not=cs_cl)).to_have_count(0)  # every entry is tagged cs.CL
    audit(page, found)


def expand_an_abstract(page: Page, found: Audit) -> None:
    abstract = page.locator("li.entry details.abstract").first
    rest = abstract.locator("p")
    expect(rest).to_be_hidden()
    url = page.url
    abstract.locator("summary").click()
    expect(abstract).to_have_attribute("open", "")
    expect(rest).to_be_visible()
    assert page.url == url  # in place: no navigation
    audit(page, found)


def read_an_equation(page: Page, found: Audit) -> None:
    page.goto(f"/papers/{MATH_PAPER}")
    title = page.get_by_role("heading", level=1)
    expect(title).to_contain_text("Quantum Codes with Transversal")
    expect(title.locator("math").first).to_be_visible()  # MathML, drawn by the browser
    audit(page, found)


def search(page: Page, query: str) -> None:
    box = header(page).get_by_role("searchbox", name="Search papers")
    box.fill(query)
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q="))
    heading(page, "Search")


def first_result(page: Page) -> Locator:
    return page.locator("ol.results > li").first


def search_three_ways(page: Page, found: Audit) -> None:
    search(page, f"arxiv.org/abs/{KNOWN_ID}")
    expect(first_result(page).locator("a.title")).to_have_text(KNOWN_TITLE)
    audit(page, found)

    search(page, AUTHOR)
    expect(first_result(page).locator(".authors")).to_contain_text(AUTHOR)
    author_link = page.locator("p.notice").get_by_role("link", name=AUTHOR, exact=True)
    expect(author_link).to_have_attribute("href", AUTHOR_PATH)
    audit(page, found)
    author_link.click()
    heading(page, f"Papers by {AUTHOR}")
    audit(page, found)

    search(page, MISSPELT)
    expect(page.locator("p.notice")).to_have_text(f"Searched for {SPELT} (you typed {MISSPELT}).")
    expect(first_result(page).locator("a.title")).to_have_text(SPELT_TITLE)
    audit(page, found)


def upvote_signed_out_then_log_in(page: Page, found: Audit) -> None:
    """A signed-out upvote asks to log in; logging in there counts it."""
    log_out(page)
    page.goto(f"/papers/{KNOWN_ID}")
    count = page.locator("form.vote .count")
    before = int(count.inner_text())
    audit(page, found)
    page.get_by_role("button", name=f"Upvote {KNOWN_TITLE}").click()
    expect(page).to_have_url(re.compile(rf"/login\?next=.*&vote={re.escape(KNOWN_ID)}$"))
    heading(page, f"Log in to upvote «{KNOWN_TITLE}»")
    audit(page, found)
    page.get_by_label("Username").fill(READER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(rf"/papers/{re.escape(KNOWN_ID)}(#.*)?$"))
    expect(header(page).get_by_role("link", name=READER)).to_be_visible()
    expect(count).to_have_text(str(before + 1))
    voted = page.get_by_role("button", name=f"Remove your upvote from {KNOWN_TITLE}")
    expect(voted).to_have_attribute("aria-pressed", "true")
    audit(page, found)


def discuss(page: Page, found: Audit) -> None:
    """A blank comment is refused by the form, the page kept; a real one is posted."""
    page.get_by_label("Comment (Markdown)").fill("   ")  # passes `required`, blank once trimmed
    page.get_by_role("button", name="Comment", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Write something first.")
    heading(page, KNOWN_TITLE)
    expect(page.get_by_label("Comment (Markdown)")).to_have_attribute("aria-invalid", "true")
    audit(page, found)
    shown = comment(page, "Does the *8 px* result hold on video?")
    expect(shown.locator(".comment-body")).to_have_text("Does the 8 px result hold on video?")
    expect(shown).to_contain_text(READER)
    expect(page.get_by_role("alert")).to_have_count(0)
    audit(page, found)


@pytest.mark.parametrize("device", list(SCREENS))
def test_a_morning(page: Page, device: str) -> None:
    found: Audit = {}
    page.goto("/signup")
    audit(page, found)
    sign_up(page, READER)
    audit(page, found)
    browse_the_periods(page, found)
    pick_a_day(page, found)
    filter_to_cs_cl(page, found)
    expand_an_abstract(page, found)
    read_an_equation(page, found)
    search_three_ways(page, found)
    upvote_signed_out_then_log_in(page, found)
    discuss(page, found)
    problems = [line for lines in found.values() for line in lines]
    assert problems == [], "\n".join(problems)
