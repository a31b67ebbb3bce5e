"""What search reads and writes in the database: the keyword queue, embeddings, filters, and
on PostgreSQL the full-text and pgvector queries themselves."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import reduce
from typing import Any, Protocol

import numpy as np
from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    ARRAY,
    Connection,
    Select,
    Text,
    cast,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy import bindparam as bind

from dailypapers.storage.papers import as_date
from dailypapers.storage.schema import embeddings, paper_categories, papers, search_queue

CHUNK = 900  # ids per IN (...): below SQLite's variable limit


@dataclass(frozen=True)
class SearchablePaper:
    id: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    announced: date | None
    hidden: bool


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


# The keyword queue (SQLite): triggers fill it, the indexer drains it in order.


def queued_papers(connection: Connection, limit: int) -> tuple[list[str], int | None]:
    """The next queued paper ids (each once) and the last queue position they cover."""
    rows = connection.execute(
        select(search_queue.c.seq, search_queue.c.paper_id)
        .order_by(search_queue.c.seq)
        .limit(limit)
    ).all()
    if not rows:
        return [], None
    return list(dict.fromkeys(paper_id for _, paper_id in rows)), rows[-1][0]


def forget_queued(connection: Connection, up_to: int) -> None:
    connection.execute(delete(search_queue).where(search_queue.c.seq <= up_to))


def queue_length(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(search_queue)).scalar_one())


def queue_every_paper(connection: Connection) -> None:
    """For a rebuild: every paper goes through the queue again."""
    connection.execute(insert(search_queue).from_select(["paper_id"], select(papers.c.id)))


def searchable_papers(connection: Connection, ids: Sequence[str]) -> list[SearchablePaper]:
    """The fields an index holds, for the ids that still exist."""
    found: dict[str, SearchablePaper] = {}
    for chunk in _chunks(ids):
        categories: dict[str, list[str]] = {}
        query = (
            select(paper_categories.c.paper_id, paper_categories.c.category)
            .where(paper_categories.c.paper_id.in_(chunk))
            .order_by(paper_categories.c.position)
        )
        for paper_id, category in connection.execute(query):
            categories.setdefault(paper_id, []).append(category)
        columns = (papers.c.id, papers.c.title, papers.c.abstract, papers.c.authors)
        query = select(*columns, papers.c.announced, papers.c.hidden).where(papers.c.id.in_(chunk))
        for row in connection.execute(query):
            found[row.id] = SearchablePaper(
                id=row.id,
                title=row.title or "",
                abstract=row.abstract or "",
                authors=list(row.authors or []),
                categories=categories.get(row.id, []),
                announced=as_date(row.announced),
                hidden=bool(row.hidden),
            )
    return list(found.values())


# Embeddings.


def embedding_state(
    connection: Connection, batch: int = 5000, ids: Collection[str] | None = None
) -> Iterator[list[Any]]:
    """Every visible paper's text (or those of `ids`) with the model and text hash of its
    embedding (None if none)."""
    query = (
        select(
            papers.c.id,
            papers.c.title,
            papers.c.abstract,
            embeddings.c.model,
            embeddings.c.text_hash,
        )
        .outerjoin(embeddings, embeddings.c.paper_id == papers.c.id)
        .where(papers.c.hidden.is_(False))
        .order_by(papers.c.id)
    )
    if ids is not None:
        query = query.where(papers.c.id.in_(list(ids)))
    result = connection.execution_options(yield_per=batch).execute(query)
    for rows in result.partitions():
        yield list(rows)


def _stored(vector: np.ndarray, dialect: str) -> Any:
    return vector if dialect == "postgresql" else np.asarray(vector, np.float32).tobytes()


def _loaded(value: Any) -> np.ndarray:
    if isinstance(value, bytes | bytearray | memoryview):
        return np.frombuffer(value, np.float32)
    return np.asarray(value, np.float32)


def save_embeddings(
    connection: Connection, model: str, rows: Sequence[tuple[str, str, np.ndarray]]
) -> dict[str, int]:
    """Insert or replace (paper id, text hash, vector) rows; returns each paper's key."""
    dialect = connection.dialect.name
    ids = [paper_id for paper_id, _, _ in rows]
    keys = embedding_keys(connection, ids)
    new = []
    for paper_id, text_hash, vector in rows:
        values = {"model": model, "text_hash": text_hash, "vector": _stored(vector, dialect)}
        if paper_id in keys:
            connection.execute(
                update(embeddings).where(embeddings.c.paper_id == paper_id).values(**values)
            )
        else:
            new.append({"paper_id": paper_id, **values})
    if new:
        connection.execute(insert(embeddings), new)
    return embedding_keys(connection, ids)


