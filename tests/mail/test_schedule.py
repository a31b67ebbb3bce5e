"""Digests at the digest hour of each subscriber's time zone, as `serve`'s scheduler sends them."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from dailypapers.config import Settings
from dailypapers.mail.delivery import send_due_digests
from dailypapers.storage import Store
from dailypapers.storage.upserts import upsert_papers
from tests.factories import make_paper
from tests.live_server import running_server
from tests.mail.helpers import subscribe
from tests.smtp_server import Mailbox


def test_digests_go_out_from_the_digest_hour_in_each_subscribers_time_zone(
    store: Store, mail_settings: Settings, mailbox: Mailbox, feed: dict[str, str]
) -> None:
    subscribe(store, "tokyo@example.org", time_zone="Asia/Tokyo")
    subscribe(store, "paris@example.org", time_zone="Europe/Paris")
    subscribe(store, "weekly@example.org", time_zone="Europe/Paris", frequency="weekly")
    settings = mail_settings.model_copy(update={"digest_hour": 8})
    # 1 July 2026 (a Wednesday) 00:30 UTC: 09:30 in Tokyo, 02:30 in Paris.
    report = send_due_digests(store, settings, datetime(2026, 7, 1, 0, 30, tzinfo=UTC))
    assert (report.subscribers, report.sent) == (1, 1)
    assert report.sent == len(mailbox.to("tokyo@example.org")) == 1
    # 06:30 UTC: 08:30 in Paris. Tokyo had its digest of 1 July already.
    report = send_due_digests(store, settings, datetime(2026, 7, 1, 6, 30, tzinfo=UTC))
    assert (report.subscribers, report.sent, report.earlier) == (2, 1, 1)
    assert len(mailbox.to("paris@example.org")) == 1
    # Weekly digests go out on Mondays: 6 July 2026, covering the week up to 1 July.
    report = send_due_digests(store, settings, datetime(2026, 7, 6, 6, 30, tzinfo=UTC))
    assert len(mailbox.to("weekly@example.org")) == 1
    assert report.sent == 1 and report.empty == 2  # nothing new for the daily ones


def test_serve_mails_the_due_digests_once_whatever_its_workers(
    store: Store, database_url: str, mailbox: Mailbox, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    with store.transaction() as connection:
        upsert_papers(connection, [make_paper(title="A paper of today", listed=[today])])
    subscribe(store, "ada@example.org")
    env = {**mailbox.environment, "DAILYPAPERS_DIGEST_HOUR": "0"}
    with running_server(database_url, tmp_path / "serve.log", "--workers", "2", env=env):
        deadline = time.monotonic() + 30
        while not mailbox.count() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # time for a second scheduler, if there were one, to mail too
    (digest,) = mailbox.to("ada@example.org")
    assert "A paper of today" in digest.get_body(("plain",)).get_content()
