"""The Hugging Face papers API, read by the released `huggingface_hub` client and `hf papers`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from huggingface_hub import HfApi

from dailypapers.demo import load_demo_if_empty
from dailypapers.storage import Store
from dailypapers.storage.comments import add_comment
from dailypapers.storage.feed import days_of
from dailypapers.storage.papers import get_paper
from dailypapers.storage.users import create_user
from dailypapers.storage.votes import add_vote, vote_counts
from tests.conftest import shared
from tests.live_server import running_server

HF_DAILY = "fixtures/hf-daily-papers/daily_papers-2026-06-12.json"
DAY = "2026-07-01"


def test_a_recorded_hf_day_comes_back_out_the_same(dailypapers, site: TestClient) -> None:
    path = shared(HF_DAILY)
    assert dailypapers("ingest", "hf-daily", path).exit_code == 0
    recorded = json.loads(path.read_text())
    served = site.get("/api/daily_papers", params={"date": "2026-06-12", "limit": 100}).json()

    def key(entries: list[dict]) -> dict[str, tuple[str, int]]:
        return {e["paper"]["id"]: (e["paper"]["title"], e["paper"]["upvotes"]) for e in entries}

    assert key(served) == key(recorded)
    first = next(e for e in served if e["paper"]["id"] == recorded[0]["paper"]["id"])
    assert first["paper"]["submittedOnDailyBy"]["user"] == recorded[0]["submittedBy"]["name"]
    assert first["paper"]["submittedOnDailyAt"] == "2026-06-12T00:00:00.000Z"


def test_unknown_paper_and_bad_period(site: TestClient) -> None:
    assert site.get("/api/papers/2401.00001").status_code == 404
    bad = site.get("/api/daily_papers", params={"week": "2026-W99"})
    assert bad.status_code == 400 and bad.json()["field"] == "week"
    assert site.get("/api/daily_papers", params={"limit": 101}).status_code == 400


@pytest.fixture
def community(store: Store) -> dict[str, int]:
    """The demo papers with votes from three users and a comment: expected counts by id."""
    load_demo_if_empty(store)
    now = datetime.now(UTC)
    with store.transaction() as connection:
        ids = sorted(
            days_of(
                connection, datetime.fromisoformat(DAY).date(), datetime.fromisoformat(DAY).date()
            )
        )
        users = [create_user(connection, f"reader{n}", "x", now, False) for n in range(3)]
        for rank, paper_id in enumerate(ids[:6]):
            for user in users[: 3 - rank // 2]:
                add_vote(connection, user.id, paper_id, now)
        add_comment(connection, ids[0], users[0].id, "Nice result.", now)
        return vote_counts(connection, ids)


@pytest.fixture
def server(database_url: str, community: dict[str, int], tmp_path: Path) -> Iterator[str]:
    with running_server(database_url, tmp_path / "server.log") as url:
        yield url


def test_huggingface_hub_reads_the_daily_papers(
    server: str, store: Store, community: dict[str, int]
) -> None:
    api = HfApi(endpoint=server, token=False)
    listed = list(api.list_daily_papers(date=DAY, limit=100))
    assert len(listed) == 100 and {p.id for p in listed} <= set(community)
    top = list(api.list_daily_papers(date=DAY, sort="trending", limit=6))
    assert [(p.upvotes or 0) for p in top] == [3, 3, 2, 2, 1, 1]
    assert all(community[p.id] == p.upvotes for p in top)
    pages = [list(api.list_daily_papers(date=DAY, limit=50, p=page)) for page in range(3)]
    paged = [p.id for page in pages for p in page]
    assert len(paged) == len(set(paged)) == 150
    week = list(api.list_daily_papers(week="2026-W27", limit=100))
    assert {p.submitted_at.date().isoformat() for p in week} <= {"2026-06-29", "2026-06-30", DAY}
    assert week[0].submitted_at.date().isoformat() == DAY  # newest first
    month = list(api.list_daily_papers(month="2026-06", limit=100))
    assert len(month) == 100 and all(p.submitted_at.month == 6 for p in month)
    with store.read() as connection:
        for info in top[:3]:
            paper = get_paper(connection, info.id)
            assert info.title == paper.title
            assert [a.name for a in info.authors] == paper.authors
            assert info.published_at.date() == paper.announced
    one = api.paper_info(top[0].id)
    assert (one.id, one.upvotes, one.title) == (top[0].id, community[top[0].id], top[0].title)
    found = list(api.list_papers(query=top[0].title, limit=20))  # by words and meaning
    assert found[0].id == top[0].id and len(found) == 20
    markdown = api.read_paper(top[0].id)
    assert markdown.startswith(f"# {top[0].title}") and f"**Upvotes:** {one.upvotes}" in markdown


def test_hf_papers_command_lists_the_day(server: str, community: dict[str, int]) -> None:
    hf = Path(sys.executable).with_name("hf")
    env = {**os.environ, "HF_ENDPOINT": server, "HF_HUB_DISABLE_TELEMETRY": "1"}
    result = subprocess.run(
        [str(hf), "papers", "ls", "--date", DAY, "--limit", "5", "--sort", "trending"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    top = sorted(community, key=lambda i: -community[i])[:2]
    for paper_id in top:
        assert paper_id in result.stdout
