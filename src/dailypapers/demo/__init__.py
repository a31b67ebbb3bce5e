"""The demo sample: about 2,000 recent real arXiv papers (CC0 metadata) in our JSON-lines form,
with their embeddings computed by `scripts/make_demo_embeddings.py`, so that the demo
searches by meaning from its first minute, and a sample vote history written by
`scripts/make_demo_votes.py`, so that its counts and trending show from the first start."""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib.resources import as_file, files

import numpy as np
import orjson
from sqlalchemy import Connection, select

from dailypapers.ingest.bulk import ImportReport, import_json_lines
from dailypapers.ingest.jsonl import paper_from_json
from dailypapers.storage import Store
from dailypapers.storage.papers import count_papers
from dailypapers.storage.schema import papers, users, votes
from dailypapers.storage.search import save_embeddings
from dailypapers.storage.upserts import insert_for

EMBEDDINGS = "embeddings.npz"  # paper_ids, text_hashes, vectors (float16), model
VOTES = "votes.json"  # {"hours_ago": {paper id: [hours before the load, one per vote]}}
READER = "demo-reader-{:03d}"  # reader n casts the n-th vote of every paper
NO_PASSWORD = "!"  # matches no password: demo readers cannot log in


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


def load_demo_votes(store: Store, now: datetime) -> int:
    """The sample vote history as demo readers' votes, each cast its hours before `now`, on the
    demo papers that are stored; returns how many. A rerun adds nothing."""
    history = orjson.loads((files(__package__) / VOTES).read_bytes())["hours_ago"]
    with store.transaction() as connection:
        stored = set(connection.scalars(select(papers.c.id).where(papers.c.id.in_(history))))
        readers = _demo_readers(connection, max(map(len, history.values())), now)
        rows = [
            {"user_id": reader, "paper_id": paper_id, "created_at": now - timedelta(hours=hours)}
            for paper_id, ages in history.items()
            if paper_id in stored
            for reader, hours in zip(readers, ages, strict=False)
        ]
        if rows:
            statement = insert_for(connection.dialect.name, votes).on_conflict_do_nothing()
            connection.execute(statement, rows)
    return len(rows)


def _demo_readers(connection: Connection, count: int, now: datetime) -> list[int]:
    names = [READER.format(number) for number in range(1, count + 1)]
    rows = [{"username": name, "password_hash": NO_PASSWORD, "created_at": now} for name in names]
    connection.execute(insert_for(connection.dialect.name, users).on_conflict_do_nothing(), rows)
    found = dict(
        connection.execute(
            select(users.c.username, users.c.id).where(users.c.username.in_(names))
        ).all()
    )
    return [found[name] for name in names]
