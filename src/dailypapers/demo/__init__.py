"""The demo sample: about 2,000 recent real arXiv papers (CC0 metadata) in our JSON-lines form,
with their embeddings computed by `scripts/make_demo_embeddings.py`, so that the demo
searches by meaning from its first minute."""

from __future__ import annotations

from importlib.resources import as_file, files

import numpy as np

from dailypapers.ingest.bulk import ImportReport, import_json_lines
from dailypapers.ingest.jsonl import paper_from_json
from dailypapers.storage import Store
from dailypapers.storage.papers import count_papers
from dailypapers.storage.search import save_embeddings

EMBEDDINGS = "embeddings.npz"  # paper_ids, text_hashes, vectors (float16), model


def load_demo_if_empty(store: Store) -> ImportReport | None:
    """Fill an empty database with the sample; leave a database with papers alone."""
    with store.read() as connection:
        if count_papers(connection):
            return None
    with as_file(files(__package__) / "papers.jsonl.gz") as path:
        report = import_json_lines(store, path, paper_from_json)
    _load_embeddings(store)
    return report


def _load_embeddings(store: Store) -> None:
    with as_file(files(__package__) / EMBEDDINGS) as path, np.load(path) as saved:
        model = str(saved["model"])
        vectors = saved["vectors"].astype(np.float32)
        rows = list(
            zip(saved["paper_ids"].tolist(), saved["text_hashes"].tolist(), vectors, strict=True)
        )
    with store.transaction() as connection:
        save_embeddings(connection, model, rows)
