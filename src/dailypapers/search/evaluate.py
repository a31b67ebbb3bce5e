"""Retrieval quality as BEIR and trec_eval measure it: nDCG@10 and Recall@100 over a folder in
BEIR layout (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv)."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from dailypapers.config import Settings
from dailypapers.models import Paper
from dailypapers.search.encoder import Encoder
from dailypapers.search.query import MAX_QUERY_CHARS, WORD
from dailypapers.search.service import IndexProgress, SearchService
from dailypapers.storage import open_store
from dailypapers.storage.upserts import upsert_papers

Qrels = dict[str, dict[str, int]]  # query id -> document id -> relevance grade


class BeirError(ValueError):
    """The folder is not in BEIR layout; the message is one line for the user."""


@dataclass(frozen=True)
class BeirDocument:
    id: str
    title: str
    text: str


def _json_lines(path: Path) -> Iterator[dict]:
    if not path.is_file():
        raise BeirError(f"{path} is missing: a BEIR folder has corpus.jsonl and queries.jsonl")
    with path.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    yield orjson.loads(line)
                except orjson.JSONDecodeError as error:
                    raise BeirError(f"{path}:{number}: not JSON ({error})") from None


def read_corpus(folder: Path) -> list[BeirDocument]:
    return [
        BeirDocument(str(row["_id"]), row.get("title") or "", row.get("text") or "")
        for row in _json_lines(folder / "corpus.jsonl")
    ]


def read_queries(folder: Path, qrels: Qrels) -> dict[str, str]:
    """The queries that have judgments (as BEIR evaluates them)."""
    queries = {str(row["_id"]): row["text"] for row in _json_lines(folder / "queries.jsonl")}
    return {query_id: queries[query_id] for query_id in qrels if query_id in queries}


def read_qrels(folder: Path, split: str) -> Qrels:
    path = folder / "qrels" / f"{split}.tsv"
    if not path.is_file():
        raise BeirError(f"{path} is missing: no judgments for split {split!r}")
    qrels: Qrels = {}
    with path.open(newline="") as rows:
        for row in csv.DictReader(rows, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    return qrels


def ndcg_at(ranking: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    """trec_eval's ndcg_cut: gain = grade, discount log2(rank + 1), ideal from the judgments."""
    dcg = sum(judged.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranking[:k]))
    ideal_gains = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
    ideal = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(ideal_gains))
    return dcg / ideal if ideal else 0.0


def recall_at(ranking: Sequence[str], judged: Mapping[str, int], k: int = 100) -> float:
    relevant = {doc for doc, grade in judged.items() if grade > 0}
    return len(relevant.intersection(ranking[:k])) / len(relevant) if relevant else 0.0


def mean_scores(rankings: Mapping[str, Sequence[str]], qrels: Qrels) -> dict[str, float]:
    """nDCG@10 and Recall@100 averaged over the judged queries (a missing ranking scores 0)."""
    judged = [query_id for query_id in qrels if any(g > 0 for g in qrels[query_id].values())]
    ndcg = [ndcg_at(rankings.get(q, []), qrels[q]) for q in judged]
    recall = [recall_at(rankings.get(q, []), qrels[q]) for q in judged]
    return {
        "queries": len(judged),
        "ndcg@10": sum(ndcg) / len(judged) if judged else 0.0,
        "recall@100": sum(recall) / len(judged) if judged else 0.0,
    }


def evaluate_folder(
    folder: Path,
    split: str,
    modes: Sequence[str],
    settings: Settings,
    progress: IndexProgress | None = None,
    encoder: Encoder | None = None,
) -> dict[str, dict[str, float]]:
    """Index a BEIR corpus into a new store under `settings.data_dir` the way papers are
    indexed, run every judged query in each mode, and score the rankings."""
    qrels = read_qrels(folder, split)
    queries = read_queries(folder, qrels)
    documents = read_corpus(folder)
    store = open_store(settings.database_url)
    try:
        with store.transaction() as connection:
            for start in range(0, len(documents), 1000):
                batch = documents[start : start + 1000]
                upsert_papers(connection, [Paper(d.id, d.title, d.text) for d in batch])
        service = SearchService(settings, store, encoder)
        service.update_indexes(progress=progress)
        results = {}
        for mode in modes:
            rankings = {
                query_id: [
                    hit.paper_id for hit in service.search(_plain(text), mode, limit=100).hits
                ]
                for query_id, text in queries.items()
            }
            results[mode] = mean_scores(rankings, qrels)
        return results
    finally:
        store.close()


def _plain(text: str) -> str:
    """A benchmark's query as words only: its colons and quotes are not our query language."""
    return " ".join(WORD.findall(text))[:MAX_QUERY_CHARS]
