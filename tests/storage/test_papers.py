"""Upserts: a paper seen again is updated, never duplicated; versions and days accumulate."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, select

from dailypapers.models import PaperVersion, Submission
from dailypapers.storage import Store, open_store
from dailypapers.storage.papers import (
    count_papers,
    get_paper,
    get_submissions,
    iter_paper_batches,
    newest_papers,
    stats,
)
from dailypapers.storage.schema import paper_categories, paper_listings, paper_versions
from dailypapers.storage.upserts import upsert_papers, upsert_submissions
from tests.factories import make_paper


def stored(store: Store, paper_id: str):
    with store.read() as connection:
        return get_paper(connection, paper_id)


def test_a_new_paper_reads_back_field_for_field(store: Store) -> None:
    paper = make_paper(comments="9 pages", doi="10.1000/x", license="CC0", report_no="R-1")
    with store.transaction() as connection:
        upsert_papers(connection, [paper])
    assert stored(store, paper.id) == paper


def test_the_same_paper_twice_in_one_batch_is_one_paper(store: Store) -> None:
    paper = make_paper()
    with store.transaction() as connection:
        upsert_papers(connection, [paper, paper])
    with store.read() as connection:
        assert count_papers(connection) == 1
        assert connection.scalar(select(func.count()).select_from(paper_categories)) == 2


def test_a_later_source_updates_what_it_says_and_keeps_the_rest(store: Store) -> None:
    first = make_paper(source="oai:arXiv", doi=None, comments="v1 comment")
    with store.transaction() as connection:
        upsert_papers(connection, [first])
    second = make_paper(
        source="snapshot",
        id=first.id,
        title="Corrected title",
        abstract=None,
        authors=["Ada Lovelace"],
        categories=[],
        doi="10.1000/y",
        comments=None,
        published=None,
        versions=[PaperVersion(2, datetime(2024, 2, 1, 9, 30, tzinfo=UTC))],
        listed=[date(2024, 2, 2)],
    )
    with store.transaction() as connection:
        upsert_papers(connection, [second])
    paper = stored(store, first.id)
    assert paper.title == "Corrected title"
    assert paper.abstract == first.abstract
    assert paper.authors == ["Ada Lovelace"]
    assert paper.categories == first.categories  # the source gave none: kept
    assert paper.comments == "v1 comment"
    assert paper.doi == "10.1000/y"
    assert [v.number for v in paper.versions] == [1, 2]
    assert paper.versions[1].created == datetime(2024, 2, 1, 9, 30, tzinfo=UTC)
    assert paper.listed == [date(2024, 1, 3), date(2024, 2, 2)]
    assert paper.announced == date(2024, 1, 3)
    assert paper.sources["title"] == "snapshot"
    assert paper.sources["abstract"] == "oai:arXiv"
    assert paper.sources["doi"] == "snapshot"


def test_categories_keep_their_order_with_the_primary_first(store: Store) -> None:
    paper = make_paper(categories=["stat.ML", "cs.LG", "cs.AI"])
    with store.transaction() as connection:
        upsert_papers(connection, [paper])
        upsert_papers(connection, [make_paper(id=paper.id, categories=["cs.CV", "cs.LG"])])
    assert stored(store, paper.id).categories == ["cs.CV", "cs.LG"]


def test_reingesting_adds_no_rows(store: Store) -> None:
    papers = [make_paper() for _ in range(5)]

    def counts() -> tuple[int, ...]:
        with store.read() as connection:
            tables = (paper_versions, paper_categories, paper_listings)
            rows = (connection.scalar(select(func.count()).select_from(t)) for t in tables)
            return (count_papers(connection), *rows)

    with store.transaction() as connection:
        upsert_papers(connection, papers)
    before = counts()
    with store.transaction() as connection:
        upsert_papers(connection, papers)
    assert counts() == before == (5, 5, 10, 5)


def test_announced_is_the_first_listing_else_the_first_version(store: Store) -> None:
    listed = make_paper(published=date(2024, 1, 2), listed=[date(2024, 1, 4), date(2024, 1, 3)])
    unlisted = make_paper(published=date(2023, 5, 6), listed=[])
    with store.transaction() as connection:
        upsert_papers(connection, [listed, unlisted])
        numbers = stats(connection)
        newest = newest_papers(connection, 10)
    assert (numbers.first_day, numbers.last_day, numbers.days) == (
        date(2023, 5, 6),
        date(2024, 1, 3),
        2,
    )
    assert [p.id for p in newest] == [listed.id, unlisted.id]


def test_submissions_keep_the_first_day_and_take_new_upvote_counts(store: Store) -> None:
    paper = make_paper()
    day = datetime(2024, 1, 5, tzinfo=UTC)
    with store.transaction() as connection:
        upsert_papers(connection, [paper])
        upsert_submissions(connection, [Submission(paper.id, day, "ada", 3, "hf")])
        later = Submission(paper.id, datetime(2024, 1, 9, tzinfo=UTC), "bob", 7, "hf")
        upsert_submissions(connection, [later])
        found = get_submissions(connection, [paper.id])[paper.id]
    assert (found.submitted_at, found.submitted_by, found.upvotes) == (day, "ada", 7)


def test_paging_through_every_paper_visits_each_once(store: Store) -> None:
    papers = [make_paper() for _ in range(7)]
    with store.transaction() as connection:
        upsert_papers(connection, papers)
        seen = [p.id for batch in iter_paper_batches(connection, batch_size=3) for p in batch]
    assert seen == sorted(p.id for p in papers)


def test_migrating_twice_is_harmless(database_url: str) -> None:
    for _ in range(2):
        store = open_store(database_url, migrate=False)
        store.migrate()
        assert not store.pending_migrations()
        store.close()


def test_a_transaction_that_fails_stores_nothing(store: Store) -> None:
    paper = make_paper()
    try:
        with store.transaction() as connection:
            upsert_papers(connection, [paper])
            raise RuntimeError("crash half way")
    except RuntimeError:
        pass
    assert stored(store, paper.id) is None


def test_backup_copies_a_live_sqlite_database(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'live.db'}")
    paper = make_paper()
    with store.transaction() as connection:
        upsert_papers(connection, [paper])
    store.backup(tmp_path / "copy.db")
    copy = open_store(f"sqlite:///{tmp_path / 'copy.db'}")
    with copy.read() as connection:
        assert get_paper(connection, paper.id) == paper
    copy.close()
    store.close()
