"""Embeddings of the 74,728-paper listings corpus, computed once by the product's encoder and
kept in bench/.cache (about an hour on 2 cores; resumable chunk by chunk)."""

from __future__ import annotations

import gzip
import sys
import time
from pathlib import Path

import numpy as np
import orjson

from dailypapers.search.encoder import MiniLM, paper_text

LISTINGS = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "arxiv-listings" / "papers.jsonl.gz"
)
CACHE = Path(__file__).parent / ".cache"
CHUNK = 1024


def listings() -> list[dict]:
    with gzip.open(LISTINGS) as lines:
        return [orjson.loads(line) for line in lines]


def listing_embeddings(papers: list[dict]) -> np.ndarray:
    """One row per paper, in the order given; missing chunks are computed and saved."""
    texts = [paper_text(p["title"], p["abstract"]) for p in papers]
    order = np.argsort([len(t) for t in texts], kind="stable")  # less padding per batch
    chunks = CACHE / "listing-embeddings"
    chunks.mkdir(parents=True, exist_ok=True)
    encoder = MiniLM(CACHE / "models")
    vectors = np.zeros((len(texts), encoder.dimensions), np.float32)
    started = time.perf_counter()
    computed = 0
    for number, first in enumerate(range(0, len(texts), CHUNK)):
        rows = order[first : first + CHUNK]
        path = chunks / f"{number:04d}.npy"
        if not path.exists():
            block = np.concatenate(
                [
                    encoder.encode([texts[i] for i in rows[j : j + 32]])
                    for j in range(0, len(rows), 32)
                ]
            )
            np.save(path.with_suffix(".tmp.npy"), block)
            path.with_suffix(".tmp.npy").rename(path)
            computed += len(rows)
            rate = computed / (time.perf_counter() - started)
            print(
                f"chunk {number}: {first + len(rows)}/{len(texts)}, {rate:.1f} docs/s",
                file=sys.stderr,
            )
        vectors[rows] = np.load(path)
    return vectors


if __name__ == "__main__":
    listing_embeddings(listings())
