"""Every page, signed in (as an admin, so the admin pages too), at phone and desktop size: the
header shows who is signed in, axe-core finds no serious or critical violation (colour
contrast in the dark theme too), and at 360 px wide nothing scrolls sideways."""

from __future__ import annotations

import re
from collections.abc import Iterator

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from dailypapers.accounts import set_admin
from dailypapers.storage import Store
from tests.browser.conftest import DEVICES, TIMEOUT_MS
from tests.browser.test_site import KNOWN_ID, PASSWORD, header, log_in, sign_up

SIZES = {"phone": DEVICES["phone"], "desktop": {"viewport": {"width": 1280, "height": 800}}}
NARROWEST = {"width": 360, "height": 740}
SIGNED_OUT_PAGES = ["/login", "/signup", "/forgot"]
FIXED_PAGES = [
    "/papers?week=2026-W27",
    "/papers?month=2026-06",
    "/trending",
    "/search?q=face+recognition",
    "/stats",
    "/about/ranking",
    "/subscribe",
    "/subscription",
    "/account",
    "/submit",
    "/library",
    "/for-you",
    "/no/such/page",
    "/admin/jobs",
    "/admin/follows",
]
READER = "reader"
AXE = Axe()
SEVERE = {"serious", "critical"}
CONTRAST_ONLY = {"runOnly": {"type": "rule", "values": ["color-contrast"]}}


def severe_violations(page: Page, options: dict[str, object] | None = None) -> list[str]:
    """axe-core's serious and critical findings on the page, one line each."""
    found = AXE.run(page, options=options or {"resultTypes": ["violations"]}).response
    return [
        f"{page.url}: {v['id']} ({v['impact']}) at {[n['target'] for n in v['nodes'][:3]]}"
        for v in found["violations"]
        if v["impact"] in SEVERE
    ]


def sideways_scroll(page: Page) -> str | None:
    """What sticks out past a 360 px screen, if anything does."""
    size = page.viewport_size
    page.set_viewport_size(NARROWEST)
    widest = page.evaluate(
        """() => {
            const screen = document.documentElement.clientWidth;
            if (document.documentElement.scrollWidth <= screen) return null;
            const out = [...document.querySelectorAll("body *")].filter(
                (e) => e.getBoundingClientRect().right > screen + 1);
            return out.slice(-3).map((e) => e.tagName + "." + e.className).join(", ") || "?";
        }"""
    )
    page.set_viewport_size(size)  # type: ignore[arg-type]
    return f"{page.url}: {widest}" if widest else None


def small_for_fingers(page: Page) -> list[str]:
    """Fields under 16 px (iOS zooms into them) and tap targets under 44 px, on this page."""
    small = page.evaluate(
        """() => {
            const small = [];
            for (const e of document.querySelectorAll("input:not([type=hidden]), select, textarea"))
                if (parseFloat(getComputedStyle(e).fontSize) < 16) small.push(`field ${e.name}`);
            const targets = "header nav a, header nav button, .vote button, .chip, .pages a";
            for (const e of document.querySelectorAll(targets)) {
                const box = e.getBoundingClientRect();
                const [width, height] = [Math.round(box.width), Math.round(box.height)];
                if (width && (height < 44 || width < 44))
                    small.push(`${width}x${height} ${e.textContent.trim()}`);
            }
            return small;
        }"""
    )
    return [f"{page.url}: {what}" for what in small]


def linked_pages(page: Page) -> list[str]:
    """A paper, an author and a category, as the front page links them (their addresses
    are the site's business), and the reader's profile, as the header links it."""
    page.goto("/")
    entry = page.locator("li.entry").first
    found = [
        entry.locator("a.title").get_attribute("href"),
        entry.locator("a[href^='/authors/']").first.get_attribute("href"),
        entry.locator("a.tag").first.get_attribute("href"),
        header(page).locator("a.who").get_attribute("href"),
    ]
    return [href for href in found if href]


def every_page(page: Page) -> Iterator[str]:
    """Goes to each page the site has; yields each page once it is there."""
    for path in dict.fromkeys(["/", f"/papers/{KNOWN_ID}", *linked_pages(page), *FIXED_PAGES]):
        page.goto(path)
        yield path


def check_pages(page: Page, dark_too: bool) -> list[str]:
    problems: list[str] = []
    for path in every_page(page):
        who = header(page).locator("a.who")
        if who.count() != 1 or who.inner_text() != READER:
            problems.append(f"{path}: the header does not show {READER}")
        problems += severe_violations(page)
        if page.viewport_size["width"] < 600:  # type: ignore[index]
            problems += small_for_fingers(page)
        if dark_too:
            page.emulate_media(color_scheme="dark")
            problems += [f"dark: {p}" for p in severe_violations(page, CONTRAST_ONLY)]
            page.emulate_media(color_scheme="light")
        if (stuck_out := sideways_scroll(page)) is not None:
            problems.append(f"at 360 px: {stuck_out}")
    return problems


def signed_out_problems(page: Page) -> list[str]:
    problems: list[str] = []
    for path in SIGNED_OUT_PAGES:
        page.goto(path)
        expect(header(page).get_by_role("link", name="Log in")).to_be_visible()
        problems += severe_violations(page)
        if (stuck_out := sideways_scroll(page)) is not None:
            problems.append(f"at 360 px: {stuck_out}")
    return problems


def test_every_page_signed_in_accessible_and_within_the_screen(
    browser: Browser, site_url: str, store: Store
) -> None:
    problems: list[str] = []
    for size, screen in SIZES.items():
        context = browser.new_context(base_url=site_url, **screen)  # type: ignore[arg-type]
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        problems += [f"{size} {p}" for p in signed_out_problems(page)]
        if size == "phone":
            sign_up(page, READER)
            set_admin(store, READER)
        else:
            log_in(page, READER, PASSWORD)
            expect(header(page).get_by_role("link", name=READER)).to_be_visible()
        problems += [f"{size} {p}" for p in check_pages(page, dark_too=size == "desktop")]
        context.close()
    assert problems == [], "\n".join(problems)


def test_the_vote_button_says_what_it_does(page: Page) -> None:
    sign_up(page, READER)
    page.goto(f"/papers/{KNOWN_ID}")
    button = page.locator("form.vote button")
    title = page.get_by_role("heading", level=1).inner_text()
    expect(button).to_have_accessible_name(f"Upvote {title}")
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(button).to_have_accessible_name(f"Remove your upvote from {title}")
    expect(button).to_have_attribute("aria-pressed", "true")
    page.reload()  # as the page says it, not only the script
    expect(button).to_have_accessible_name(re.compile(r"^Remove your upvote from "))


def test_the_dark_theme_follows_the_system_and_math_takes_the_text_colour(page: Page) -> None:
    page.emulate_media(color_scheme="dark")
    page.goto("/")
    colours = page.evaluate(
        """() => {
            const main = document.querySelector("main");
            const math = document.createElementNS("http://www.w3.org/1998/Math/MathML", "math");
            math.innerHTML = "<mi>x</mi>";
            main.append(math);
            const style = (e) => getComputedStyle(e);
            return [style(document.body).backgroundColor, style(main).color, style(math).color];
        }"""
    )
    background, text, math = colours
    assert background == "rgb(23, 24, 26)" and text == "rgb(232, 234, 237)" and math == text
    page.emulate_media(color_scheme="light")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
