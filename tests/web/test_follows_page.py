"""/admin/follows: what the site follows, changed by admins through forms (CSRF, refusals that
change nothing), and the daily page's line on arXiv's clock ("Updated … · next announcement
…"), absent until an announcement was stored and never kept past its time by the cache."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Settings
from dailypapers.jobs import queue
from dailypapers.storage import Store
from dailypapers.storage.follows import add_follows, followed
from dailypapers.storage.schema import announcements
from dailypapers.web import create_app
from tests.web.conftest import csrf

NOW = datetime(2026, 6, 30, 22, 0, tzinfo=UTC)  # Tuesday 18:00 in New York (EDT)
STORED = datetime(2026, 6, 30, 0, 14, tzinfo=UTC)  # Monday 20:14 EDT


@pytest.fixture
def clock(tmp_path: Path) -> Path:
    moment = tmp_path / "clock"
    moment.write_text(NOW.isoformat())
    return moment


@pytest.fixture
def client(store: Store, clock: Path) -> TestClient:
    return TestClient(create_app(Settings(clock_file=clock), store))


@pytest.fixture
def admin(client: TestClient, sign_in: Callable[..., object]) -> dict[str, str]:
    """Sign `client` in as an admin; the CSRF token of its forms."""
    sign_in(client, "root", is_admin=True)
    return {"csrf_token": csrf(client)}


def following(store: Store) -> list[tuple[str, date | None]]:
    with store.read() as connection:
        return [(f.category, f.since) for f in followed(connection)]


def backfill_keys(store: Store) -> list[str]:
    with store.read() as connection:
        return [job.key for job in queue.list_jobs(connection) if job.kind == "backfill"]


# ---------------------------------------------------------------------------- the admin page


def test_an_admin_follows_categories_through_the_form(
    store: Store, client: TestClient, admin: dict[str, str]
) -> None:
    assert "Nothing: the site brings in no announcements" in client.get("/admin/follows").text
    added = client.post(
        "/admin/follows",
        data={**admin, "categories": "cs.LG, cs.CL  hep-th"},
        follow_redirects=False,
    )
    assert (added.status_code, added.headers["location"]) == (303, "/admin/follows")
    assert following(store) == [("cs.CL", None), ("cs.LG", None), ("hep-th", None)]
    assert backfill_keys(store) == []  # no history asked for
    page = client.get("/admin/follows").text
    assert "<code>cs.LG</code>" in page and "<code>hep-th</code>" in page
    assert '<time datetime="2026-06-30T22:00:00+00:00">2026-06-30 22:00:00 UTC</time>' in page
    data = client.get("/admin/follows.json").json()
    assert data["follows"][0] == {
        "category": "cs.CL",
        "since": None,
        "added_at": "2026-06-30T22:00:00Z",
    }
    assert [f["category"] for f in data["follows"]] == ["cs.CL", "cs.LG", "hep-th"]


def test_since_queues_the_history_a_month_per_job(
    store: Store, client: TestClient, admin: dict[str, str]
) -> None:
    form = {**admin, "categories": "cs.LG", "since": "2026-05-15"}
    added = client.post("/admin/follows", data=form, headers={"Accept": "application/json"})
    assert added.status_code == 200
    data = added.json()
    assert (data["added"], data["backfill_jobs"]) == (["cs.LG"], 2)
    assert data["follows"][0]["since"] == "2026-05-15"
    assert following(store) == [("cs.LG", date(2026, 5, 15))]
    assert backfill_keys(store) == [
        "backfill:cs:2026-05-15:2026-05-31",
        "backfill:cs:2026-06-01:2026-06-30",
    ]


def test_the_remove_button_stops_following(
    store: Store, client: TestClient, admin: dict[str, str]
) -> None:
    with store.transaction() as connection:
        add_follows(connection, ["cs.LG", "cs.CL"], NOW)
    page = client.get("/admin/follows").text
    assert page.count('action="/admin/follows/remove"') == 2
    assert 'name="categories" value="cs.LG"' in page
    removed = client.post(
        "/admin/follows/remove", data={**admin, "categories": "cs.LG"}, follow_redirects=False
    )
    assert removed.status_code == 303
    assert following(store) == [("cs.CL", None)]
    again = client.post("/admin/follows/remove.json", data={**admin, "categories": "cs.LG"})
    assert again.status_code == 404 and "not followed: cs.LG" in again.json()["error"]
    assert following(store) == [("cs.CL", None)]


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"categories": "cs.LG cs.NOPE"}, "unknown arXiv category: 'cs.NOPE'"),
        ({"categories": "  , "}, "name a category"),
        ({"categories": "cs.LG", "since": "last week"}, "is not a day like 2025-01-01"),
        (
            {"categories": "cs.LG", "since": "2026-07-02"},
            "from 1991-08-01 to today (2026-06-30), not 2026-07-02",
        ),
        ({"categories": "cs.LG " * 300}, "at most 1000 characters"),
    ],
)
def test_a_refusal_gives_the_reason_and_changes_nothing(
    store: Store, client: TestClient, admin: dict[str, str], form: dict[str, str], reason: str
) -> None:
    with store.transaction() as connection:
        add_follows(connection, ["math.AG"], NOW)
    page = client.post("/admin/follows", data={**admin, **form})
    assert page.status_code == 400 and reason in unescape(page.text)
    assert 'class="error" role="alert"' in page.text and "<code>math.AG</code>" in page.text
    as_json = client.post("/admin/follows.json", data={**admin, **form})
    assert as_json.status_code == 400 and reason in as_json.json()["error"]
    assert as_json.json()["field"] in ("categories", "since")
    assert following(store) == [("math.AG", None)] and backfill_keys(store) == []


def test_a_body_too_large_is_refused(
    store: Store, client: TestClient, admin: dict[str, str]
) -> None:
    answer = client.post("/admin/follows", data={**admin, "categories": "cs.LG " * 20_000})
    assert answer.status_code == 413 and following(store) == []


def test_forms_need_their_csrf_token(
    store: Store, client: TestClient, admin: dict[str, str]
) -> None:
    for token in ({}, {"csrf_token": "x" * 32}):
        assert (
            client.post("/admin/follows", data={**token, "categories": "cs.LG"}).status_code == 403
        )
    with store.transaction() as connection:
        add_follows(connection, ["cs.CL"], NOW)
    refused = client.post("/admin/follows/remove", data={"categories": "cs.CL"})
    assert refused.status_code == 403
    assert following(store) == [("cs.CL", None)]


def test_only_admins_change_or_see_follows(
    store: Store, client: TestClient, sign_in: Callable[..., object]
) -> None:
    assert client.get("/admin/follows").status_code == 401
    assert client.get("/admin/follows.json").status_code == 401
    sign_in(client, "reader")
    token = csrf(client)
    assert client.get("/admin/follows").status_code == 403
    assert client.get("/admin/follows.json").status_code == 403
    form = {"csrf_token": token, "categories": "cs.LG"}
    assert client.post("/admin/follows", data=form).status_code == 403
    assert client.post("/admin/follows/remove", data=form).status_code == 403
    assert following(store) == []


# ---------------------------------------------------------------------------- the daily line


def store_announcement(store: Store, day: date, stored_at: datetime) -> None:
    with store.transaction() as connection:
        connection.execute(
            announcements.insert().values(
                day=day,
                feed_url="https://rss.arxiv.org/rss/cs.LG",
                stored_at=stored_at,
                new=1,
                cross=0,
                replaced=0,
            )
        )


def test_the_daily_page_says_nothing_before_an_announcement(
    store: Store, client: TestClient
) -> None:
    with store.transaction() as connection:
        add_follows(connection, ["cs.LG"], NOW)
    for path in ("/", "/papers?date=2026-06-30"):
        page = client.get(path)
        assert page.status_code == 200 and "Updated" not in page.text
        assert "next announcement" not in page.text
    data = client.get("/papers.json").json()
    assert (data["updated_at"], data["next_announcement"]) == (None, None)


def test_the_daily_page_says_when_it_was_updated_and_the_next_announcement(
    store: Store, client: TestClient
) -> None:
    with store.transaction() as connection:
        add_follows(connection, ["cs.LG"], NOW)
    store_announcement(store, date(2026, 6, 30), STORED)
    line = (
        'Updated <time datetime="2026-06-30T00:14:00+00:00">Mon 20:14 EDT</time>'
        ' · next announcement <time datetime="2026-07-01T00:00:00+00:00">Tue 20:00 EDT</time>'
    )
    for path in ("/", "/papers?date=2026-06-30", "/papers?date=2026-06-01"):
        assert line in client.get(path).text, path
    for path in ("/papers.json", "/papers.json?date=2026-06-30"):
        data = client.get(path).json()
        assert datetime.fromisoformat(data["updated_at"]) == STORED
        assert datetime.fromisoformat(data["next_announcement"]) == datetime(
            2026, 7, 1, 0, 0, tzinfo=UTC
        )
    assert client.get("/papers.json?week=2026-W27").json()["updated_at"] is None
    assert "Updated" not in client.get("/papers?week=2026-W27").text


def test_the_next_announcement_never_outlives_its_time_in_the_cache(
    store: Store, client: TestClient, clock: Path
) -> None:
    with store.transaction() as connection:
        add_follows(connection, ["cs.LG"], NOW)
    store_announcement(store, date(2026, 6, 30), STORED)
    first = client.get("/").text
    assert client.get("/").text == first  # kept: the data did not change
    assert "next announcement <time" in first and ">Tue 20:00 EDT<" in first
    clock.write_text("2026-07-01T00:30:00+00:00")  # Tuesday 20:30 EDT: that time has passed
    later = client.get("/").text
    assert ">Wed 20:00 EDT<" in later and ">Tue 20:00 EDT<" not in later


def test_a_site_that_follows_nothing_names_no_next_announcement(
    store: Store, client: TestClient
) -> None:
    store_announcement(store, date(2026, 6, 30), STORED)
    page = client.get("/").text
    assert ">Mon 20:14 EDT</time>" in page and "next announcement" not in page
    assert client.get("/papers.json").json()["next_announcement"] is None


def test_an_old_update_is_named_with_its_date(store: Store, client: TestClient) -> None:
    store_announcement(store, date(2026, 6, 2), datetime(2026, 6, 2, 0, 20, tzinfo=UTC))
    assert ">Mon 2026-06-01 20:20 EDT</time>" in client.get("/").text


def test_a_clock_file_without_a_time_shows_the_systems_time(
    store: Store, client: TestClient, clock: Path
) -> None:
    with store.transaction() as connection:
        add_follows(connection, ["cs.LG"], NOW)
    store_announcement(store, date(2026, 6, 30), STORED)
    assert "next announcement" in client.get("/").text  # kept, until the next announcement
    clock.write_text("garbage")
    for path in ("/", "/papers.json", "/papers?date=2026-06-30"):
        assert client.get(path).status_code == 200, path
    clock.unlink()
    assert client.get("/").status_code == 200
