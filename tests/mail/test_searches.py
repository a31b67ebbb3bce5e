"""Saved searches in digests: what matches, new since the last digest, each query run once."""

from __future__ import annotations

from datetime import UTC, date, datetime

from dailypapers.config import Settings
from dailypapers.mail.delivery import send_digests
from dailypapers.mail.search import search_function
from dailypapers.mail.selection import DigestComposer
from dailypapers.storage import Store
from tests.mail.helpers import DAY, subscribe, text_and_html
from tests.smtp_server import Mailbox


def test_a_digest_holds_what_each_saved_search_finds_that_is_new(
    store: Store, mail_settings: Settings, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    subscribe(store, "ada@example.org", "cs.RO", searches=("diffusion", "sparse attention"))
    assert send_digests(store, mail_settings, "daily", DAY).sent == 1
    (message,) = mailbox.to("ada@example.org")
    text, html = text_and_html(message)
    trending, diffusion, attention = text.split("\n\nNew papers matching ")
    assert feed["robots"] in trending and feed["diffusion"] not in trending
    assert diffusion.startswith('"diffusion"')
    assert feed["diffusion"] in diffusion and feed["older"] not in diffusion  # not new
    assert attention.startswith('"sparse attention"') and feed["attention"] in attention
    assert "New papers matching &ldquo;diffusion&rdquo;" in html
    assert f'href="http://testserver/papers/{feed["diffusion"]}"' in html


def test_a_saved_search_alone_makes_a_digest_and_filters_work(
    store: Store, mail_settings: Settings, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    subscribe(
        store,
        "ada@example.org",
        "math.AG" if False else "cs.CV",
        searches=("diffusion cat:q-bio.BM",),
    )
    assert send_digests(store, mail_settings, "daily", DAY).sent == 1
    (message,) = mailbox.to("ada@example.org")
    text, _ = text_and_html(message)
    assert "Trending in" not in text  # cs.CV has nothing on DAY
    assert feed["diffusion"] in text and feed["graphs"] not in text


def test_identical_saved_searches_run_once_per_run(
    store: Store, mail_settings: Settings, feed: dict[str, str]
) -> None:
    subscribers = [
        subscribe(store, f"reader{n}@example.org", searches=("graph networks",)) for n in range(5)
    ]
    real = search_function(mail_settings, store)
    asked: list[tuple[str, date, date]] = []

    def counting(query: str, first: date, last: date) -> list[str]:
        asked.append((query, first, last))
        return real(query, first, last)

    with store.read() as connection:
        composer = DigestComposer(connection, "http://testserver", datetime.now(UTC), counting)
        digests = [composer.compose(s, DAY, None) for s in subscribers]
    assert asked == [("graph networks", DAY, DAY)]
    assert all(d is not None and d.searches[0].papers[0].id == feed["graphs"] for d in digests)
