"""The demo sample: about 2,000 recent real arXiv papers (CC0 metadata) in our JSON-lines form."""

from __future__ import annotations

from importlib.resources import as_file, files

from dailypapers.ingest.bulk import ImportReport, import_json_lines
from dailypapers.ingest.jsonl import paper_from_json
from dailypapers.storage import Store
from dailypapers.storage.papers import count_papers


def load_demo_if_empty(store: Store) -> ImportReport | None:
    """Fill an empty database with the sample; leave a database with papers alone."""
    with store.read() as connection:
        if count_papers(connection):
            return None
    with as_file(files(__package__) / "papers.jsonl.gz") as path:
        return import_json_lines(store, path, paper_from_json)
