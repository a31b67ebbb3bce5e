"""Search as the site, the CLI and the mail digests use it: parse, retrieve by keyword and by
meaning, fuse, filter, page. The indexes depend on the store: tantivy + a usearch file beside
a SQLite database, full text + pgvector inside PostgreSQL."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Collection, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
from sqlalchemy import Connection
from sqlalchemy.engine import make_url

from dailypapers.config import Settings
from dailypapers.search.encoder import Encoder, MiniLM, paper_text
from dailypapers.search.fusion import RELATIVE_CUTOFF, Candidate, Hit, fuse
from dailypapers.search.indexer import (
    catch_up_keywords,
    embed_papers,
    embedding_work,
    rebuild_keywords,
    sync_vector_file,
)
from dailypapers.search.keyword import KeywordIndex, analyzer, index_terms
from dailypapers.search.query import Query, parse_query
from dailypapers.search.spelling import corrections
from dailypapers.search.vectors import VectorIndex
from dailypapers.storage import Store
from dailypapers.storage.search import (
    fold_accents,
    fulltext_frequencies,
    fulltext_search,
    nearest_papers,
    newest_matching,
    paper_vectors,
    queue_length,
    searchable_papers,
    visible_papers_of_keys,
)

Mode = Literal["hybrid", "keyword", "semantic"]
MODES: tuple[Mode, ...] = ("hybrid", "keyword", "semantic")
CANDIDATES = 100  # from each retriever; enough for the first pages and for fusion
FILTERED_CANDIDATES = 1000  # HNSW neighbours to filter when many papers pass the filters
EXACT_BELOW = 2_000  # papers passing the filters below which dense search compares them all
UNFILTERED = Query()
TITLE_BOOST = 0.2
CATCH_UP_WAIT_S = 5.0  # a catch-up of a day's listing takes well under a second
NAME_WORDS = 4  # queries of at most this many words may be an author's name


@dataclass(frozen=True)
class SearchResults:
    query: Query  # as searched: with the corrections of `corrected`
    mode: Mode
    hits: list[Hit]  # the page asked for
    total: int  # matches found (at most the candidates kept)
    corrected: dict[str, str] | None = None  # typed word -> the spelling searched instead
    author: str | None = None  # the author the words name, whose papers come first


def index_folder(store: Store, settings: Settings) -> Path:
    """Where a SQLite store's indexes live: beside the database file."""
    database = make_url(store.url).database
    if not database or database == ":memory:":
        return settings.data_dir / "search"
    path = Path(database)
    return path.parent / f"{path.stem}-search"


