"""`dailypapers library import` and `export`: a real Zotero export into a tag (the book, the
journal article and the broken entry reported with their lines), papers not stored fetched
from arXiv, a rerun that adds nothing, arXiv down, and the export read back."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from click.testing import Result
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.ingest.jsonl import paper_from_json
from dailypapers.library.formats import parse_library
from dailypapers.storage import Store
from dailypapers.storage.library import saved_papers
from dailypapers.storage.upserts import upsert_papers
from dailypapers.storage.users import create_user, user_by_name
from tests.conftest import QUICK_NETWORK, shared
from tests.fake_http import fake_arxiv_api, serving

FETCHED = "2606.13677"  # not stored: the fake arXiv API has it
UNKNOWN = "2401.99999"  # arXiv has no such paper


@pytest.fixture
def libraries() -> Path:
    return shared("fixtures/libraries")


@pytest.fixture
def expected(libraries: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    return orjson.loads((libraries / "expected.json").read_bytes())  # type: ignore[no-any-return]


@pytest.fixture
def corpus(store: Store, expected: dict[str, dict]) -> None:  # type: ignore[type-arg]
    """The listings' papers that the reference libraries name (no network needed), and the
    reader "ada"."""
    wanted = {paper_id for library in expected.values() for paper_id in library["arxiv_ids"]}
    papers = []
    with gzip.open(shared("arxiv-listings/papers.jsonl.gz")) as lines:
        for line in lines:
            if orjson.loads(line)["id"] in wanted:
                papers.append(paper_from_json(orjson.loads(line))[0])
    with store.transaction() as connection:
        upsert_papers(connection, papers)
        create_user(connection, "ada", "unused", datetime.now(UTC), False)


@pytest.fixture
def run(database_url: str, corpus: None) -> Iterator[object]:
    with serving(fake_arxiv_api) as arxiv:
        environment = {**QUICK_NETWORK, "DAILYPAPERS_ARXIV_API_URL": arxiv.url}

        def invoke(*args: object) -> Result:
            return CliRunner(env=environment).invoke(app, [*map(str, args), "--db", database_url])

        yield invoke


def library_of(store: Store, tag: str | None = None) -> list[str]:
    with store.read() as connection:
        found = user_by_name(connection, "ada")
        assert found is not None
        return sorted(s.paper_id for s in saved_papers(connection, found[0].id, tag))


def test_a_zotero_export_comes_in_with_what_it_skips(
    run,
    store: Store,
    libraries: Path,
    expected: dict[str, dict],  # type: ignore[no-untyped-def, type-arg]
) -> None:
    result = run("library", "import", "ada", libraries / "zotero.bib", "--tag", "reading")
    assert result.exit_code == 0, result.output
    assert "skipped line 85: @book{goodfellow_deep_2016 names no arXiv paper" in result.output
    assert "skipped line 94: @article{jumper_highly_2021" in result.output
    assert "skipped line 104: not a complete entry" in result.output
    assert "imported 8 papers into 'reading'" in result.output and "skipped 3" in result.output
    assert library_of(store, "reading") == sorted(expected["zotero.bib"]["arxiv_ids"])

    again = run("library", "import", "ada", libraries / "zotero.bib", "--tag", "reading")
    assert "imported 0 papers into 'reading' (8 were there already" in again.output
    assert len(library_of(store)) == 8


@pytest.mark.parametrize("name", ["better-bibtex.bib", "google-scholar.bib", "zotero-csl.json"])
def test_every_export_shape_imports(
    run,
    store: Store,
    libraries: Path,
    expected: dict[str, dict],
    name: str,  # type: ignore[no-untyped-def, type-arg]
) -> None:
    result = run("library", "import", "ada", libraries / name)
    assert result.exit_code == 0, result.output
    assert f"skipped {expected[name]['skipped']}" in result.output
    assert library_of(store, "library") == sorted(expected[name]["arxiv_ids"])


def test_papers_not_stored_are_fetched_and_unknown_ones_reported(
    run,
    store: Store,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text(f"# to read\n{FETCHED}\n\narXiv:{UNKNOWN}v1\nnonsense\n")
    result = run("library", "import", "ada", ids, "--tag", "new")
    assert result.exit_code == 0, result.output
    assert "1 fetched from arXiv" in result.output
    assert f"skipped line 4: {UNKNOWN}: arXiv has no such paper" in result.output
    assert "skipped line 5: 'nonsense' is not an arXiv id or URL" in result.output
    assert library_of(store, "new") == [FETCHED]


def test_arxiv_down_skips_only_what_it_would_have_fetched(
    database_url: str, corpus: None, store: Store, tmp_path: Path, libraries: Path
) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text(f"{FETCHED}\n2503.17244\n")  # the second is stored
    with serving(lambda params: (503, {}, b"down")) as arxiv:
        environment = {**QUICK_NETWORK, "DAILYPAPERS_ARXIV_API_URL": arxiv.url}
        result = CliRunner(env=environment).invoke(
            app, ["library", "import", "ada", str(ids), "--db", database_url]
        )
    assert result.exit_code == 0, result.output
    assert f"skipped line 1: {FETCHED}: arXiv could not be asked for it" in result.output
    assert library_of(store) == ["2503.17244"]


def test_the_export_reads_back_as_the_same_library(
    run,
    store: Store,
    libraries: Path,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    run("library", "import", "ada", libraries / "arxiv.bib", "--tag", "a")
    run("library", "import", "ada", libraries / "jabref.bib", "--tag", "b")
    out = tmp_path / "all.bib"
    assert run("library", "export", "ada", "-o", out).exit_code == 0
    text = out.read_text()
    assert text.count("archivePrefix = {arXiv}") == 16 and "primaryClass = {" in text
    assert sorted(parse_library(text).ids) == library_of(store)
    only = run("library", "export", "ada", "--tag", "b", "--format", "jsonl")
    rows = [orjson.loads(line) for line in only.stdout.splitlines()]
    assert len(rows) == 8 and all(row["tags"] == ["b"] for row in rows)
    assert run("library", "export", "ada", "--format", "ris").exit_code == 2


def test_bad_input_is_one_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    binary = tmp_path / "library.bib"
    binary.write_bytes(b"\xff\xfe@misc{\x00")
    for args, message in (
        (("library", "import", "ada", binary), "error: not UTF-8 text"),
        (("library", "import", "nobody", tmp_path / "missing.bib"), "error: "),
        (("library", "import", "ada", binary, "--tag", " "), "error: a tag name is 1 to 64"),
        (("library", "export", "nobody"), "error: no user named nobody"),
    ):
        result = run(*args)
        assert result.exit_code != 0 and result.output.strip().startswith(message), result.output
        assert len(result.output.strip().splitlines()) == 1
