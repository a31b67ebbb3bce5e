"""Announcement days from the shared listing feeds: each day's new papers and cross-lists
on that day, replacements keep their own day, an empty feed makes no day, a day stored
twice is stored once. On SQLite, and on PostgreSQL with --postgres."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dailypapers.ingest.rss import Feed, parse_feed
from dailypapers.models import PaperVersion
from dailypapers.storage import Store
from dailypapers.storage.announcements import (
    Counts,
    feed_validators,
    is_stored,
    last_announcement,
    save_feed_check,
    store_feed,
)
from dailypapers.storage.feed import days_of
from dailypapers.storage.papers import get_paper
from dailypapers.storage.schema import (
    announcements,
    paper_categories,
    paper_listings,
    paper_versions,
    papers,
)
from dailypapers.storage.upserts import upsert_papers
from tests.conftest import shared
from tests.factories import make_paper

DAYS = ("2026-06-26", "2026-06-27", "2026-06-29", "2026-06-30", "2026-07-01")
FEEDS = "fixtures/arxiv-rss/cs.CL+cs.LG"
URL = "https://rss.arxiv.org/rss/cs.CL+cs.LG"
REPLACED = ("2606.26100", "2606.26194")
FIRST, LAST = date(2026, 6, 1), date(2026, 7, 31)


def shared_feed(day: str) -> Feed:
    return parse_feed(shared(f"{FEEDS}/{day}.xml").read_bytes(), f"{day}.xml")


def expected(day: str) -> dict[str, list[str]]:
    return json.loads(shared(f"{FEEDS}/{day}.expected.json").read_text())


def stored_at(day: str) -> datetime:
    """Shortly after the announcement: 20:05 EDT the evening before the day."""
    return datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(minutes=5)


def store_day(store: Store, day: str) -> Counts:
    with store.transaction() as connection:
        return store_feed(connection, shared_feed(day), URL, stored_at(day))


def by_day(store: Store) -> dict[date, set[str]]:
    with store.read() as connection:
        found = days_of(connection, FIRST, LAST)
    days: dict[date, set[str]] = {}
    for paper_id, day in found.items():
        days.setdefault(day, set()).add(paper_id)
    return days


def everything(store: Store) -> dict[str, list[Any]]:
    """Every row storing a feed touches, to tell that a second store changed nothing."""
    tables = (papers, paper_versions, paper_categories, paper_listings, announcements)
    with store.read() as connection:
        return {
            table.name: sorted(
                tuple(map(str, row)) for row in connection.execute(select(*table.columns))
            )
            for table in tables
        }


def test_each_day_in_turn_lists_exactly_its_new_papers_and_cross_lists(store: Store) -> None:
    seen: dict[date, set[str]] = {}
    for day in DAYS:
        kinds = expected(day)
        counts = store_day(store, day)
        assert (counts.new, counts.cross) == (len(kinds["new"]), len(kinds["cross"]))
        assert counts.unknown_replacements == [] and not counts.already_stored
        if kinds["new"]:
            seen[date.fromisoformat(day)] = {*kinds["new"], *kinds["cross"]}
        assert by_day(store) == seen  # earlier days unchanged, the empty one absent
    with store.read() as connection:
        assert [is_stored(connection, date.fromisoformat(day)) for day in DAYS] == [
            True,
            False,  # the empty Saturday makes no day
            True,
            True,
            True,
        ]
        assert last_announcement(connection) == (date(2026, 7, 1), stored_at("2026-07-01"))
        rows = connection.execute(select(announcements).order_by(announcements.c.day)).all()
    assert [(row.day, row.new, row.cross, row.replaced, row.feed_url) for row in rows] == [
        (date(2026, 6, 26), 68, 30, 0, URL),
        (date(2026, 6, 29), 41, 17, 0, URL),
        (date(2026, 6, 30), 117, 61, 0, URL),
        (date(2026, 7, 1), 57, 29, 2, URL),
    ]


def test_replacements_keep_their_day_and_gain_a_version(store: Store) -> None:
    store_day(store, "2026-06-26")
    before = everything(store)
    counts = store_day(store, "2026-07-01")
    assert counts.replaced == 2 and counts.unknown_replacements == []
    days = by_day(store)
    for paper_id in REPLACED:
        assert paper_id in days[date(2026, 6, 26)]
        assert paper_id not in days[date(2026, 7, 1)]
        with store.read() as connection:
            paper = get_paper(connection, paper_id)
        assert paper is not None
        assert paper.listed == [date(2026, 6, 26), date(2026, 7, 1)]
        assert paper.versions == [PaperVersion(1), PaperVersion(2)]
    # Nothing of 06-26 but those two papers moved.
    after = everything(store)
    assert len(after["papers"]) == len(before["papers"]) + 57 + 29


def test_storing_a_day_twice_changes_nothing(store: Store) -> None:
    store_day(store, "2026-06-26")
    first = store_day(store, "2026-07-01")
    before = everything(store)
    again = store_day(store, "2026-07-01")
    assert again == Counts(first.new, first.cross, first.replaced, [], already_stored=True)
    assert everything(store) == before
    store_day(store, "2026-06-27")  # the empty day, twice
    store_day(store, "2026-06-27")
    assert everything(store) == before


def test_a_replacement_of_a_paper_not_stored_is_not_made_from_the_feed(store: Store) -> None:
    counts = store_day(store, "2026-07-01")
    assert counts.replaced == 0
    assert counts.unknown_replacements == list(REPLACED)  # for the caller to fetch by id
    with store.read() as connection:
        assert all(get_paper(connection, paper_id) is None for paper_id in REPLACED)
        row = connection.execute(select(announcements)).one()
    assert (row.new, row.cross, row.replaced) == (57, 29, 0)
    # Asked again, it still names what is missing, and writes nothing.
    assert store_day(store, "2026-07-01").unknown_replacements == list(REPLACED)


def test_a_replacement_keeps_known_version_dates_and_a_computed_day(store: Store) -> None:
    v1 = datetime(2026, 6, 20, 15, 0, tzinfo=UTC)
    # Seen only on OAI-PMH so far: no listing, its day is its first version's.
    oai_only = make_paper(
        id=REPLACED[0], published=date(2026, 6, 20), listed=[], versions=[PaperVersion(1, v1)]
    )
    dated = make_paper(
        id=REPLACED[1],
        listed=[date(2026, 6, 26)],
        versions=[PaperVersion(1, v1), PaperVersion(2, v1 + timedelta(days=3))],
    )
    with store.transaction() as connection:
        upsert_papers(connection, [oai_only, dated])
    assert store_day(store, "2026-07-01").replaced == 2
    with store.read() as connection:
        first, second = (get_paper(connection, paper_id) for paper_id in REPLACED)
        announced = dict(connection.execute(select(papers.c.id, papers.c.announced)).all())
    assert first is not None and second is not None
    assert str(announced[REPLACED[0]]) == "2026-06-20"  # not moved to 07-01
    assert str(announced[REPLACED[1]]) == "2026-06-26"
    assert first.versions == [PaperVersion(1, v1), PaperVersion(2)]
    assert second.versions == [PaperVersion(1, v1), PaperVersion(2, v1 + timedelta(days=3))]
    # The feed's text is the replacement's.
    assert first.title and first.title.startswith("HierBias")


def test_a_new_paper_known_from_oai_pmh_gets_the_feed_s_day(store: Store) -> None:
    paper_id = expected("2026-06-29")["new"][0]
    v1 = datetime(2026, 6, 26, 15, 0, tzinfo=UTC)
    known = make_paper(
        id=paper_id,
        published=date(2026, 6, 26),
        listed=[],
        versions=[PaperVersion(1, v1)],
        doi="10.1/x",
    )
    with store.transaction() as connection:
        upsert_papers(connection, [known])
    store_day(store, "2026-06-29")
    assert paper_id in by_day(store)[date(2026, 6, 29)]
    with store.read() as connection:
        paper = get_paper(connection, paper_id)
    assert paper is not None
    assert paper.doi == "10.1/x" and paper.versions == [PaperVersion(1, v1)]


def test_a_failed_transaction_stores_nothing_of_the_day(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as connection:
        store_feed(connection, shared_feed("2026-06-26"), URL, stored_at("2026-06-26"))
        raise RuntimeError("the job died")
    assert by_day(store) == {}
    with store.read() as connection:
        assert not is_stored(connection, date(2026, 6, 26))
        assert last_announcement(connection) is None


def test_feed_validators_are_kept_per_url(store: Store) -> None:
    checked = datetime(2026, 6, 30, 0, 5, tzinfo=UTC)
    with store.read() as connection:
        assert feed_validators(connection, URL) is None
    with store.transaction() as connection:
        save_feed_check(connection, URL, '"abc"', "Tue, 30 Jun 2026 00:01:00 GMT", None, checked)
        save_feed_check(connection, URL + "x", None, None, date(2026, 6, 29), checked)
    with store.read() as connection:
        assert feed_validators(connection, URL) == (
            '"abc"',
            "Tue, 30 Jun 2026 00:01:00 GMT",
            None,
        )
    with store.transaction() as connection:
        later = checked + timedelta(hours=1)
        save_feed_check(connection, URL, '"def"', None, date(2026, 6, 30), later)
    with store.read() as connection:
        etag, last_modified, day = feed_validators(connection, URL)  # type: ignore[misc]
        assert (etag, last_modified, day) == ('"def"', None, date(2026, 6, 30))
        assert feed_validators(connection, URL + "x") == (None, None, date(2026, 6, 29))
