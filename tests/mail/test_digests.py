"""Digests through a real SMTP server: content, headers, once per period, nothing empty."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dailypapers.config import Settings
from dailypapers.mail.delivery import send_digests
from dailypapers.mail.render import digest_heading
from dailypapers.mail.selection import DigestComposer
from dailypapers.storage import Store
from tests.mail.helpers import DAY, DAY_BEFORE, subscribe, text_and_html
from tests.smtp_server import Mailbox


def test_a_digest_holds_the_days_papers_of_the_subscribers_categories(
    store: Store, mail_settings: Settings, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    subscribe(store, "ada@example.org", "cs.LG")
    report = send_digests(store, mail_settings, "daily", DAY)
    assert (report.sent, report.empty, report.earlier) == (1, 0, 0)
    (message,) = mailbox.to("ada@example.org")
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "Daily papers of Wednesday, 1 July 2026"
    assert message["From"] == "Daily Papers <digest@papers.example.org>"
    text, html = text_and_html(message)
    for name in ("diffusion", "graphs"):
        assert f"http://testserver/papers/{feed[name]}" in text
        assert f'href="http://testserver/papers/{feed[name]}"' in html
    for name in ("attention", "robots", "older"):
        assert feed[name] not in text and feed[name] not in html


def test_a_second_run_for_the_same_period_sends_nothing(
    store: Store, mail_settings: Settings, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    subscribe(store, "ada@example.org")
    assert send_digests(store, mail_settings, "daily", DAY).sent == 1
    again = send_digests(store, mail_settings, "daily", DAY)
    assert (again.sent, again.earlier) == (0, 1)
    later = send_digests(store, mail_settings, "daily", DAY.replace(day=2))
    assert (later.sent, later.empty) == (0, 1)  # no new feed day since
    assert mailbox.count() == 1


def test_no_mail_when_nothing_matches(
    store: Store, mail_settings: Settings, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    subscribe(store, "bob@example.org", "cs.CV")  # its only paper is of the day before
    report = send_digests(store, mail_settings, "daily", DAY)
    assert (report.sent, report.empty) == (0, 1)
    assert mailbox.count() == 0


def test_weekly_digests_cover_the_week(
    store: Store, mail_settings: Settings, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    subscribe(store, "ada@example.org", "cs.CV", "cs.RO", frequency="weekly")
    assert send_digests(store, mail_settings, "daily", DAY).subscribers == 0
    assert send_digests(store, mail_settings, "weekly", DAY).sent == 1
    (message,) = mailbox.to("ada@example.org")
    assert message["Subject"] == "Weekly papers, 30 June 2026 to 1 July 2026"  # days with papers
    text, _ = text_and_html(message)
    assert feed["older"] in text and feed["robots"] in text


def test_new_since_the_last_digest(
    store: Store, mail_settings: Settings, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    subscribe(store, "ada@example.org", "cs.CV", "cs.LG", frequency="weekly")
    assert send_digests(store, mail_settings, "weekly", DAY_BEFORE).sent == 1
    assert send_digests(store, mail_settings, "weekly", DAY).sent == 1
    first, second = mailbox.to("ada@example.org")
    assert (
        feed["older"] in text_and_html(first)[0]
        and feed["diffusion"] not in text_and_html(first)[0]
    )
    assert (
        feed["diffusion"] in text_and_html(second)[0]
        and feed["older"] not in text_and_html(second)[0]
    )


def test_a_daily_digest_catches_up_on_days_it_missed(store: Store, feed: dict[str, str]) -> None:
    ada = subscribe(store, "ada@example.org", "cs.CV", "cs.LG")
    with store.read() as connection:
        composer = DigestComposer(connection, "http://testserver", datetime.now(UTC))
        first = composer.compose(ada, DAY, last_sent=None)
        missed = composer.compose(ada, DAY, last_sent=DAY_BEFORE - timedelta(days=1))
        far_back = composer.compose(ada, DAY, last_sent=DAY - timedelta(days=100))
        done = composer.compose(ada, DAY, last_sent=DAY)
    assert first is not None and first.days == (DAY, DAY)
    assert {paper.id for paper in first.trending} == {feed["diffusion"], feed["graphs"]}
    assert missed is not None and missed.days == (DAY_BEFORE, DAY) == far_back.days  # type: ignore[union-attr]
    assert {paper.id for paper in missed.trending} == {
        feed["diffusion"],
        feed["graphs"],
        feed["older"],
    }
    assert digest_heading(missed) == "Daily papers, 30 June 2026 to 1 July 2026"
    assert done is None
