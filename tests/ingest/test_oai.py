"""OAI-PMH parsing: recorded arXiv responses (oai_dc) and faithful arXiv/arXivRaw samples."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dailypapers.ingest.errors import IngestError, OaiError
from dailypapers.ingest.oai import SUBJECT_CODES, parse_list_records
from dailypapers.models import PaperVersion

FIXTURES = Path(__file__).parents[3] / "shared" / "data" / "fixtures" / "oai-pmh"
DATA = Path(__file__).parent / "data"


def page(name: str, prefix: str = "oai_dc"):
    path = FIXTURES / name if (FIXTURES / name).exists() else DATA / name
    return parse_list_records(path.read_bytes(), prefix, request=name)


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# --- recorded oai_dc harvest ---------------------------------------------------------------


def test_three_pages_chain_their_resumption_tokens():
    pages = [page(f"ListRecords_data_{n}.xml") for n in range(3)]
    assert [len(p.papers) for p in pages] == [1000, 1000, 265]
    assert [p.resumption_token for p in pages] == ["6511260|1001", "6511260|2001", None]
    assert [p.cursor for p in pages] == [0, 1000, 2000]
    assert {p.complete_list_size for p in pages} == {2265}
    assert all(p.deleted == [] for p in pages)
    ids = [paper.id for p in pages for paper in p.papers]
    assert len(set(ids)) == 2265
    assert ids[0] == "0806.4410" and ids[-1] == "nlin/0202021"


def test_oai_dc_record_fields():
    first_page = page("ListRecords_data_0.xml")
    paper = first_page.papers[0]
    assert paper.id == "0806.4410"
    assert paper.title == "Summing the curious series of Kempner and Irwin"
    assert paper.authors == ["Robert Baillie"]
    # "40-01, 65B10" is an MSC class, not a category, and is dropped.
    assert paper.categories == ["math.CA", "math.NT"]
    assert paper.abstract.startswith("In 1914, Kempner proved that the series 1/1 + 1/2")
    assert paper.abstract.endswith("has not yet been developed.")
    assert paper.comments == (
        "29 pages, 2 figures, 10 tables. Several new sections. Expanded Mathematica code, "
        "which is now in the ancillary files"
    )
    # dc:date holds v1's day and the current version's day (2023-03-04), whose number is unknown.
    assert paper.published == date(2008, 6, 27)
    assert paper.versions == [PaperVersion(1, midnight(date(2008, 6, 27)))]
    assert paper.sources["title"] == "oai:oai_dc"
    assert set(paper.sources) == {
        "title",
        "abstract",
        "authors",
        "categories",
        "comments",
        "published",
    }

    last = first_page.papers[-1]
    assert last.id == "2303.00735"
    assert last.title == "A Deep Learning Perspective on Network Routing"
    assert last.authors == [
        "Yarin Perry",
        "Felipe Vieira Frujeri",
        "Chaim Hoch",
        "Srikanth Kandula",
        "Ishai Menache",
        "Michael Schapira",
        "Aviv Tamar",
    ]
    assert last.categories == ["cs.NI", "cs.LG"]
    assert last.comments == "To appear at NSDI 2023"
    assert last.published == date(2023, 3, 1)


def test_oai_dc_suffix_author_and_old_style_id_with_journal_ref():
    papers = {p.id: p for p in page("ListRecords_data_0.xml").papers}
    assert "M. Finger Jr." in papers["2203.09894"].authors  # "Finger, Jr., M."
    old = {p.id: p for p in page("ListRecords_data_2.xml").papers}["gr-qc/9910050"]
    assert old.title == "Spin Foam Perturbation Theory"
    assert old.categories == ["gr-qc"]
    assert old.published == date(1999, 10, 13)
    # oai_dc carries the journal ref as a bare dc:identifier, wrapped over two lines.
    assert old.journal_ref == (
        "in Diagrammatic Morphisms and Applications, eds. David Radford, Fernando Souza, "
        "and David Yetter, Contemp. Math. 318, 2003, pp. 9-21"
    )


def test_get_record_with_doi_and_wrapped_title():
    result = page("GetRecord_data.xml")
    assert result.resumption_token is None and result.complete_list_size is None
    (paper,) = result.papers
    assert paper.id == "2107.10460"
    assert paper.title == (
        "Anomalous High-Field Magnetotransport in CaFeAsF due to the Quantum Hall Effect"
    )
    assert paper.authors[:2] == ["Taichi Terashima", "Hishiro T. Hirose"]
    assert len(paper.authors) == 8
    assert paper.categories == ["cond-mat.supr-con", "cond-mat.mtrl-sci", "cond-mat.str-el"]
    assert paper.doi == "10.1038/s41535-022-00470-6"
    assert paper.journal_ref == "npj Quantum Materials 7, 62 (2022)"
    assert paper.comments == "18 pages, 1 table, 4 figures"
    assert paper.published == date(2021, 7, 22)


def test_every_subject_name_in_the_harvest_maps_to_a_code():
    names: set[str] = set()
    for name in ["GetRecord_data.xml"] + [f"ListRecords_data_{n}.xml" for n in range(3)]:
        text = (FIXTURES / name).read_text()
        names |= {part.split("<")[0] for part in text.split("<dc:subject>")[1:]}
    unmapped = {n for n in names if n not in SUBJECT_CODES and not any(c.isdigit() for c in n)}
    assert unmapped == {"E.m", "F.m"}  # ACM classes, not arXiv categories
    assert SUBJECT_CODES["Computer Science - Machine Learning"] == "cs.LG"
    assert SUBJECT_CODES["Quantum Physics"] == "quant-ph"
    assert SUBJECT_CODES["Nonlinear Sciences - Pattern Formation and Solitons"] == "nlin.PS"


# --- arXiv and arXivRaw samples -------------------------------------------------------------


def test_arxiv_format():
    result = page("ListRecords_arXiv.xml", "arXiv")
    assert result.resumption_token == "6511322|1001"
    assert (result.cursor, result.complete_list_size) == (0, 1204)
    assert result.deleted == ["math/0309136"]
    first, second = result.papers
    assert first.id == "0704.0002"
    assert first.title == "Sparsity-certifying Graph Decompositions"
    assert first.authors == ["Ileana Streinu", "Louis Theran"]
    assert first.categories == ["math.CO", "cs.CG"]
    assert first.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert first.comments == "To appear in Graphs and Combinatorics"
    assert first.abstract.startswith("We describe a new algorithm, the $(k,\\ell)$-pebble game")
    assert first.published == date(2007, 3, 31)
    assert first.versions == [PaperVersion(1, midnight(date(2007, 3, 31)))]
    assert first.sources["license"] == "oai:arXiv"

    assert second.id == "0704.0044"
    assert second.authors[0] == "A. A. Schekochihin"  # the <affiliation> is not part of the name
    assert len(second.authors) == 7
    assert second.title == (
        "Astrophysical gyrokinetics: kinetic and fluid turbulent cascades in magnetized weakly "
        "collisional plasmas"
    )
    assert second.categories == ["astro-ph", "nlin.CD", "physics.plasm-ph", "physics.space-ph"]
    assert second.journal_ref == "ApJS 182, 310 (2009)"
    assert second.doi == "10.1088/0067-0049/182/1/310"


def test_arxiv_raw_format():
    result = page("ListRecords_arXivRaw.xml", "arXivRaw")
    assert result.resumption_token is None
    assert (result.cursor, result.complete_list_size) == (2000, 2002)
    first, second = result.papers
    assert first.id == "0704.0001"
    assert first.submitter == "Pavel Nadolsky"
    assert first.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert first.authors == ["C. Bal\\'azs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]
    assert first.categories == ["hep-ph"]
    assert first.report_no == "ANL-HEP-PR-07-12"
    assert first.journal_ref == "Phys.Rev.D76:013009,2007"
    assert first.doi == "10.1103/PhysRevD.76.013009"
    assert first.versions == [
        PaperVersion(1, datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)),
        PaperVersion(2, datetime(2007, 7, 24, 20, 10, 27, tzinfo=UTC)),
    ]
    assert first.published == date(2007, 4, 2)
    assert first.sources["submitter"] == "oai:arXivRaw"

    assert second.id == "0704.0025"
    assert second.authors == ["A. S. Mishchenko", "N. Nagaosa"]  # nested affiliations dropped
    assert second.categories == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert second.comments.endswith("(Canopus/Springer Publishing, Bristol (2007)), pp. 503-544.")
    assert second.versions == [PaperVersion(1, datetime(2007, 4, 2, 12, 2, 36, tzinfo=UTC))]


def test_record_in_another_format_than_requested_is_refused():
    with pytest.raises(IngestError, match="is not arXivRaw"):
        page("ListRecords_arXiv.xml", "arXivRaw")


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("error_badResumptionToken.xml", "badResumptionToken"),
        ("error_noRecordsMatch.xml", "noRecordsMatch"),
    ],
)
def test_oai_error_raises_with_code(name, code):
    with pytest.raises(OaiError) as info:
        page(name)
    assert info.value.code == code
    assert str(info.value).startswith(f"{name}: OAI-PMH error {code}: ")


def test_oai_error_without_request_names_the_echoed_request():
    data = (DATA / "error_badResumptionToken.xml").read_bytes()
    with pytest.raises(OaiError) as info:
        parse_list_records(data, "oai_dc")
    assert str(info.value) == (
        "http://export.arxiv.org/oai2?verb=ListRecords&resumptionToken=6511260|9001: "
        "OAI-PMH error badResumptionToken: Invalid or expired resumptionToken"
    )


def test_truncated_xml_raises_one_line_naming_request_and_line():
    data = (FIXTURES / "ListRecords_data_0.xml").read_bytes()
    truncated = data[: len(data) // 2]
    request = "http://export.arxiv.org/oai2?verb=ListRecords&resumptionToken=6511260|1001"
    with pytest.raises(IngestError) as info:
        parse_list_records(truncated, "oai_dc", request)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{request}: malformed XML at line ")
    line = int(message.split(" at line ")[1].split(":")[0])
    assert line == truncated.count(b"\n") + 1


@pytest.mark.parametrize(
    "data", [b"", b"<html><body>503 Service Unavailable", b"Retry after 10 seconds\n"]
)
def test_garbage_raises_ingest_error(data):
    with pytest.raises(IngestError) as info:
        parse_list_records(data, "oai_dc", "page.xml")
    assert str(info.value).startswith("page.xml: malformed XML")
    assert "\n" not in str(info.value)


def test_well_formed_non_oai_document_is_refused():
    with pytest.raises(IngestError, match="not an OAI-PMH response"):
        parse_list_records(b"<html><body>busy</body></html>", "oai_dc", "x")
