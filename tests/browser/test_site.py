"""What a reader does on the site, in Chromium, checked on what the page shows: signing up and
in, upvoting in place, submitting a paper from (a fake of) arXiv, commenting, and every page
at phone and desktop width."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

KNOWN_ID = "2606.32040"  # the first paper of the demo's newest day, 2026-07-01
KNOWN_TITLE = "FaceMoE: Mixture of Experts for Low-Resolution Face Recognition"
SUBMITTED_ID = "2606.13677"  # in the fake arXiv's recorded feed, not in the demo
SUBMITTED_TITLE = "Mana: Dexterous Manipulation of Articulated Tools"
PASSWORD = "correct horse battery"


def header(page: Page) -> Locator:
    return page.locator("header.top")


def entry(page: Page, title: str) -> Locator:
    """The list entry of the paper called `title`."""
    return page.get_by_role("listitem").filter(has=page.get_by_role("link", name=title))


def sign_up(page: Page, username: str) -> None:
    page.goto("/signup")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password at least 8 characters").fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(header(page).get_by_role("link", name=username)).to_be_visible()


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def log_out(page: Page) -> None:
    header(page).get_by_role("button", name="Log out").click()
    expect(header(page).get_by_role("link", name="Log in")).to_be_visible()


def test_sign_up_log_out_and_log_in_again(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Papers of Wednesday, 01 July 2026")).to_be_visible()
    expect(page.get_by_role("link", name=KNOWN_TITLE)).to_be_visible()

    sign_up(page, "grace")
    log_out(page)
    expect(header(page).get_by_role("link", name="grace")).to_have_count(0)

    log_in(page, "grace", "not her password")
    expect(page.get_by_role("alert")).to_have_text("wrong username or password")
    expect(header(page).get_by_role("link", name="Log in")).to_be_visible()
    log_in(page, "grace", PASSWORD)
    expect(header(page).get_by_role("link", name="grace")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/$"))


def test_an_upvote_changes_the_count_in_place(page: Page) -> None:
    page.goto("/")
    known = entry(page, KNOWN_TITLE)
    upvote = known.locator("form.vote button")  # its name says what it does: test_every_page
    upvote.click()  # signed out: the script sends us to log in
    expect(page).to_have_url(re.compile(r"/login\?next=.*&vote=2606\.32040$"))

    sign_up(page, "ada")
    count = known.locator(".count")
    before = int(count.inner_text())
    page.evaluate("window.notReloaded = true")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    upvote.click()
    expect(count).to_have_text(str(before + 1))
    expect(known.locator("form.vote")).to_have_class(re.compile(r"\bvoted\b"))
    upvote.click()
    expect(count).to_have_text(str(before))
    expect(known.locator("form.vote")).not_to_have_class(re.compile(r"\bvoted\b"))
    upvote.click()
    expect(count).to_have_text(str(before + 1))
    assert page.evaluate("window.notReloaded") is True and navigations == []

    page.reload()  # the vote was stored
    expect(count).to_have_text(str(before + 1))


def submit(page: Page, text: str) -> None:
    page.goto("/submit")
    page.get_by_label("arXiv id or URL").fill(text)
    page.get_by_role("button", name="Submit").click()


def posted(page: Page) -> Locator:
    """The comment the site took us back to after posting it (the URL ends in #c-ID)."""
    page.wait_for_url(re.compile(r"#c-\d+$"))
    return page.locator(f"#{page.url.rsplit('#', 1)[1]}")


def comment(page: Page, body: str) -> Locator:
    """Post a comment on this paper page; the comment, as shown."""
    page.get_by_label("Comment (Markdown)").fill(body)
    page.get_by_role("button", name="Comment", exact=True).click()
    return posted(page)


def reply(page: Page, to: Locator, body: str) -> Locator:
    to.get_by_text("reply", exact=True).click()  # unfolds the reply form
    to.get_by_label("Reply (Markdown)").fill(body)
    to.get_by_role("button", name="Reply").click()
    return posted(page)


def test_submit_a_paper_by_id_and_discuss_it(page: Page) -> None:
    sign_up(page, "hedy")
    submit(page, "not-an-id")
    expect(page.get_by_role("alert")).to_have_text("not an arXiv id: 'not-an-id'")

    submit(page, f"https://arxiv.org/abs/{SUBMITTED_ID}v1")
    expect(page).to_have_url(re.compile(rf"/papers/{re.escape(SUBMITTED_ID)}$"))
    expect(page.get_by_role("heading", name=SUBMITTED_TITLE)).to_be_visible()
    expect(page.get_by_text("submitted by hedy")).to_be_visible()
    page.goto(f"/papers?date={datetime.now(UTC).date()}")
    submitted = entry(page, SUBMITTED_TITLE)
    expect(submitted.get_by_role("link", name=SUBMITTED_TITLE)).to_be_visible()
    expect(submitted.get_by_text("submitted by hedy")).to_be_visible()

    submitted.get_by_role("link", name=SUBMITTED_TITLE).click()
    first = comment(page, "A **clear** result.")
    expect(first.get_by_text("clear", exact=True)).to_have_css("font-weight", "700")
    second = reply(page, first, "Agreed: the tools are the point.")
    expect(second).to_contain_text("Agreed: the tools are the point.")
    expect(second.get_by_role("link", name="parent")).to_be_visible()
    assert second.bounding_box()["x"] > first.bounding_box()["x"]  # nested: indented

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    script = "<script>alert('gotcha')</script>"
    shown = comment(page, script).locator(".comment-body")
    expect(shown).to_have_text(script)
    page.reload()
    expect(shown).to_be_visible()
    assert dialogs == []

    log_out(page)
    expect(page.get_by_role("link", name="Sign up")).to_be_visible()


# Every page, with the heading it shows: signed out first, then the pages for members.
def test_search_from_the_header_then_similar_papers(page: Page) -> None:
    page.goto("/")
    # the server's background job builds the vector index from the shipped embeddings
    assert _vectors_ready(page), "no vector index within a minute"
    box = header(page).get_by_role("searchbox", name="Search papers")
    box.fill("face super-resolution")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=face\+super-resolution"))
    results = page.locator("ol.results > li")
    expect(results.first).to_be_visible()
    expect(results.first.locator(".excerpt mark").first).to_be_visible()
    page.get_by_role("combobox", name="How to match").select_option("semantic")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page).to_have_url(re.compile(r"mode=semantic"))
    first = results.first.locator("a.title")
    title = first.inner_text()
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator("#similar ol.results > li")).to_have_count(6)