class SearchService:
    """One per process: it holds the encoder and the open indexes. Whoever holds a connection
    (a web request) passes it as `connection`: everything is then read on it."""

    def __init__(self, settings: Settings, store: Store, encoder: Encoder | None = None) -> None:
        self.settings = settings
        self.store = store
        self._encoder = encoder
        self._encoder_lock = threading.Lock()
        self.stemmer = analyzer(stem=True)
        self.keyword: KeywordIndex | None = None
        self.vectors: VectorIndex | None = None
        if store.dialect == "sqlite":
            folder = index_folder(store, settings)
            self.keyword = KeywordIndex(folder / "keyword", TITLE_BOOST)
            self.vectors = VectorIndex(folder / "vectors.usearch", MiniLM.dimensions)

    def keyword_terms(self, words: tuple[str, ...]) -> list[str]:
        """Index terms of query words (stemmed), to mark them in excerpts."""
        return index_terms(self.stemmer, words)

    @property
    def encoder(self) -> Encoder:
        with self._encoder_lock:  # loaded once, on the first query that needs it
            if self._encoder is None:
                self._encoder = MiniLM(self.settings.cache_dir, self.settings.device)
            return self._encoder

    def catch_up(self, connection: Connection | None = None) -> None:
        """Make papers written since the last search searchable by keyword (SQLite). When
        another process is at it (serve's job, `dailypapers index`), wait a while for it to
        finish, then search what it has committed so far."""
        if self.keyword is None:
            return
        with self.store.read(connection) as reading, suppress(BlockingIOError):
            if queue_length(reading):
                catch_up_keywords(
                    self.store, self.keyword, wait=CATCH_UP_WAIT_S, connection=reading
                )
        self.keyword.reload()

    def search(
        self,
        text: str,
        mode: Mode = "hybrid",
        limit: int = 20,
        offset: int = 0,
        every_word: bool = False,
        connection: Connection | None = None,
        categories: Sequence[str] = (),
        cut_off: bool = True,
    ) -> SearchResults:
        """Best matches first. By keyword, any of the words matches (BM25 ranks papers with
        more of them higher) unless `every_word`, as feeds and alerts ask. A paper's arXiv id
        finds that paper alone; an author's name, their papers first. `categories` narrow it
        as cat: does. `cut_off=False` keeps the matches past where relevance ends (as many as
        `limit`), and so does `every_word`. Raises QueryError for a query that cannot be
        understood."""
        query = parse_query(text)
        if categories:
            query = replace(query, categories=(*query.categories, *map(str.lower, categories)))
        with self.store.read(connection) as reading:
            if query.paper_id is not None:
                found = searchable_papers(reading, [query.paper_id])
                hits = [Hit(p.id, 1.0) for p in found if not p.hidden]
                return SearchResults(query, mode, hits[offset : offset + limit], len(hits))
            if not query.words:  # filters alone: the newest papers passing them
                ids, total = self._newest(reading, query, limit, offset)
                hits = [Hit(paper_id, 0.0) for paper_id in ids]
                return SearchResults(query, mode, hits, total)
            # A name as typed is no typo: the dictionary holds titles and abstracts, not names.
            author, by_author = self._author(reading, query, mode)
            corrected = {} if by_author else self._corrections(reading, query)
            if corrected:
                words = tuple(corrected.get(word, word) for word in query.words)
                phrases = tuple(tuple(corrected.get(w, w) for w in p) for p in query.phrases)
                query = replace(query, words=words, phrases=phrases)
                author, by_author = self._author(reading, query, mode)
            first = {hit.paper_id for hit in by_author}
            ranked = by_author + [
                hit
                for hit in self._ranked(reading, query, mode, offset + limit, every_word, cut_off)
                if hit.paper_id not in first
            ]
        page = ranked[offset : offset + limit]
        return SearchResults(query, mode, page, len(ranked), corrected or None, author)

    def _ranked(
        self,
        connection: Connection,
        query: Query,
        mode: Mode,
        wanted: int,
        every_word: bool,
        cut_off: bool,
    ) -> list[Hit]:
        """By keyword and by meaning, fused. In hybrid mode, papers without every "exact
        phrase" are left out and those with every acronym are raised: the encoder reads
        LLM as any language model."""
        keep = max(wanted, CANDIDATES)  # each retriever applies the filters itself
        lexical = self._keyword(connection, query, keep, every_word) if mode != "semantic" else []
        vector = self.encoder.encode([query.text])[0] if mode != "keyword" else None
        dense = self._dense(connection, vector, keep, query) if vector is not None else []
        candidates = self._candidates(connection, lexical, dense, vector)
        preferred: set[str] = set()
        if mode == "hybrid" and query.phrases:
            holding = self._holding(connection, replace(query, words=()))
            candidates = [c for c in candidates if c.paper_id in holding]
        if mode == "hybrid" and query.acronyms:
            preferred = self._holding(connection, replace(query, words=query.acronyms))
        return fuse(
            candidates,
            mode,
            preferred,
            cutoff=RELATIVE_CUTOFF if cut_off and not every_word else 0.0,
        )

    def _holding(self, connection: Connection, query: Query) -> set[str]:
        """The papers passing the filters that hold every one of the query's words and
        phrases (at most FILTERED_CANDIDATES of them)."""
        words = query.words or tuple(word for phrase in query.phrases for word in phrase)
        every = replace(query, words=words)
        return {p for p, _ in self._keyword(connection, every, FILTERED_CANDIDATES, True)}

    def _corrections(self, connection: Connection, query: Query) -> dict[str, str]:
        """One typo per word: words no paper holds, spelled as the papers spell them."""
        if self.keyword is not None:
            self.catch_up(connection)
            return corrections(query.words, self.keyword.frequencies)
        return corrections(query.words, lambda words: fulltext_frequencies(connection, words))

    def _author(
        self, connection: Connection, query: Query, mode: Mode
    ) -> tuple[str | None, list[Hit]]:
        """When the words are an author's name (a surname alone: only by keyword), that
        author as the papers spell the name, and their papers passing the filters, newest
        first."""
        words = query.words
        if query.phrases or not 1 <= len(words) <= NAME_WORDS or not all(map(str.isalpha, words)):
            return None, []
        if len(words) == 1 and mode != "keyword":
            return None, []
        name = " ".join(words)
        ids, _ = self._newest(
            connection, replace(query, words=(), authors=(*query.authors, name)), CANDIDATES, 0
        )
        found = searchable_papers(connection, ids[:20])
        return _named(name, [a for p in found for a in p.authors]), [Hit(p, 1.0) for p in ids]

    def _keyword(
        self, connection: Connection, query: Query, limit: int, every_word: bool
    ) -> list[tuple[str, float]]:
        if self.keyword is not None:
            self.catch_up(connection)
            return self.keyword.search(query, limit, every_word)
        return fulltext_search(connection, query.words, query.phrases, query, limit, every_word)

    def _newest(
        self, connection: Connection, filters: Query, limit: int, offset: int
    ) -> tuple[list[str], int]:
        if self.keyword is not None:  # SQLite's JSON authors take a scan of every paper
            self.catch_up(connection)
            return self.keyword.newest(filters, limit, offset)
        return newest_matching(connection, filters, limit, offset)

    def _dense(
        self,
        connection: Connection,
        vector: np.ndarray,
        limit: int,
        filters: Query = UNFILTERED,
        exclude: str | None = None,
    ) -> list[tuple[str, float]]:
        """The papers nearest to `vector` that pass the filters. When few papers pass, they
        are compared one by one: the HNSW neighbours of a query may include none of them."""
        if self.keyword is None or self.vectors is None:
            return nearest_papers(connection, vector, limit, filters, exclude)
        few = None
        if filters.filtered:
            self.catch_up(connection)
            few = self.keyword.few_passing(filters, EXACT_BELOW)
        if few is not None:
            return _nearest_of(paper_vectors(connection, few), vector, limit)
        wanted = max(FILTERED_CANDIDATES, limit) if filters.filtered else limit
        found = self.vectors.search(vector, wanted + 1)  # + 1: `exclude` may be among them
        papers = visible_papers_of_keys(connection, [key for key, _ in found])
        nearest = [
            (papers[key], similarity)
            for key, similarity in found
            if key in papers and papers[key] != exclude
        ]
        if filters.filtered:
            passing = self.keyword.passing([paper_id for paper_id, _ in nearest], filters)
            nearest = [hit for hit in nearest if hit[0] in passing]
        return nearest[:limit]

    def _candidates(
        self,
        connection: Connection,
        lexical: list[tuple[str, float]],
        dense: list[tuple[str, float]],
        vector: np.ndarray | None,
    ) -> list[Candidate]:
        """Keyword and dense candidates with both scores where both can be had: the similarity
        of a keyword-only candidate is computed from its stored embedding."""
        similarity = dict(dense)
        missing = [paper_id for paper_id, _ in lexical if paper_id not in similarity]
        if vector is not None and missing:
            for paper_id, stored in paper_vectors(connection, missing).items():
                similarity[paper_id] = float(stored @ vector)
        scores = dict(lexical)
        ids = list(dict.fromkeys([paper_id for paper_id, _ in lexical] + [p for p, _ in dense]))
        return [Candidate(p, scores.get(p), similarity.get(p)) for p in ids]

    def similar(
        self,
        paper_id: str,
        limit: int = 10,
        encode: bool = True,
        connection: Connection | None = None,
    ) -> list[Hit]:
        """The papers nearest in meaning to one paper (itself left out). A paper not embedded
        yet is encoded on the spot, unless `encode` is False (then it has none yet)."""
        with self.store.read(connection) as reading:
            vector = paper_vectors(reading, [paper_id]).get(paper_id)
            if vector is None:
                if not encode:
                    return []
                found = searchable_papers(reading, [paper_id])
                if not found:
                    return []
                vector = self.encoder.encode([paper_text(found[0].title, found[0].abstract)])[0]
            return [Hit(p, s) for p, s in self._dense(reading, vector, limit, exclude=paper_id)]

    def update_indexes(
        self,
        rebuild: bool = False,
        progress: IndexProgress | None = None,
        embed_limit: int | None = None,
    ) -> IndexReport:
        """Bring every index up to the database: the keyword queue, the vector file, and the
        embeddings of papers that are new, changed, or embedded by another model. Embeddings
        are recomputed only then, even with `rebuild` (which rebuilds the index files);
        `embed_limit` embeds at most that many (the shortest first)."""
        progress = progress or IndexProgress()
        report = IndexReport(keyword=self.update_keywords(rebuild, progress))
        work = embedding_work(self.store, self.encoder.model, embed_limit)
        progress.start("embeddings", len(work.paper_ids))
        report.embedded = embed_papers(
            self.store, self.encoder, work, self.vectors, progress.advance
        )
        return report

    def update_keywords(self, rebuild: bool = False, progress: IndexProgress | None = None) -> int:
        """The keyword index and the vector file brought to the database (SQLite; PostgreSQL
        keeps both inside it); how many papers were (re)indexed by keyword."""
        progress = progress or IndexProgress()
        indexed = 0
        if self.keyword is not None:
            with self.store.read() as connection:
                progress.start("keyword index", queue_length(connection))
            update = rebuild_keywords if rebuild else catch_up_keywords
            indexed = update(self.store, self.keyword, progress.advance)
        if self.vectors is not None:
            sync_vector_file(self.store, self.vectors, rebuild=rebuild)
        return indexed

    def embedding_batches(self, size: int) -> list[list[str]]:
        """The papers that need an embedding, in batches of `size` (similar lengths together),
        for workers to embed side by side."""
        ids = embedding_work(self.store, self.encoder.model).paper_ids
        return [ids[start : start + size] for start in range(0, len(ids), size)]

    def embed(self, ids: Collection[str]) -> int:
        """Embed those of `ids` that still need it (a batch run twice embeds nothing twice)."""
        work = embedding_work(self.store, self.encoder.model, ids=ids)
        return embed_papers(self.store, self.encoder, work, self.vectors)


