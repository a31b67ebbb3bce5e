"""The job kinds in one process, on a clock the test sets: a job that keeps failing mails
the admins once; Hugging Face picks come in when asked for; what is followed is checked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from dailypapers.accounts import sign_up
from dailypapers.clock import Clock
from dailypapers.config import Settings
from dailypapers.ingest.errors import IngestError
from dailypapers.ingest.taxonomy import check_follows, oai_set
from dailypapers.jobs.kinds import ANNOUNCEMENTS, HF_DAILY
from dailypapers.jobs.queue import enqueue, list_jobs
from dailypapers.jobs.site import site_worker
from dailypapers.storage import Store
from dailypapers.storage.locks import exclusive
from dailypapers.storage.schema import submissions, users
from tests.conftest import shared
from tests.fake_arxiv import FakeArxiv, fake_arxiv
from tests.smtp_server import Mailbox


@pytest.fixture
def arxiv() -> Iterator[FakeArxiv]:
    with fake_arxiv() as fake:
        yield fake


def settings_for(arxiv: FakeArxiv, tmp_path: Path, **more: object) -> Settings:
    return Settings(
        data_dir=tmp_path,
        follow="cs.CL cs.LG",
        arxiv_rss_url=arxiv.rss_url,
        oai_url=arxiv.oai_url,
        arxiv_api_url=arxiv.api_url,
        polite_delay=0,
        http_retries=0,
        clock_file=tmp_path / "clock",
        **more,
    )


def test_a_job_that_keeps_failing_mails_the_admins_once(
    store: Store, tmp_path: Path, arxiv: FakeArxiv, mailbox: Mailbox
) -> None:
    settings = settings_for(
        arxiv,
        tmp_path,
        contact_email="ops@lab.example",
        **{key.lower(): value for key, value in _mail(mailbox).items()},
    )
    sign_up(store, "root", "a long enough password", is_admin=True)
    with store.transaction() as connection:  # an admin with a confirmed address
        connection.execute(
            users.update().values(email="root@lab.example", email_confirmed_at=datetime.now(UTC))
        )
    arxiv.failing = 10_000
    clock = Clock(settings.clock_file)
    moment = datetime(2026, 6, 25, 20, 10, tzinfo=UTC)
    for _ in range(6):  # six failed tries, each after the backoff of the one before
        settings.clock_file.write_text(moment.isoformat())
        site_worker(settings, store, clock, kinds=(ANNOUNCEMENTS,)).run_until_idle()
        moment += timedelta(hours=1)
    with store.read() as connection:
        job = next(job for job in list_jobs(connection) if job.key == ANNOUNCEMENTS)
    assert job.attempts == 6 and "HTTP 503" in (job.last_error or "")
    for address in ("ops@lab.example", "root@lab.example"):
        alerts = mailbox.to(address)
        assert len(alerts) == 1, address
        assert "announcements" in alerts[0]["Subject"]
        assert "HTTP 503" in alerts[0].get_body(("plain",)).get_content()


def _mail(mailbox: Mailbox) -> dict[str, str]:
    return {key.removeprefix("DAILYPAPERS_"): value for key, value in mailbox.environment.items()}


def test_hugging_face_picks_come_in_with_their_upvotes(
    store: Store, tmp_path: Path, arxiv: FakeArxiv
) -> None:
    recorded = sorted(shared("fixtures/hf-daily-papers").glob("*.json"))[0]
    arxiv.hf_body = recorded.read_bytes()
    settings = settings_for(arxiv, tmp_path, hf_daily=True, hf_url=arxiv.hf_url)
    now = datetime(2026, 6, 26, 12, tzinfo=UTC)
    settings.clock_file.write_text(now.isoformat())
    with store.bookkeeping() as connection:
        enqueue(connection, HF_DAILY, "hf-daily:2026-06-26", {"day": "2026-06-26"}, now)
    site_worker(settings, store, kinds=(HF_DAILY,)).run_until_idle()
    asked = [request for request in arxiv.requests if request.path == "/api/daily_papers"]
    assert [request.params for request in asked] == [{"date": "2026-06-26"}]
    with store.read() as connection:
        upvotes = connection.scalars(select(submissions.c.upvotes)).all()
    assert upvotes and any(upvotes)


@pytest.mark.parametrize("name", ["cs.XX", "physics.nope", "cs.LG; drop", "", "a" * 500])
def test_unknown_categories_are_refused_with_the_reason(name: str) -> None:
    if not name:
        assert check_follows([name]) == []
        return
    with pytest.raises(IngestError, match="unknown arXiv categor"):
        check_follows(["cs.LG", name])


def test_followed_names_map_to_their_oai_sets() -> None:
    assert check_follows(["cs.LG", "cs", "hep-th", "cs.LG"]) == ["cs.LG", "cs", "hep-th"]
    assert [oai_set(name) for name in ("cs.LG", "math.AG", "hep-th", "astro-ph.CO")] == [
        "cs",
        "math",
        "physics:hep-th",
        "physics:astro-ph",
    ]


def test_jobs_that_talk_to_arxiv_take_turns_across_processes(
    store: Store, tmp_path: Path, arxiv: FakeArxiv
) -> None:
    settings = settings_for(arxiv, tmp_path)
    now = datetime(2026, 6, 26, 0, 10, tzinfo=UTC)
    settings.clock_file.write_text(now.isoformat())
    with exclusive(store, "arxiv") as held:  # as another worker, on another host, would
        assert held
        site_worker(settings, store, kinds=(ANNOUNCEMENTS,)).run_until_idle()
    assert arxiv.requests == []
    with store.read() as connection:
        job = next(job for job in list_jobs(connection) if job.key == ANNOUNCEMENTS)
    assert job.state == "queued" and "taking turns" in (job.last_result or "")
    assert job.run_at == now + timedelta(seconds=30)
    settings.clock_file.write_text((now + timedelta(seconds=30)).isoformat())
    site_worker(settings, store, kinds=(ANNOUNCEMENTS,)).run_until_idle()
    assert len(arxiv.feeds_asked()) == 1
