"""/admin/jobs: every job's last run, outcome and next run, and the workers alive, for admins
only, as HTML and as JSON."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Settings
from dailypapers.jobs import queue
from dailypapers.storage import Store
from dailypapers.web import create_app

NOW = datetime(2026, 6, 30, 22, 0, tzinfo=UTC)


@pytest.fixture
def client(store: Store, tmp_path: Path) -> TestClient:
    """The site on a clock the test sets: NOW."""
    clock = tmp_path / "clock"
    clock.write_text(NOW.isoformat())
    return TestClient(create_app(Settings(clock_file=clock), store))


@pytest.fixture
def jobs(store: Store) -> None:
    """Three jobs (one ran and failed, one runs now) and two workers, one of them long silent."""
    with store.bookkeeping() as connection:
        queue.enqueue(connection, "announcements", "announcements", {}, NOW - timedelta(hours=1))
        queue.enqueue(connection, "backfill", "backfill:cs:2026-05-01:2026-05-31", {}, NOW)
        queue.enqueue(connection, "index", "index", {}, NOW + timedelta(hours=2))
    queue.register_worker(store, "gone:1:aaaa", "gone", 1, "cpu", NOW - timedelta(hours=3))
    queue.register_worker(store, "box:42:beef", "box", 42, "cuda", NOW - timedelta(seconds=30))
    started = NOW - timedelta(minutes=5)
    failed = queue.claim(store, "box:42:beef", started, 60.0, kinds=["announcements"])
    assert failed is not None
    retry = NOW + timedelta(minutes=10)
    error = "arXiv answered 503:\n  try again later"
    queue.fail(store, failed.id, "box:42:beef", started, error, retry, duration_s=2.25)
    running = queue.claim(store, "box:42:beef", NOW, 60.0, kinds=["backfill"])
    assert running is not None
    queue.heartbeat(store, "box:42:beef", NOW, running.id)


def test_an_admin_sees_every_job_and_the_workers_alive(
    client: TestClient, jobs: None, sign_in: Callable[..., object]
) -> None:
    sign_in(client, "root", is_admin=True)
    page = client.get("/admin/jobs")
    assert page.status_code == 200
    assert page.headers["link"] == '</admin/jobs.json>; rel="alternate"; type="application/json"'
    html = page.text
    for key in ("announcements", "backfill:cs:2026-05-01:2026-05-31", "index"):
        assert f"<code>{key}</code>" in html
    assert "arXiv answered 503: try again later" in html  # the error on one line
    assert "2.2 s" in html or "2.3 s" in html
    # times in UTC, machine-readable too: the failed job's next try, the index job's turn
    assert '<time datetime="2026-06-30T22:10:00+00:00">2026-06-30 22:10:00 UTC</time>' in html
    assert '<time datetime="2026-07-01T00:00:00+00:00">2026-07-01 00:00:00 UTC</time>' in html
    # the worker alive, its device and the job it runs; the silent one is not listed
    assert "<code>box:42:beef</code>" in html and "cuda" in html
    assert "gone:1:aaaa" not in html
    workers = html.split("<h2>Workers alive</h2>")[1].split("<h2>Every job</h2>")[0]
    assert "<code>backfill:cs:2026-05-01:2026-05-31</code>" in workers
    assert re.search(r'<a href="/admin/jobs">jobs</a>', html)  # admin links in the footer


def test_the_json_twin_carries_the_same(
    client: TestClient, jobs: None, sign_in: Callable[..., object]
) -> None:
    sign_in(client, "root", is_admin=True)
    data = client.get("/admin/jobs.json").json()
    by_key = {job["key"]: job for job in data["jobs"]}
    assert list(by_key) == [  # by run_at: the failed one is retried in 10 minutes
        "backfill:cs:2026-05-01:2026-05-31",
        "announcements",
        "index",
    ]
    failed = by_key["announcements"]
    assert failed["state"] == "queued" and failed["attempts"] == 1 and failed["runs"] == 1
    assert failed["last_error"] == "arXiv answered 503: try again later"
    assert failed["last_duration"] == 2.25
    assert datetime.fromisoformat(failed["next_run"]) == NOW + timedelta(minutes=10)
    assert datetime.fromisoformat(failed["last_started"]) == NOW - timedelta(minutes=5)
    running = by_key["backfill:cs:2026-05-01:2026-05-31"]
    assert running["state"] == "running" and running["next_run"] is None
    assert running["worker_id"] == "box:42:beef"
    assert datetime.fromisoformat(by_key["index"]["next_run"]) == NOW + timedelta(hours=2)
    (worker,) = data["workers"]
    assert (worker["id"], worker["host"], worker["pid"], worker["device"]) == (
        "box:42:beef",
        "box",
        42,
        "cuda",
    )
    assert worker["job_key"] == running["key"] and worker["job_id"] == running["id"]
    assert datetime.fromisoformat(worker["heartbeat_at"]) == NOW
    assert client.get("/admin/jobs", headers={"Accept": "application/json"}).json() == data


def test_an_empty_jobs_table_says_so(client: TestClient, sign_in: Callable[..., object]) -> None:
    sign_in(client, "root", is_admin=True)
    page = client.get("/admin/jobs")
    assert page.status_code == 200
    assert "No worker alive" in page.text and "No jobs yet" in page.text
    assert client.get("/admin/jobs.json").json()["jobs"] == []


@pytest.mark.parametrize("path", ["/admin/jobs", "/admin/jobs.json"])
def test_only_admins_see_the_jobs(
    client: TestClient, jobs: None, sign_in: Callable[..., object], path: str
) -> None:
    anonymous = client.get(path)
    assert anonymous.status_code == 401 and "announcements" not in anonymous.text
    sign_in(client, "reader")
    refused = client.get(path)
    assert refused.status_code == 403 and "box:42:beef" not in refused.text
    assert "/admin/jobs" not in client.get("/").text  # no admin links for a reader
