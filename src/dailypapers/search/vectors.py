"""The vector index for SQLite stores: an HNSW graph (usearch) in one file beside the
database, memory-mapped by every reader and replaced whole by the one writer.

The embeddings table is the truth; this file is derived from it and can be rebuilt. Exact
search over 1M vectors takes ~60 ms here, HNSW about 1 ms at a recall measured in
bench/search.py."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime  # noqa: F401  before usearch: importing it after usearch's numkong segfaults
from usearch.index import Index

CONNECTIVITY = 16
EXPANSION_ADD = 64  # 2.2x faster to build than 128 here; recall@10 measured in bench/search.py
EXPANSION_SEARCH = 128


def _empty(dimensions: int) -> Index:
    return Index(
        ndim=dimensions,
        metric="cos",
        dtype="f16",  # half the memory; cosine moves by < 0.001
        connectivity=CONNECTIVITY,
        expansion_add=EXPANSION_ADD,
        expansion_search=EXPANSION_SEARCH,
    )


class VectorIndex:
    """Readers see the file as it was when they last looked; `search` looks again when the
    writer has replaced it."""

    def __init__(self, path: Path, dimensions: int) -> None:
        self.path = path
        self.dimensions = dimensions
        self._index: Index | None = None
        self._seen: tuple[int, int] | None = None

    def _stamp(self) -> tuple[int, int] | None:
        try:
            status = self.path.stat()
        except FileNotFoundError:
            return None
        return status.st_mtime_ns, status.st_ino

    def _current(self) -> Index | None:
        stamp = self._stamp()
        if stamp != self._seen:
            self._index = Index.restore(str(self.path), view=True) if stamp else None
            if self._index is not None:
                self._index.expansion_search = EXPANSION_SEARCH
            self._seen = stamp
        return self._index

    def __len__(self) -> int:
        index = self._current()
        return len(index) if index is not None else 0

    def search(self, vector: np.ndarray, limit: int) -> list[tuple[int, float]]:
        """(key, cosine similarity), nearest first."""
        index = self._current()
        if index is None or len(index) == 0:
            return []
        matches = index.search(vector, min(limit, len(index)), threads=1)
        return [
            (int(k), 1.0 - float(d)) for k, d in zip(matches.keys, matches.distances, strict=True)
        ]

    def writable(self, fresh: bool = False) -> Index:
        """A private, in-memory copy to add to and then `save`."""
        if fresh or self._stamp() is None:
            return _empty(self.dimensions)
        return Index.restore(str(self.path))

    def save(self, index: Index) -> None:
        partial = self.path.with_suffix(f".{os.getpid()}.partial")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        index.save(str(partial))
        os.replace(partial, self.path)  # readers keep the old file open until they look again


def put_vectors(index: Index, keys: Sequence[int], vectors: np.ndarray) -> None:
    """Add, replacing the vectors of keys already there."""
    keys_array = np.asarray(keys, dtype=np.uint64)
    present = keys_array[index.contains(keys_array)]
    if len(present):
        index.remove(present)
    if len(keys_array):
        index.add(keys_array, np.asarray(vectors, np.float32), threads=0)
