"""`dailypapers update`, as cron runs it, against a fake arXiv serving the shared feed days
in turn: each day's new and cross-listed papers land on that day, replacements keep theirs,
an empty day makes none, and a second run changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dailypapers.config import Settings
from dailypapers.jobs.queue import list_jobs
from dailypapers.storage import Store
from dailypapers.storage.schema import announcements, paper_versions
from dailypapers.web import create_app
from tests.conftest import shared
from tests.fake_arxiv import DAYS, FEEDS, FakeArxiv, fake_arxiv


@pytest.fixture
def arxiv() -> Iterator[FakeArxiv]:
    with fake_arxiv() as fake:
        yield fake


def update(arxiv: FakeArxiv, database_url: str, data_dir: Path, **env: str) -> str:
    """One `dailypapers update` process; its output (stdout and stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "dailypapers", "update", "--db", database_url],
        env={**os.environ, **arxiv.env(), "DAILYPAPERS_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def expected(day: str) -> dict[str, list[str]]:
    return orjson.loads(shared(f"{FEEDS}/{day}.expected.json").read_bytes())


def listed_on(site: TestClient, day: str) -> set[str]:
    """The ids on the day's list, every page of it."""
    ids: set[str] = set()
    page, pages = 1, 1
    while page <= pages:
        answer = site.get("/papers.json", params={"date": day, "page": page})
        assert answer.status_code == 200
        ids |= {entry["paper"]["id"] for entry in answer.json()["entries"]}
        page, pages = page + 1, answer.json()["pages"]
    return ids


def test_update_after_each_day_puts_its_papers_on_its_day(
    store: Store, database_url: str, tmp_path: Path, arxiv: FakeArxiv
) -> None:
    site = TestClient(create_app(Settings(data_dir=tmp_path), store))
    for day in DAYS:
        arxiv.day = day
        update(arxiv, database_url, tmp_path)
        kinds = expected(day)
        assert listed_on(site, day) == set(kinds["new"]) | set(kinds["cross"]), day
    with store.read() as connection:
        days = [row.day.isoformat() for row in connection.execute(select(announcements.c.day))]
        assert "2026-06-27" not in days  # the empty Saturday
        assert sorted(days) == [day for day in DAYS if day != "2026-06-27"]
        replaced = expected("2026-07-01")["replace"] + expected("2026-07-01")["replace-cross"]
        versions = connection.execute(
            select(paper_versions.c.paper_id, paper_versions.c.version).where(
                paper_versions.c.paper_id.in_(replaced)
            )
        ).all()
    assert {(paper_id, 2) for paper_id in replaced} <= set(versions)
    assert listed_on(site, "2026-06-26") >= set(replaced)  # they keep their day
    assert not set(replaced) & listed_on(site, "2026-07-01")

    before = site.get("/papers.json", params={"date": "2026-07-01"}).json()
    asked = len(arxiv.feeds_asked())
    output = update(arxiv, database_url, tmp_path)
    assert "announcements: not modified" in output
    assert arxiv.feeds_asked()[asked].headers["if-none-match"] == '"2026-07-01"'
    assert site.get("/papers.json", params={"date": "2026-07-01"}).json() == before


def test_requests_to_arxiv_name_the_site_and_its_admins(
    store: Store, database_url: str, tmp_path: Path, arxiv: FakeArxiv
) -> None:
    update(arxiv, database_url, tmp_path, DAILYPAPERS_CONTACT_EMAIL="admin@lab.example")
    agents = {request.headers["user-agent"] for request in arxiv.requests}
    assert agents == {"dailypapers/0.1.0 (+http://127.0.0.1:8000; mailto:admin@lab.example)"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<rss><channel><pubDate>Fri, 26 Jun", "malformed XML"),
        (b"<html><body>Service unavailable</body></html>", "not an RSS feed"),
        (
            shared(f"{FEEDS}/2026-06-29.xml")
            .read_bytes()
            .replace(b'<guid isPermaLink="false">oai:arXiv.org:2606.28044v1</guid>', b"")
            .replace(b"arXiv:2606.28044v1 Announce", b"Announce"),
            "no arXiv id",
        ),
    ],
    ids=["malformed", "html-as-200", "item-without-id"],
)
def test_a_bad_feed_is_a_one_line_error_and_stores_nothing(
    store: Store, database_url: str, tmp_path: Path, arxiv: FakeArxiv, body: bytes, reason: str
) -> None:
    arxiv.feed_body = body
    done = subprocess.run(
        [sys.executable, "-m", "dailypapers", "update", "--db", database_url],
        env={**os.environ, **arxiv.env(), "DAILYPAPERS_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    with store.read() as connection:
        job = next(job for job in list_jobs(connection) if job.key == "announcements")
        assert connection.scalar(select(announcements.c.day)) is None
    assert job.last_error is not None and "\n" not in job.last_error
    assert reason in job.last_error
    assert job.last_error in done.stderr.replace("\n", " ") or job.last_error[:60] in done.stderr

    arxiv.feed_body = None  # the next try starts clean
    arxiv.day = "2026-06-29"
    update(arxiv, database_url, tmp_path)
    site = TestClient(create_app(Settings(data_dir=tmp_path), store))
    kinds = expected("2026-06-29")
    assert listed_on(site, "2026-06-29") == set(kinds["new"]) | set(kinds["cross"])