def _vectors_ready(page: Page) -> bool:
    for _ in range(60):
        if page.request.get(f"/papers/{KNOWN_ID}/similar.json").json()["results"]:
            return True
        page.wait_for_timeout(1000)
    return False


PAGES_SIGNED_OUT = [
    ("front", "/", "Papers of Wednesday, 01 July 2026"),
    ("week", "/papers?week=2026-W27", "Papers of week 2026-W27"),
    ("month", "/papers?month=2026-06", "Papers of June 2026"),
    ("trending", "/trending", "Trending over the last 7 days"),
    ("paper", f"/papers/{KNOWN_ID}", KNOWN_TITLE),
    ("author", "/authors/Kartik%20Narayan", "Papers by Kartik Narayan"),
    ("category", "/categories/cs.CV", "Newest in cs.CV"),
    ("stats", "/stats", "Stats"),
    ("search", "/search?q=face+restoration+diffusion", "Search"),
    ("ranking", "/about/ranking", "How ranking works"),
    ("not-found", "/papers/2401.99999", "Not found"),
    ("login", "/login", "Log in"),
    ("signup", "/signup", "Sign up"),
]
PAGES_SIGNED_IN = [
    ("submit", "/submit", "Submit a paper"),
    ("account", "/account", "lin"),
]


def check_fits(page: Page, heading: str, screenshot: Path) -> None:
    """The page shows `heading` in full width and scrolls only up and down."""
    h1 = page.locator("h1")
    expect(h1).to_have_text(heading)
    expect(h1).to_be_visible()
    box = h1.bounding_box()
    width = page.evaluate("window.innerWidth")
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (screenshot.name, box)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width + 1, (screenshot.name, scroll_width, width)
    page.screenshot(path=screenshot, full_page=True)


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_every_page_fits_the_screen(page: Page, device: str, screenshots: Path) -> None:
    for name, path, heading in PAGES_SIGNED_OUT:
        response = page.goto(path)
        assert response.status == (404 if name == "not-found" else 200), path
        check_fits(page, heading, screenshots / f"{device}-{name}.png")
    sign_up(page, "lin")
    for name, path, heading in PAGES_SIGNED_IN:
        assert page.goto(path).status == 200, path
        check_fits(page, heading, screenshots / f"{device}-{name}.png")
    page.goto(f"/papers/{KNOWN_ID}")
    reply(page, comment(page, "Does it hold at *8 px* faces?"), "Section 5 says so.")
    check_fits(page, KNOWN_TITLE, screenshots / f"{device}-paper-discussed.png")
