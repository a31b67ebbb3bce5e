"""arXiv query API (Atom) parsing and arXiv id normalisation."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dailypapers.ingest.arxiv_api import normalize_arxiv_id, parse_feed
from dailypapers.ingest.errors import IngestError
from dailypapers.ingest.records import split_authors
from dailypapers.models import PaperVersion

RECORDED = (
    Path(__file__).parents[3]
    / "shared"
    / "data"
    / "fixtures"
    / "arxiv-api"
    / "query-all-transformer-cs.LG.xml"
)
DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2401.12345", ("2401.12345", None)),
        ("2401.12345v2", ("2401.12345", 2)),
        ("1501.0001", ("1501.0001", None)),
        ("0704.0001v12", ("0704.0001", 12)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("hep-th/9901001v3", ("hep-th/9901001", 3)),
        ("math.GT/0309136", ("math/0309136", None)),  # the subject class is not part of the id
        ("arXiv:2401.12345", ("2401.12345", None)),
        ("arxiv:hep-th/9901001v1", ("hep-th/9901001", 1)),
        ("https://arxiv.org/abs/2401.12345v2", ("2401.12345", 2)),
        ("http://arxiv.org/pdf/2401.12345.pdf", ("2401.12345", None)),
        ("https://arxiv.org/pdf/2401.12345v1", ("2401.12345", 1)),
        ("http://export.arxiv.org/abs/2401.12345v3", ("2401.12345", 3)),
        ("export.arxiv.org/abs/hep-th/9901001", ("hep-th/9901001", None)),
        ("https://arxiv.org/abs/math.GT/0309136v2", ("math/0309136", 2)),
        ("  2401.12345\n", ("2401.12345", None)),
    ],
)
def test_normalize_arxiv_id(text, expected):
    assert normalize_arxiv_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "2401.1234567",
        "",
        "2401.123",
        "2413.12345",
        "2401.12345v0",
        "9901001",
        "https://example.org/abs/2401.12345",
        "hep-th/990100",
        "2401.12345v2x",
    ],
)
def test_normalize_rejects_junk(text):
    with pytest.raises(IngestError) as info:
        normalize_arxiv_id(text)
    assert str(info.value) == f"not an arXiv id: {text!r}"


def test_split_authors():
    assert split_authors("Ileana Streinu and Louis Theran") == ["Ileana Streinu", "Louis Theran"]
    assert split_authors("A. One, B. Two, and C. Three") == ["A. One", "B. Two", "C. Three"]
    assert split_authors("John Smith, Jr., Jane Doe") == ["John Smith Jr.", "Jane Doe"]
    assert split_authors(
        "B. Lanzoni (1,2), E. Dalessandro (1,2), F.R. Ferraro (1) ((1) Bologna, (2) INAF)"
    ) == ["B. Lanzoni", "E. Dalessandro", "F.R. Ferraro"]


def test_recorded_feed():
    papers = parse_feed(RECORDED.read_bytes(), request=RECORDED.name)
    assert [p.id for p in papers] == [
        "2606.13677",
        "2606.13591",
        "2606.13568",
        "2606.13515",
        "2606.13501",
    ]
    first = papers[0]
    assert first.title == "Mana: Dexterous Manipulation of Articulated Tools"
    assert first.authors == ["Zhao-Heng Yin", "Guanya Shi", "Pieter Abbeel", "C. Karen Liu"]
    assert first.categories == ["cs.RO", "cs.AI", "cs.CV", "cs.LG"]
    assert first.comments == "Project Page: https://zhaohengyin.github.io/mana"
    assert first.abstract.startswith("Articulated tool manipulation remains a major challenge")
    assert first.published == date(2026, 6, 11)
    assert first.versions == [PaperVersion(1, datetime(2026, 6, 11, 17, 59, 49, tzinfo=UTC))]
    assert first.sources["title"] == "arxiv-api"
    assert "journal_ref" not in first.sources
    # primary first even when it is not first among the <category> elements
    assert papers[1].categories == ["cs.AI", "cs.LG", "cs.MA"]
    assert papers[2].categories == ["cs.LG", "math-ph"]
    assert papers[2].comments is None
    assert papers[4].title == "GF-DiT: Scheduling Parallelism for Diffusion Transformer Serving"
    assert len(papers[4].authors) == 9 and papers[4].authors[-1] == "Minyi Guo"


def test_feed_with_later_versions_doi_and_journal_ref():
    first, second = parse_feed((DATA / "api_id_list.xml").read_bytes(), "api_id_list.xml")
    assert first.id == "0704.0001"
    assert first.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert first.authors[0] == "C. Balázs"
    assert first.doi == "10.1103/PhysRevD.76.013009"
    assert first.journal_ref == "Phys.Rev.D76:013009,2007"
    assert first.published == date(2007, 4, 2)
    assert first.versions == [
        PaperVersion(1, datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)),
        PaperVersion(2, datetime(2007, 7, 24, 20, 10, 27, tzinfo=UTC)),
    ]
    assert second.id == "0704.0044"
    assert second.categories == ["astro-ph", "nlin.CD", "physics.plasm-ph", "physics.space-ph"]
    assert second.authors[0] == "A. A. Schekochihin"
    assert second.comments == (
        "aastex using emulateapj, 65 pages, 10 figures; replaced to match published version"
    )
    assert [v.number for v in second.versions] == [1, 4]
    assert second.versions[1].created == datetime(2009, 5, 9, 19, 26, 10, tzinfo=UTC)


def test_api_error_entry_raises():
    request = "http://export.arxiv.org/api/query?id_list=1234.12345"
    with pytest.raises(IngestError) as info:
        parse_feed((DATA / "api_error.xml").read_bytes(), request)
    assert str(info.value) == f"{request}: arXiv API error: incorrect id format for 1234.12345"


def test_truncated_feed_raises_one_line_naming_request_and_line():
    data = RECORDED.read_bytes()
    cut = data.index(b"<arxiv:primary_category", data.index(b"2606.13515"))
    request = "http://export.arxiv.org/api/query?search_query=all:transformer"
    with pytest.raises(IngestError) as info:
        parse_feed(data[:cut], request)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{request}: malformed XML at line ")


def test_empty_feed_has_no_papers():
    data = RECORDED.read_bytes()
    start, end = data.index(b"<entry>"), data.rindex(b"</entry>") + len(b"</entry>")
    assert parse_feed(data[:start] + data[end:]) == []
