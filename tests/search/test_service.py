"""Search end to end over a real store: keyword, meaning, hybrid, filters, staying in step."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date

import numpy as np
import pytest

from dailypapers.demo import load_demo_if_empty
from dailypapers.models import Paper
from dailypapers.search.indexer import sync_vector_file
from dailypapers.search.keyword import KeywordIndex
from dailypapers.search.query import QueryError
from dailypapers.search.service import TITLE_BOOST, SearchService
from dailypapers.search.vectors import put_vectors
from dailypapers.storage import Store
from dailypapers.storage.papers import set_paper_hidden
from dailypapers.storage.store import versions
from dailypapers.storage.upserts import upsert_papers
from tests.factories import make_paper
from tests.held import held_elsewhere
from tests.search.conftest import CountingEncoder


def ids(service: SearchService, query: str, mode: str = "hybrid") -> list[str]:
    return [hit.paper_id for hit in service.search(query, mode).hits]  # type: ignore[arg-type]


def test_each_mode_finds_the_paper_on_its_own_terms(
    service: SearchService, indexed: Callable[[str], str]
) -> None:
    assert ids(service, "diffusion models", "keyword")[0] == indexed("diffusion")
    # no word in common with the protein paper: found by meaning only
    assert ids(service, "polypeptide chain conformation", "keyword") == []
    assert ids(service, "polypeptide chain conformation", "semantic")[0] == indexed("protein")
    assert ids(service, "polypeptide chain conformation", "hybrid")[0] == indexed("protein")
    assert ids(service, "walking robot", "hybrid")[0] == indexed("robots")


def test_stemming_phrases_and_filters(
    service: SearchService, indexed: Callable[[str], str], store: Store
) -> None:
    assert ids(service, "translating sentence", "keyword") == [indexed("translation")]
    assert ids(service, '"attention mechanism"', "keyword") == [indexed("translation")]
    assert ids(service, '"mechanism attention"', "keyword") == []
    later = make_paper(
        title="Diffusion of heat in metals",
        abstract="Thermal diffusion measured in copper.",
        authors=["Grace Hopper"],
        categories=["physics.app-ph"],
        listed=[date(2025, 6, 1)],
    )
    with store.transaction() as connection:
        upsert_papers(connection, [later])
    service.update_indexes()
    for mode in ("keyword", "semantic", "hybrid"):
        assert ids(service, "diffusion author:hopper", mode) == [later.id]
        assert ids(service, "diffusion cat:physics.app-ph", mode) == [later.id]
        assert ids(service, "diffusion after:2025-01-01", mode) == [later.id]
        assert later.id not in ids(service, "diffusion before:2024-12-31", mode)
    found = service.search("cat:PHYSICS.APP-PH")  # filters alone: the newest passing them
    assert [hit.paper_id for hit in found.hits] == [later.id] and found.total == 1


def test_an_author_filter_matches_whole_words_of_names(
    service: SearchService, store: Store
) -> None:
    oliver = make_paper(title="Sparse attention kernels", authors=["Oliver Smith"])
    li = make_paper(title="Sparse attention at scale", authors=["Wei Li", "Jean-Pierre Roux"])
    with store.transaction() as connection:
        upsert_papers(connection, [oliver, li])
    service.update_indexes()
    for mode in ("keyword", "semantic", "hybrid"):
        assert ids(service, "sparse attention author:LI", mode) == [li.id]
        assert ids(service, 'sparse attention author:"jean pierre"', mode) == [li.id]
    assert ids(service, "author:li") == [li.id]
    assert ids(service, "author:oliv") == []


def test_a_new_paper_is_found_by_keyword_at_once_and_by_meaning_once_indexed(
    service: SearchService, indexed: Callable[[str], str], store: Store
) -> None:
    paper = make_paper(title="Gravitational lensing of quasars", abstract="Strong lensing.")
    with store.transaction() as connection:
        upsert_papers(connection, [paper])
    assert ids(service, "lensing quasars", "keyword") == [paper.id]
    assert paper.id in ids(service, "lensing quasars", "hybrid")  # no embedding yet
    assert paper.id not in ids(service, "bending of light by mass", "semantic")
    assert service.update_indexes().embedded == 1
    assert ids(service, "bending of light by mass", "semantic")[0] == paper.id


def test_a_search_waits_for_the_process_writing_the_keyword_index(
    service: SearchService, indexed: Callable[[str], str], store: Store
) -> None:
    """serve's job or `dailypapers index` holding the writer as a search comes in: the search
    waits for it rather than miss the paper ingested a moment ago."""
    if service.keyword is None:
        pytest.skip("PostgreSQL searches its own tables")
    paper = make_paper(title="Gravitational lensing of quasars", abstract="Strong lensing.")
    with store.transaction() as connection:
        upsert_papers(connection, [paper])
    other_process = KeywordIndex(service.keyword.path, TITLE_BOOST)
    with held_elsewhere(other_process.writer, release_after=0.5):
        assert ids(service, "lensing quasars", "keyword") == [paper.id]


def test_dense_search_within_a_small_category_finds_all_of_it(
    service: SearchService, store: Store
) -> None:
    """Three of the demo's 2,086 papers are in q-fin.CP: among the many papers on language
    models nearest to the query overall they may be missing, yet they are what the filter
    asks for."""
    load_demo_if_empty(store)
    service.update_indexes()
    in_category = ids(service, "cat:q-fin.CP")  # filters alone: every paper passing them
    assert len(in_category) == 3
    for mode in ("semantic", "hybrid"):
        found = ids(service, "language models for portfolio decisions cat:q-fin.CP", mode)
        assert sorted(found) == sorted(in_category)


def test_a_long_page_by_meaning_is_full(service: SearchService, store: Store) -> None:
    """pgvector's index scan stops after `hnsw.ef_search` (40) rows unless told to go on."""
    load_demo_if_empty(store)
    service.update_indexes()
    (anchor,) = ids(service, "2606.23834")  # its 100 nearest: no cutoff, unlike a search
    found = service.similar(anchor, limit=100)
    assert len(found) == 100 == len({hit.paper_id for hit in found})