def embedding_keys(connection: Connection, ids: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(ids):
        query = select(embeddings.c.paper_id, embeddings.c.key).where(
            embeddings.c.paper_id.in_(chunk)
        )
        found.update(dict(connection.execute(query).all()))  # type: ignore[arg-type]
    return found


def paper_vectors(connection: Connection, ids: Sequence[str]) -> dict[str, np.ndarray]:
    found = {}
    for chunk in _chunks(ids):
        query = select(embeddings.c.paper_id, embeddings.c.vector).where(
            embeddings.c.paper_id.in_(chunk)
        )
        found.update({paper_id: _loaded(vector) for paper_id, vector in connection.execute(query)})
    return found


def recent_vectors(connection: Connection, count: int, leaving_out: set[str]) -> np.ndarray:
    """The vectors of the `count` papers embedded last (but those left out): what a reader's
    model is fitted against, standing for the papers it will rank."""
    query = (
        select(embeddings.c.paper_id, embeddings.c.vector)
        .order_by(embeddings.c.key.desc())
        .limit(count + len(leaving_out))
    )
    rows = [_loaded(v) for paper_id, v in connection.execute(query) if paper_id not in leaving_out]
    return np.asarray(rows[:count], dtype=np.float32)


def stored_embeddings(connection: Connection) -> list[tuple[str, str, str, np.ndarray]]:
    """Every embedding as (paper id, model, text hash, vector)."""
    query = select(
        embeddings.c.paper_id, embeddings.c.model, embeddings.c.text_hash, embeddings.c.vector
    ).order_by(embeddings.c.paper_id)
    return [(p, m, h, _loaded(v)) for p, m, h, v in connection.execute(query)]


def all_vectors(
    connection: Connection, batch: int = 10000
) -> Iterator[tuple[list[int], np.ndarray]]:
    """(keys, vectors) of every embedding, in batches: what a vector index is built from."""
    query = select(embeddings.c.key, embeddings.c.vector).order_by(embeddings.c.key)
    for rows in connection.execution_options(yield_per=batch).execute(query).partitions():
        yield [key for key, _ in rows], np.stack([_loaded(vector) for _, vector in rows])


def visible_papers_of_keys(connection: Connection, keys: Sequence[int]) -> dict[int, str]:
    """Vector index keys -> paper ids, leaving out hidden papers."""
    found: dict[int, str] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = [int(key) for key in keys[start : start + CHUNK]]
        query = (
            select(embeddings.c.key, embeddings.c.paper_id)
            .join(papers, papers.c.id == embeddings.c.paper_id)
            .where(embeddings.c.key.in_(chunk), papers.c.hidden.is_(False))
        )
        found.update(dict(connection.execute(query).all()))  # type: ignore[arg-type]
    return found


# Filters.


class Filters(Protocol):
    authors: Sequence[str]  # each whole words of an author's name, in any case
    categories: Sequence[str]  # any of them, lower case
    after: date | None  # announcement day, inclusive
    before: date | None


def fold_accents(text: str) -> str:
    """Jürgen as Jurgen: letters without their accents, as tantivy's ascii_fold."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Latin letters with accents and the same without, for PostgreSQL's translate() (its unaccent
# is an extension this schema does not ask for).
_ACCENTED = "".join(
    c for c in map(chr, range(0xC0, 0x250)) if len(fold_accents(c)) == 1 and fold_accents(c) != c
)
_UNACCENTED = fold_accents(_ACCENTED)


def _filtered(query: Select[Any], filters: Filters) -> Select[Any]:
    """On PostgreSQL, which filters in SQL (SQLite stores filter in tantivy)."""
    query = query.where(papers.c.hidden.is_(False))
    names = func.translate(cast(papers.c.authors, Text), _ACCENTED, _UNACCENTED)
    for name in filters.authors:  # whole words, as tantivy matches them: li is not Oliver
        words = r"\W+".join(re.escape(word) for word in fold_accents(name).split())
        query = query.where(names.op("~*")(rf"\m{words}\M"))
    if filters.categories:  # EXISTS: SQLite would scan every paper's categories for IN
        in_category = select(paper_categories.c.paper_id).where(
            paper_categories.c.paper_id == papers.c.id,
            func.lower(paper_categories.c.category).in_(list(filters.categories)),
        )
        query = query.where(in_category.exists())
    if filters.after:
        query = query.where(papers.c.announced >= filters.after)
    if filters.before:
        query = query.where(papers.c.announced <= filters.before)
    return query


def newest_matching(
    connection: Connection, filters: Filters, limit: int, offset: int = 0
) -> tuple[list[str], int]:
    """The newest visible papers passing the filters (a page of them) and how many pass."""
    matching = _filtered(select(papers.c.id), filters)
    total = connection.execute(select(func.count()).select_from(matching.subquery())).scalar_one()
    page = matching.order_by(papers.c.announced.desc(), papers.c.id.desc()).limit(limit)
    return list(connection.execute(page.offset(offset)).scalars()), int(total)


# PostgreSQL: full text and pgvector.

ENGLISH = literal_column("'english'")
# The same expression as the GIN index of migration 0004 (constants, not parameters, so
# that the planner matches it to the index).
DOCUMENT = func.setweight(
    func.to_tsvector(ENGLISH, func.coalesce(papers.c.title, literal_column("''"))),
    literal_column("'A'"),
).op("||")(
    func.setweight(
        func.to_tsvector(ENGLISH, func.coalesce(papers.c.abstract, literal_column("''"))),
        literal_column("'B'"),
    )
)


def fulltext_search(
    connection: Connection,
    words: Sequence[str],
    phrases: Sequence[Sequence[str]],
    filters: Filters,
    limit: int,
    every_word: bool = False,
) -> list[tuple[str, float]]:
    """Papers with any (or every) one of the words and every phrase that pass the filters,
    by ts_rank_cd with the title weighted."""
    if not words:
        return []
    tsquery = reduce(
        lambda a, b: a.op("&&" if every_word else "||")(b),
        [func.plainto_tsquery(ENGLISH, word) for word in words],
    )
    for phrase in phrases:
        tsquery = tsquery.op("&&")(func.phraseto_tsquery(ENGLISH, " ".join(phrase)))
    score = func.ts_rank_cd(DOCUMENT, tsquery, 1)
    query = _filtered(select(papers.c.id, score).where(DOCUMENT.op("@@")(tsquery)), filters)
    query = query.order_by(score.desc(), papers.c.id).limit(limit)
    return [(paper_id, float(s)) for paper_id, s in connection.execute(query)]


def fulltext_frequencies(connection: Connection, words: Sequence[str]) -> dict[str, int]:
    """How many papers hold each word, as full text matches words (by English stem)."""
    if not words:
        return {}
    given = func.unnest(bind("words", list(words), type_=ARRAY(Text)))
    word = given.table_valued("word").render_derived()
    holding = (
        select(func.count())
        .select_from(papers)
        .where(DOCUMENT.op("@@")(func.plainto_tsquery(ENGLISH, word.c.word)))
        .scalar_subquery()
    )
    return dict(connection.execute(select(word.c.word, holding)).all())  # type: ignore[arg-type]


def nearest_papers(
    connection: Connection,
    vector: np.ndarray,
    limit: int,
    filters: Filters,
    exclude: str | None = None,
) -> list[tuple[str, float]]:
    """pgvector's HNSW index: the visible papers passing the filters closest to `vector`, with
    cosine similarity. The index scan goes on until `limit` papers pass (pgvector's iterative
    scan); without it, it stops after `hnsw.ef_search` (40) rows, filtered or not."""
    connection.execute(text("SET LOCAL hnsw.iterative_scan = strict_order"))
    distance = type_coerce(embeddings.c.vector, Vector(len(vector))).cosine_distance(vector)
    query = _filtered(
        select(embeddings.c.paper_id, (1 - distance).label("similarity"))
        .join(papers, papers.c.id == embeddings.c.paper_id)
        .where(or_(exclude is None, embeddings.c.paper_id != exclude)),
        filters,
    )
    query = query.order_by(distance).limit(limit)
    return [(paper_id, float(similarity)) for paper_id, similarity in connection.execute(query)]
