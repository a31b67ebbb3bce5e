"""What a digest shows: each section ends with "see all N" on the site, authors and math as the
site shows them, and one warning at start-up (not per mail) when the site's address is unset."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Settings, base_url_warning
from dailypapers.demo import load_demo_if_empty
from dailypapers.mail.delivery import send_digests
from dailypapers.mail.selection import author_line, window_path
from dailypapers.storage import Store
from dailypapers.storage.library import save_papers
from dailypapers.storage.subscriptions import update_subscriber
from dailypapers.storage.upserts import upsert_papers
from dailypapers.storage.users import create_user
from dailypapers.web import create_app
from tests.factories import make_paper
from tests.mail.helpers import DAY, DAY_BEFORE, Run, subscribe, text_and_html
from tests.smtp_server import Mailbox

SEE_ALL = re.compile(r"See all (\d+\+?) on the site:\n  (\S+)")


def see_all(text: str) -> list[tuple[str, str]]:
    """Each section's "see all" count and link, from the text part."""
    return SEE_ALL.findall(text)


def on_site(store: Store, url: str) -> dict[str, object]:
    """The JSON twin of the page a mail links to."""
    parts = urlsplit(url)
    assert parts.netloc == "testserver"
    site = TestClient(create_app(Settings(), store))
    response = site.get(f"{parts.path}.json?{parts.query}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_each_section_ends_with_all_of_its_papers_on_the_site(
    store: Store, mail_settings: Settings, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    subscribe(store, "ada@example.org", "cs.LG", "cs.CL")
    subscribe(store, "bob@example.org", "cs.RO", frequency="weekly", searches=("diffusion",))
    send_digests(store, mail_settings, "daily", DAY)
    send_digests(store, mail_settings, "weekly", DAY)

    text, html = text_and_html(mailbox.to("ada@example.org")[0])
    ((count, url),) = see_all(text)
    assert (
        url
        == "http://testserver/papers/date/2026-07-01?category=cs.CL&category=cs.LG&sort=trending"
    )
    assert count == "3" and f'href="{url.replace("&", "&amp;")}"' in html
    listed = on_site(store, url)
    assert listed["total"] == 3 and listed["sort"] == "trending"

    text, html = text_and_html(mailbox.to("bob@example.org")[0])
    (trending, search) = see_all(text)
    assert trending[1] == "http://testserver/papers/week/2026-W27?category=cs.RO&sort=trending"
    assert trending[0] == "1"
    assert search[0] == "2"  # "diffusion" in the titles of both days
    query = parse_qs(urlsplit(search[1]).query)["q"]
    assert query == ["diffusion after:2026-06-30 before:2026-07-01"]
    assert urlsplit(search[1]).path == "/search"


def test_a_section_says_how_many_more_it_leaves_out(
    store: Store, mail_settings: Settings, mailbox: Mailbox
) -> None:
    many = [make_paper(title=f"Kernels number {n}", categories=["math.NA"]) for n in range(14)]
    with store.transaction() as connection:
        upsert_papers(connection, many)
    subscribe(store, "ada@example.org", "math.NA", searches=("kernels",))
    send_digests(store, mail_settings, "daily", date(2024, 1, 3))
    text, _ = text_and_html(mailbox.to("ada@example.org")[0])
    assert [count for count, _ in see_all(text)] == ["14", "14"]
    assert text.count("\n* ") == 20  # ten of each shown


def test_authors_and_math_read_as_on_the_site(
    store: Store, mail_settings: Settings, mailbox: Mailbox
) -> None:
    paper = make_paper(
        title=r"Sorting in $\mathcal{O}(n \log n)$ with $\alpha$-stable noise",
        abstract=r"We bound the error by $\epsilon^2$ for every $n \geq 1$.",
        authors=[f"Author Number{n}" for n in range(1, 9)],
        categories=["cs.DS"],
    )
    with store.transaction() as connection:
        upsert_papers(connection, [paper])
    subscribe(store, "ada@example.org", "cs.DS")
    send_digests(store, mail_settings, "daily", date(2024, 1, 3))
    text, html = text_and_html(mailbox.to("ada@example.org")[0])
    for part in (text, html):
        assert "$" not in part and "\\mathcal" not in part
        assert "α" in part and "≥" in part
        assert "Author Number1, Author Number2" in part
        assert "Author Number6, et al." in part and "Number7" not in part
    assert author_line(["A", "B"]) == "A, B"
    assert author_line([f"A{n}" for n in range(6)]) == "A0, A1, A2, A3, A4, A5"


@pytest.mark.parametrize(
    ("first", "last", "path"),
    [
        (DAY, DAY, "/papers/date/2026-07-01"),
        (DAY_BEFORE, DAY, "/papers/week/2026-W27"),
        (date(2026, 6, 10), date(2026, 6, 20), "/papers/month/2026-06"),
        (date(2026, 6, 26), DAY, "/papers/date/2026-07-01"),  # two months: the newest day
    ],
)
def test_the_site_list_of_a_digests_days(first: date, last: date, path: str) -> None:
    assert window_path((first, last)) == path


def test_an_unset_site_address_is_one_warning_at_start_up(
    dailypapers: Run, feed: dict[str, str]
) -> None:
    for email in ("ada@example.org", "bob@example.org", "cy@example.org"):
        assert dailypapers("subscriber", "add", email).exit_code == 0
    unset = {"DAILYPAPERS_BASE_URL": None}
    sent = dailypapers("digest", "send", "--date", "2026-07-01", env=unset)
    assert sent.exit_code == 0, sent.output
    assert sent.output.count("DAILYPAPERS_BASE_URL is not set") == 1
    assert "sent 3" in sent.output
    again = dailypapers("digest", "send", "--date", "2026-07-02")
    assert again.exit_code == 0 and "BASE_URL" not in again.output

    assert base_url_warning(Settings()) is None  # no mail, no links to warn about
    assert base_url_warning(Settings(smtp_host="mail.example.org")) is not None
    assert base_url_warning(Settings(smtp_host="mail.example.org", base_url="https://x")) is None
    assert base_url_warning(Settings(), mails=True) is not None  # a dry run writes mails too


def test_a_reader_with_a_library_gets_for_you_first(
    store: Store, mail_settings: Settings, mailbox: Mailbox
) -> None:
    load_demo_if_empty(store)
    now = datetime.now(UTC)
    with store.transaction() as connection:
        reader = create_user(connection, "ada", "unused", now, False)
        save_papers(connection, reader.id, "faces", ["2606.32040", "2606.31703"], now)
    linked = subscribe(store, "ada@example.org", "cs.CL")
    subscribe(store, "bob@example.org", "cs.CL")  # no account: no "for you"
    with store.transaction() as connection:
        update_subscriber(connection, linked.id, user_id=reader.id)
    send_digests(store, mail_settings, "daily", DAY)

    text, html = text_and_html(mailbox.to("ada@example.org")[0])
    assert text.index("For you") < text.index("Trending in cs.CL")
    assert text.count("  Why: close to «") == 5 and "in your tag faces" in text
    assert "More for you on the site:\n  http://testserver/for-you?date=2026-07-01" in text
    assert html.count("Why: close to «") == 5
    other, _ = text_and_html(mailbox.to("bob@example.org")[0])
    assert "For you" not in other and "Why:" not in other
