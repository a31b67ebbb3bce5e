"""Keeping the indexes in step with the database: the keyword queue drained into tantivy,
embeddings computed for new or changed papers, the vector file brought up to date.

Everything here can stop at any point (a crash, Ctrl-C) and be run again: the database is
the truth, a batch is forgotten from the queue only after the index committed it, and each
batch of embeddings is stored in its own transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection

from dailypapers.search.encoder import Encoder, paper_text
from dailypapers.search.keyword import KeywordIndex, exclusive
from dailypapers.search.vectors import VectorIndex, put_vectors
from dailypapers.storage import Store
from dailypapers.storage.search import (
    all_vectors,
    embedding_state,
    forget_queued,
    queue_every_paper,
    queued_papers,
    save_embeddings,
    searchable_papers,
)

Advance = Callable[[int], None]  # told how many more papers are done


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _nothing(_done: int) -> None:
    pass


def catch_up_keywords(
    store: Store,
    keyword: KeywordIndex,
    advance: Advance = _nothing,
    wait: float = 0.0,
    connection: Connection | None = None,
) -> int:
    """Index what the queue holds; returns how many papers were (re)indexed or removed.
    Raises BlockingIOError when another process is still writing the index after `wait`.
    On the caller's `connection` when given (a search in a web request)."""
    done = 0
    with keyword.writer(wait) as writer:
        while True:
            with store.read(connection) as reading:
                ids, last = queued_papers(reading, 2000)
                found = searchable_papers(reading, ids)
            if last is None:
                return done
            for paper in found:
                writer.replace(paper)
            for paper_id in set(ids) - {paper.id for paper in found}:
                writer.remove(paper_id)
            writer.commit()
            # No page shows the queue: the cached pages of the site stay (searches are not kept).
            with store.bookkeeping(connection) as writing:
                forget_queued(writing, last)
            done += len(ids)
            advance(len(ids))


def rebuild_keywords(store: Store, keyword: KeywordIndex, advance: Advance = _nothing) -> int:
    with keyword.writer() as writer:
        writer.clear()
    with store.transaction() as connection:
        queue_every_paper(connection)
    return catch_up_keywords(store, keyword, advance)


@dataclass(frozen=True)
class EmbeddingWork:
    paper_ids: list[str]
    texts: list[str]
    hashes: list[str]


def embedding_work(
    store: Store, model: str, limit: int | None = None, ids: Collection[str] | None = None
) -> EmbeddingWork:
    """Visible papers (of `ids`, when given) with no embedding by `model` for their current
    text, shortest first (batches of similar length waste little on padding)."""
    todo = []
    with store.read() as connection:
        for rows in embedding_state(connection, ids=ids):
            for paper_id, title, abstract, stored_model, stored_hash in rows:
                text = paper_text(title, abstract)
                digest = text_hash(text)
                if stored_model != model or stored_hash != digest:
                    todo.append((len(text), paper_id, text, digest))
    todo.sort()
    todo = todo[:limit]
    return EmbeddingWork(
        [paper_id for _, paper_id, _, _ in todo],
        [text for _, _, text, _ in todo],
        [digest for _, _, _, digest in todo],
    )


def embed_papers(
    store: Store,
    encoder: Encoder,
    work: EmbeddingWork,
    vectors: VectorIndex | None,
    advance: Advance = _nothing,
    batch_size: int = 32,
    chunk_size: int = 1024,
) -> int:
    """Encode and store `work` a chunk at a time (each chunk one transaction, then added to the
    vector file when there is one)."""
    for start in range(0, len(work.paper_ids), chunk_size):
        stop = start + chunk_size
        texts = work.texts[start:stop]
        encoded = []
        for first in range(0, len(texts), batch_size):
            encoded.append(encoder.encode(texts[first : first + batch_size]))
            advance(len(encoded[-1]))
        rows = list(
            zip(
                work.paper_ids[start:stop],
                work.hashes[start:stop],
                np.concatenate(encoded),
                strict=True,
            )
        )
        with store.transaction() as connection:
            keys = save_embeddings(connection, encoder.model, rows)
        if vectors is not None:
            with exclusive(vectors.path.with_suffix(".lock")):
                index = vectors.writable()
                put_vectors(
                    index,
                    [keys[paper_id] for paper_id, _, _ in rows],
                    np.stack([v for _, _, v in rows]),
                )
                vectors.save(index)
            # The data version once more: a page made between the commit and the save
            # took its similar papers from the old file.
            with store.transaction():
                pass
    return len(work.paper_ids)


def sync_vector_file(store: Store, vectors: VectorIndex, rebuild: bool = False) -> int:
    """Bring the vector file to the embeddings table: add the keys it lacks (after a crash
    between the two), drop the ones gone. Returns how many were added."""
    with exclusive(vectors.path.with_suffix(".lock")):
        index = vectors.writable(fresh=rebuild)
        stored = []
        added = 0
        with store.read() as connection:
            for keys, batch in all_vectors(connection):
                key_array = np.asarray(keys, dtype=np.uint64)
                stored.append(key_array)
                missing = ~index.contains(key_array)
                if missing.any():
                    put_vectors(index, key_array[missing], batch[missing])
                    added += int(missing.sum())
        # np.asarray: iterating `index.keys` one by one takes quadratic time in usearch
        held = np.asarray(index.keys, dtype=np.uint64)
        gone = held[~np.isin(held, np.concatenate(stored))] if stored else held
        if len(gone):
            index.remove(gone)
        if added or len(gone) or rebuild:
            vectors.save(index)
    return added
