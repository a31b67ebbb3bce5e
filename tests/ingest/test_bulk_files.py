"""Bulk files through the CLI: snapshot, our JSON lines, Hugging Face daily papers; bad input."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.storage import Store
from dailypapers.storage.papers import count_papers, get_paper, get_submissions, stats
from tests.conftest import shared

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = "fixtures/kaggle-snapshot/arxiv-metadata-oai-snapshot-sample.jsonl"
HF_DAILY = "fixtures/hf-daily-papers/daily_papers-2026-06-12.json"


def papers_in(store: Store) -> int:
    with store.read() as connection:
        return count_papers(connection)


def test_snapshot_sample_stores_200_papers_with_versions_and_twice_still_200(
    dailypapers, store: Store
) -> None:
    for _ in range(2):
        result = dailypapers("ingest", "snapshot", shared(SNAPSHOT))
        assert result.exit_code == 0, result.output
    with store.read() as connection:
        numbers = stats(connection)
        first = get_paper(connection, "0704.0001")
    assert numbers.papers == 200
    assert numbers.versions == 326  # counted in the sample file
    assert first.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert first.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
    assert [v.number for v in first.versions] == [1, 2]
    assert first.versions[0].created.isoformat() == "2007-04-02T19:18:42+00:00"
    assert (first.doi, first.journal_ref) == (
        "10.1103/PhysRevD.76.013009",
        "Phys.Rev.D76:013009,2007",
    )
    assert first.sources["doi"] == "snapshot"


def test_export_then_import_is_lossless(dailypapers, store: Store, tmp_path: Path) -> None:
    assert dailypapers("ingest", "snapshot", shared(SNAPSHOT)).exit_code == 0
    assert dailypapers("ingest", "hf-daily", shared(HF_DAILY)).exit_code == 0
    first_export = tmp_path / "first.jsonl.gz"
    assert dailypapers("export", first_export).exit_code == 0

    copy_db = f"sqlite:///{tmp_path / 'copy.db'}"

    runner = CliRunner()
    assert (
        runner.invoke(app, ["ingest", "jsonl", str(first_export), "--db", copy_db]).exit_code == 0
    )
    second_export = tmp_path / "second.jsonl"
    assert runner.invoke(app, ["export", str(second_export), "--db", copy_db]).exit_code == 0
    first = gzip.decompress(first_export.read_bytes()).splitlines()
    assert len(first) == 230
    assert first == second_export.read_bytes().splitlines()


def test_hugging_face_daily_papers_bring_upvotes_and_submitters(dailypapers, store: Store) -> None:
    path = shared(HF_DAILY)
    result = dailypapers("ingest", "hf-daily", path)
    assert result.exit_code == 0, result.output
    entries = json.loads(path.read_text())
    with store.read() as connection:
        ids = [entry["paper"]["id"] for entry in entries]
        submitted = get_submissions(connection, ids)
        paper = get_paper(connection, ids[0])
    assert len(submitted) == 30
    for entry in entries:
        submission = submitted[entry["paper"]["id"]]
        assert submission.upvotes == entry["paper"]["upvotes"]
        assert submission.submitted_by == entry["paper"]["submittedOnDailyBy"]["name"]
        assert submission.submitted_at.date().isoformat() == "2026-06-12"
    assert paper.title == entries[0]["paper"]["title"]
    assert paper.authors == [a["name"] for a in entries[0]["paper"]["authors"]]


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def listing_lines(count: int) -> list[bytes]:
    with gzip.open(shared("arxiv-listings/papers.jsonl.gz")) as lines:
        return [next(lines).rstrip(b"\n") for _ in range(count)]


def test_a_malformed_record_is_skipped_counted_and_named(
    dailypapers, store: Store, tmp_path: Path
) -> None:
    lines = listing_lines(5)
    lines[2] = b'{"id": "2503.0", "title": '
    lines.insert(4, b'["not", "a", "paper"]')
    result = dailypapers("ingest", "jsonl", write_lines(tmp_path / "bad.jsonl", lines))
    assert result.exit_code == 0, result.output
    assert "skipped 2 malformed records" in result.output
    assert "bad.jsonl:3:" in result.output and "bad.jsonl:5:" in result.output
    assert papers_in(store) == 4


def test_strict_makes_a_malformed_record_fatal_in_one_line(
    dailypapers, store: Store, tmp_path: Path
) -> None:
    lines = listing_lines(3)
    lines[1] = b"{oops"
    result = dailypapers("ingest", "jsonl", write_lines(tmp_path / "bad.jsonl", lines), "--strict")
    assert result.exit_code == 1
    error_lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and "bad.jsonl:2:" in error_lines[0]


def test_a_truncated_gzip_fails_keeps_what_was_read_and_a_rerun_completes(
    dailypapers, store: Store, tmp_path: Path
) -> None:
    lines = listing_lines(5000)
    whole = gzip.compress(b"\n".join(lines) + b"\n")
    truncated = tmp_path / "papers.jsonl.gz"
    truncated.write_bytes(whole[: len(whole) * 3 // 4])

    result = dailypapers("ingest", "jsonl", truncated)
    assert result.exit_code == 1
    assert "papers.jsonl.gz: cannot be read to its end" in result.output
    kept = papers_in(store)
    assert 2000 <= kept < 5000  # whole batches before the break are stored

    truncated.write_bytes(whole)
    assert dailypapers("ingest", "jsonl", truncated).exit_code == 0
    assert papers_in(store) == 5000


def test_malformed_hf_json_names_file_and_line(dailypapers, tmp_path: Path) -> None:
    path = tmp_path / "daily.json"
    path.write_text('[\n  {"paper": {"id": "2606.00001"}},\n  {"paper": \n')
    result = dailypapers("ingest", "hf-daily", path)
    assert result.exit_code == 1
    assert "daily.json: malformed JSON at line" in result.output


def test_a_missing_file_is_one_line(dailypapers, tmp_path: Path) -> None:
    result = dailypapers("ingest", "snapshot", tmp_path / "nope.jsonl")
    assert result.exit_code == 1
    assert result.output.strip().startswith("error:") and "nope.jsonl" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_jsonl_record_fields_survive_in_our_format(tmp_path: Path) -> None:
    from dailypapers.ingest.jsonl import paper_from_json, paper_to_json

    record = orjson.loads(listing_lines(1)[0])
    paper, submission = paper_from_json(record)
    assert submission is None
    back = paper_to_json(paper)
    assert {key: back[key] for key in record} == record


def test_a_gzip_of_several_members_is_read_whole(dailypapers, store: Store, tmp_path: Path) -> None:
    lines = listing_lines(30)
    path = tmp_path / "joined.jsonl.gz"
    path.write_bytes(
        b"".join(gzip.compress(b"\n".join(lines[k : k + 10]) + b"\n") for k in (0, 10, 20))
    )
    result = dailypapers("ingest", "jsonl", path)
    assert result.exit_code == 0, result.output
    assert papers_in(store) == 30


def test_strict_keeps_the_records_before_the_bad_one(store: Store, tmp_path: Path) -> None:
    from dailypapers.ingest.bulk import import_json_lines
    from dailypapers.ingest.errors import IngestError
    from dailypapers.ingest.jsonl import paper_from_json

    lines = listing_lines(25)
    lines[16] = b"{not json"
    path = write_lines(tmp_path / "bad.jsonl", lines)
    with pytest.raises(IngestError, match=r"bad.jsonl:17:"):
        import_json_lines(store, path, paper_from_json, batch_size=5, strict=True, workers=2)
    assert papers_in(store) == 16


def test_two_workers_store_every_record_in_order(store: Store, tmp_path: Path) -> None:
    from dailypapers.ingest.bulk import import_json_lines
    from dailypapers.ingest.jsonl import paper_from_json

    lines = listing_lines(103)
    lines[50] = b'{"id": 5}'
    path = write_lines(tmp_path / "some.jsonl", lines)
    report = import_json_lines(store, path, paper_from_json, batch_size=10, workers=2)
    assert (report.papers, report.skipped) == (102, 1)
    assert report.skip_reasons == [f"{path}:51: ValueError: field 'id' must be a string"]
    assert papers_in(store) == 102


def test_a_worker_that_dies_ends_the_import_with_its_reason(
    database_url: str, store: Store, tmp_path: Path
) -> None:
    """Blocks left in the dead worker's queue must not keep the process from exiting."""
    from tests.ingest.dying_parser import EXIT_CODE

    path = write_lines(tmp_path / "big.jsonl", listing_lines(2000))  # more than a pipe holds
    command = [sys.executable, "-m", "tests.ingest.dying_parser", database_url, str(path)]
    ended = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert ended.returncode == 0, ended.stderr
    assert ended.stdout.strip() == f"import worker died (exit code {EXIT_CODE})"
    assert papers_in(store) == 0
