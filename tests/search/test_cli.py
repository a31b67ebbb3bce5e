"""`dailypapers index`, `search` and `eval beir` as a user runs them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import orjson
from typer.testing import CliRunner, Result

from dailypapers.cli import app
from dailypapers.models import Paper
from tests.conftest import shared


def test_index_then_search_as_json(
    dailypapers: Callable[..., Result], topic_papers: dict[str, Paper]
) -> None:
    indexed = dailypapers("index")
    assert indexed.exit_code == 0, indexed.output
    assert "embedded 5" in indexed.output
    again = dailypapers("index")
    assert "embedded 0" in again.output  # nothing changed, nothing recomputed
    found = dailypapers("search", "denoising diffusion", "--json")
    assert found.exit_code == 0, found.output
    results = orjson.loads(found.stdout)["results"]
    assert results[0]["id"] == topic_papers["diffusion"].id
    assert set(results[0]) == {"id", "title", "authors", "date", "score"}


def test_search_errors_are_one_line(dailypapers: Callable[..., Result]) -> None:
    result = dailypapers("search", "after:someday")
    assert result.exit_code == 1
    assert "after: takes a date as YYYY-MM-DD" in result.output
    assert dailypapers("search", "x", "--mode", "fuzzy").exit_code == 2


def test_eval_beir_on_a_slice_of_scifact(tmp_path: Path) -> None:
    folder = tmp_path / "scifact-slice"
    (folder / "qrels").mkdir(parents=True)
    source = shared("scifact")
    corpus = source.joinpath("corpus.jsonl").read_text().splitlines()[:60]
    folder.joinpath("corpus.jsonl").write_text("\n".join(corpus) + "\n")
    ids = {json.loads(line)["_id"] for line in corpus}
    rows = source.joinpath("qrels", "train.tsv").read_text().splitlines()
    judged = [rows[0]] + [row for row in rows[1:] if row.split("\t")[1] in ids]
    folder.joinpath("qrels", "train.tsv").write_text("\n".join(judged) + "\n")
    folder.joinpath("queries.jsonl").write_text(source.joinpath("queries.jsonl").read_text())
    result = CliRunner().invoke(app, ["eval", "beir", str(folder), "--split", "train", "--json"])
    assert result.exit_code == 0, result.output
    scores = orjson.loads(result.stdout)
    assert set(scores) == {"hybrid", "keyword", "semantic"}
    for mode in scores.values():
        assert mode["queries"] == len({row.split("\t")[0] for row in judged[1:]})
        assert 0.5 < mode["ndcg@10"] <= 1.0  # a 60-document corpus is easy, not trivial
    missing = CliRunner().invoke(app, ["eval", "beir", str(tmp_path), "--split", "train"])
    assert missing.exit_code == 1 and "qrels" in missing.output