def test_hidden_and_changed_papers(
    service: SearchService, indexed: Callable[[str], str], store: Store, encoder: CountingEncoder
) -> None:
    with store.transaction() as connection:
        set_paper_hidden(connection, indexed("galaxies"), True)
    for mode in ("keyword", "semantic", "hybrid"):
        assert indexed("galaxies") not in ids(service, "dark matter halos", mode)
    assert service.similar(indexed("diffusion")) and all(
        hit.paper_id != indexed("galaxies") for hit in service.similar(indexed("diffusion"))
    )
    before = encoder.encoded
    assert service.update_indexes().embedded == 0  # nothing changed: nothing encoded
    assert encoder.encoded == before
    changed = Paper(id=indexed("robots"), title="Reinforcement learning for legged robots")
    with store.transaction() as connection:
        upsert_papers(connection, [changed])
    assert service.update_indexes().embedded == 1  # only the paper whose text changed


def test_similar_papers_leave_the_paper_out(
    service: SearchService, indexed: Callable[[str], str]
) -> None:
    similar = [hit.paper_id for hit in service.similar(indexed("diffusion"), limit=10)]
    assert indexed("diffusion") not in similar and len(similar) == 4
    assert all(-1.0 <= hit.score <= 1.0 for hit in service.similar(indexed("diffusion")))


def test_indexes_rebuild_from_the_database_after_losing_their_files(
    service: SearchService, indexed: Callable[[str], str], store: Store, encoder: CountingEncoder
) -> None:
    if service.keyword is None or service.vectors is None:
        pytest.skip("PostgreSQL keeps its indexes inside the database")
    shutil.rmtree(service.keyword.path)
    service.vectors.path.unlink()
    fresh = SearchService(service.settings, store, encoder)
    before = encoder.encoded
    report = fresh.update_indexes(rebuild=True)
    assert report.keyword == 5 and report.embedded == 0 and encoder.encoded == before
    assert ids(fresh, "protein folding", "keyword")[0] == indexed("protein")
    assert ids(fresh, "protein folding", "semantic")[0] == indexed("protein")


def test_the_vector_file_is_brought_back_to_the_embeddings_table(
    service: SearchService, indexed: Callable[[str], str], store: Store
) -> None:
    """As after a crash between the two: a key the file lacks, a key the table no longer has."""
    if service.vectors is None:
        pytest.skip("PostgreSQL keeps its vectors inside the database")
    index = service.vectors.writable()
    held = np.asarray(index.keys)
    index.remove(held[:1])
    put_vectors(index, [999_999], np.ones((1, service.vectors.dimensions), np.float32))
    service.vectors.save(index)
    assert sync_vector_file(store, service.vectors) == 1
    assert sorted(np.asarray(service.vectors.writable().keys)) == sorted(held)


@pytest.mark.parametrize("query", ["after:yesterday", "before:2025-13-01", "x" * 1001])
def test_queries_that_cannot_be_understood_say_why(service: SearchService, query: str) -> None:
    with pytest.raises(QueryError):
        service.search(query)


def test_keyword_indexing_leaves_the_cached_pages_alone(
    service: SearchService, store: Store
) -> None:
    """The keyword queue is no page's data: draining it moves no data version (serve's jobs
    would otherwise empty the page cache at every commit while indexing)."""
    if service.keyword is None:
        pytest.skip("PostgreSQL searches its own tables")
    paper = make_paper(title="Gravitational lensing of quasars", abstract="Strong lensing.")
    with store.transaction() as connection:
        upsert_papers(connection, [paper])
    with store.read() as connection:
        before = versions(connection)
    service.update_keywords()
    with store.read() as connection:
        assert versions(connection) == before
    assert ids(service, "lensing quasars", "keyword") == [paper.id]


def test_pages_made_before_the_vector_file_is_saved_are_made_again(
    service: SearchService,
    store: Store,
    topic_papers: dict[str, Paper],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Embeddings commit before the vector file takes them: the data version moves once more
    after the file is saved, so no cached page keeps similar papers from the older file."""
    if service.vectors is None:
        pytest.skip("PostgreSQL has no vector file")
    at_save: list[int] = []
    save = service.vectors.save

    def saving(index: object) -> None:
        save(index)
        with store.read() as connection:
            at_save.append(versions(connection).data)

    monkeypatch.setattr(service.vectors, "save", saving)
    service.update_indexes()
    with store.read() as connection:
        assert at_save and versions(connection).data > at_save[-1]
