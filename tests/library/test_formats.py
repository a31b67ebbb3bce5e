"""Libraries as researchers' tools export them (the shared reference files): the arXiv ids
each must bring in, and the entries each must report as skipped, with their lines."""

from __future__ import annotations

import orjson
import pytest

from dailypapers.library.formats import (
    LibraryFormatError,
    arxiv_id_in,
    parse_library,
)
from tests.conftest import SHARED_DATA

LIBRARIES = SHARED_DATA / "fixtures" / "libraries"
EXPECTED = orjson.loads((LIBRARIES / "expected.json").read_bytes())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_export_brings_in_its_arxiv_papers(name: str) -> None:
    parsed = parse_library((LIBRARIES / name).read_text(encoding="utf-8"))
    assert parsed.ids == EXPECTED[name]["arxiv_ids"]
    assert len(parsed.skipped) == EXPECTED[name]["skipped"], parsed.skipped


def test_skipped_entries_name_their_line_and_why() -> None:
    parsed = parse_library((LIBRARIES / "zotero.bib").read_text(encoding="utf-8"))
    reasons = [str(skip) for skip in parsed.skipped]
    assert reasons == [
        "line 85: @book{goodfellow_deep_2016 names no arXiv paper",
        "line 94: @article{jumper_highly_2021 names no arXiv paper",
        "line 104: not a complete entry (unbalanced braces?)",
    ]
    listed = parse_library((LIBRARIES / "ids.txt").read_text(encoding="utf-8"))
    assert [str(skip) for skip in listed.skipped] == [
        "line 8: 'not-an-id' is not an arXiv id or URL"
    ]
    csl = parse_library((LIBRARIES / "zotero-csl.json").read_text(encoding="utf-8"))
    (book,) = csl.skipped
    text = (LIBRARIES / "zotero-csl.json").read_text(encoding="utf-8").splitlines()
    assert text[book.line - 1].strip() == "{" and "names no arXiv paper" in book.reason


@pytest.mark.parametrize(
    ("typed", "paper_id"),
    [
        ("2401.00001", "2401.00001"),
        ("arXiv:2401.00001v3", "2401.00001"),
        ("https://arxiv.org/abs/2401.00001v2", "2401.00001"),
        ("http://export.arxiv.org/pdf/2401.00001v1.pdf", "2401.00001"),
        ("10.48550/arXiv.2401.00001", "2401.00001"),
        ("https://doi.org/10.48550/arXiv.2401.00001", "2401.00001"),
        ("arXiv preprint arXiv:2401.00001", "2401.00001"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("arXiv:math.GT/0309136", "math/0309136"),
        ("10.1038/s41586-021-03819-2", None),
        ("2401.000", None),
        ("0704.0001", "0704.0001"),  # four digits before 2015
        ("<script>2401.00001", None),
    ],
)
def test_an_id_is_found_however_it_is_written(typed: str, paper_id: str | None) -> None:
    assert arxiv_id_in(typed) == paper_id


def test_hostile_and_broken_files_are_reported_not_crashed_on() -> None:
    with pytest.raises(LibraryFormatError, match="line 2: not valid JSON"):
        parse_library('[{"URL": "arxiv.org/abs/2401.00001"},\n{"URL": ]')
    assert parse_library("").ids == []
    lone = parse_library('{"DOI": "10.48550/arXiv.2401.00001"}')
    assert lone.ids == ["2401.00001"]
    odd = parse_library('[1, "x", {"URL": "https://arxiv.org/abs/2401.00002"}]')
    assert odd.ids == ["2401.00002"] and len(odd.skipped) == 2
    garbage = parse_library("@@@@{{{{\n@misc{x,\n eprint = {2401.00003}}\n")
    assert garbage.ids == ["2401.00003"]
    twice = parse_library("2401.00001\narXiv:2401.00001v2\n")
    assert twice.ids == ["2401.00001"]
