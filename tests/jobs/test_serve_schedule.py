"""`serve` alone keeps the site current, on a clock the test moves: the day comes in after
arXiv's announcement, the 07:00 digests go out after it, and a feed that fails all night
makes the day late, not lost."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from dailypapers.storage import Store
from tests.conftest import shared
from tests.fake_arxiv import FEEDS, FakeArxiv, fake_arxiv
from tests.live_server import server_process
from tests.mail.helpers import subscribe
from tests.smtp_server import Mailbox

EASTERN = ZoneInfo("America/New_York")
READER = "reader@lab.example"
WAIT_S = 120.0  # the most a step may take on a loaded machine (embedding included)


def empty_feed(day: datetime) -> bytes:
    """arXiv's feed of a day without an announcement, dated `day`."""
    saturday = shared(f"{FEEDS}/2026-06-27.xml").read_bytes()
    return saturday.replace(b"Sat, 27 Jun 2026", day.strftime("%a, %d %b %Y").encode())


@pytest.fixture
def arxiv() -> Iterator[FakeArxiv]:
    with fake_arxiv() as fake:
        yield fake


class SetClock:
    def __init__(self, path: Path) -> None:
        self.path = path

    def set(self, year: int, month: int, day: int, hour: int, minute: int = 0) -> None:
        self.set_to(datetime(year, month, day, hour, minute, tzinfo=EASTERN))

    def set_to(self, moment: datetime) -> None:
        self.path.write_text(moment.isoformat())


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, f"not within {WAIT_S:.0f} s: {what}"
        time.sleep(0.2)


def morning(clock: SetClock, mailbox: Mailbox, day: int, hour: int) -> None:
    """Time passes from `hour`:01, a minute every second, until the reader's digest comes."""
    start = datetime(2026, 6, day, hour, 1, tzinfo=EASTERN)
    for minute in range(int(WAIT_S)):
        clock.set_to(start + timedelta(minutes=minute))
        time.sleep(1)
        if mailbox.to(READER):
            return
    raise AssertionError(f"no digest within {WAIT_S:.0f} minutes of {start:%H:%M}")


def day_count(url: str, day: str) -> int:
    """Papers on the first page of the day's list."""
    answer = httpx.get(f"{url}/papers/date/{day}.json", timeout=30)
    assert answer.status_code == 200
    return len(answer.json()["entries"])


@pytest.fixture
def site_env(
    tmp_path: Path, arxiv: FakeArxiv, mailbox: Mailbox, store: Store
) -> tuple[dict[str, str], SetClock]:
    clock = SetClock(tmp_path / "clock")
    clock.set(2026, 6, 25, 19, 30)  # Thursday, before the 20:00 announcement
    arxiv.feed_body = empty_feed(datetime(2026, 6, 25))  # the feed still shows Thursday
    subscribe(store, READER, "cs.CL", time_zone="America/New_York")
    env = {
        **arxiv.env(),
        **mailbox.environment,
        "DAILYPAPERS_DATA_DIR": str(tmp_path),
        "DAILYPAPERS_CLOCK_FILE": str(clock.path),
        "DAILYPAPERS_HTTP_RETRIES": "0",  # the jobs retry, on the clock the test moves
        "DAILYPAPERS_DIGEST_HOUR": "7",
    }
    return env, clock


def test_serve_brings_the_day_in_after_the_announcement_then_mails_the_digest(
    database_url: str,
    tmp_path: Path,
    arxiv: FakeArxiv,
    mailbox: Mailbox,
    site_env: tuple[dict[str, str], SetClock],
) -> None:
    env, clock = site_env
    with server_process(database_url, tmp_path / "server.log", env=env) as (_server, url):
        eventually(lambda: len(arxiv.feeds_asked()) >= 1, "the first look at the feed")
        time.sleep(1)
        assert day_count(url, "2026-06-26") == 0

        clock.set(2026, 6, 25, 20, 6)  # just after the announcement
        arxiv.feed_body, arxiv.day = None, "2026-06-26"
        eventually(lambda: day_count(url, "2026-06-26") > 0, "the day stored")
        stored_at = time.monotonic()
        assert mailbox.to(READER) == []  # not before 07:00 in the reader's zone

        morning(clock, mailbox, 26, 7)
        assert time.monotonic() > stored_at
    digest = mailbox.to(READER)
    assert len(digest) == 1
    assert "2606." in digest[0].get_body(("plain",)).get_content()  # the day's papers


def test_a_feed_failing_all_night_brings_the_day_in_at_the_next_successful_try(
    database_url: str,
    tmp_path: Path,
    arxiv: FakeArxiv,
    mailbox: Mailbox,
    site_env: tuple[dict[str, str], SetClock],
) -> None:
    env, clock = site_env
    with server_process(database_url, tmp_path / "server.log", env=env) as (_server, url):
        eventually(lambda: len(arxiv.feeds_asked()) >= 1, "the first look at the feed")
        arxiv.feed_body, arxiv.day = None, "2026-06-26"
        arxiv.failing = 10_000  # every answer a 503 from now on
        for hour, minute in ((20, 6), (21, 0), (23, 30)):
            clock.set(2026, 6, 25, hour, minute)
            eventually(lambda: arxiv.failing < 10_000, "a try at the feed")
            arxiv.failing = 10_000
        clock.set(2026, 6, 26, 7, 1)  # the digest hour: it waits for the day
        eventually(lambda: arxiv.failing < 10_000, "a try at the feed")
        time.sleep(2)
        assert day_count(url, "2026-06-26") == 0
        assert mailbox.to(READER) == []

        arxiv.failing = 0  # arXiv is back at 09:00
        clock.set(2026, 6, 26, 9, 0)
        eventually(lambda: day_count(url, "2026-06-26") > 0, "the day at the next try")
        morning(clock, mailbox, 26, 9)
    assert "2606." in mailbox.to(READER)[0].get_body(("plain",)).get_content()