def _named(typed: str, authors: list[str]) -> str | None:
    """The author name (as stored) that most of these papers give for the typed name."""
    wanted = _name_words(typed)
    spelled = Counter(
        author
        for author in authors
        if any(
            words[i : i + len(wanted)] == wanted
            for words in [_name_words(author)]
            for i in range(len(words))
        )
    )
    return spelled.most_common(1)[0][0] if spelled else None


def _name_words(name: str) -> list[str]:
    return [word.lower() for word in re.findall(r"\w+", fold_accents(name))]


def _nearest_of(
    vectors: dict[str, np.ndarray], vector: np.ndarray, limit: int
) -> list[tuple[str, float]]:
    """Exact search over a few stored vectors, nearest first."""
    if not vectors:
        return []
    ids = list(vectors)
    similarities = np.stack(list(vectors.values())) @ vector
    order = np.argsort(-similarities)[:limit]
    return [(ids[i], float(similarities[i])) for i in order]


@dataclass
class IndexReport:
    keyword: int = 0  # papers (re)indexed by keyword
    embedded: int = 0  # papers embedded


class IndexProgress:
    """Told when a stage starts (with its size) and as papers are done; silent by default."""

    def start(self, stage: str, total: int) -> None:
        pass

    def advance(self, done: int) -> None:
        pass
