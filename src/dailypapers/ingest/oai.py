"""Pure parser for arXiv OAI-PMH ListRecords/GetRecord pages (oai_dc, arXiv, arXivRaw)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from lxml import etree

from dailypapers.ingest.arxiv_api import block_of, normalize_arxiv_id, parse_xml, text_of
from dailypapers.ingest.errors import IngestError, OaiError
from dailypapers.ingest.records import one_line, parse_rfc2822, split_authors
from dailypapers.models import Paper, PaperVersion, attribute_sources

OAI = "{http://www.openarchives.org/OAI/2.0/}"
DC = "{http://purl.org/dc/elements/1.1/}"
FORMAT_ROOTS = {
    "oai_dc": "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc",
    "arXiv": "{http://arxiv.org/OAI/arXiv/}arXiv",
    "arXivRaw": "{http://arxiv.org/OAI/arXivRaw/}arXivRaw",
}


# oai_dc names categories ("Computer Science - Machine Learning"), not codes; arXiv's taxonomy
# joins the archive name and the category name with " - ". "CODE Name" entries, ";"-separated.
_ARCHIVE_SUBJECTS = {
    ("Computer Science", "cs."): """AI Artificial Intelligence; AR Hardware Architecture;
        CC Computational Complexity; CE Computational Engineering, Finance, and Science;
        CG Computational Geometry; CL Computation and Language; CR Cryptography and Security;
        CV Computer Vision and Pattern Recognition; CY Computers and Society; DB Databases;
        DC Distributed, Parallel, and Cluster Computing; DL Digital Libraries;
        DM Discrete Mathematics; DS Data Structures and Algorithms; ET Emerging Technologies;
        FL Formal Languages and Automata Theory; GL General Literature; GR Graphics;
        GT Computer Science and Game Theory; HC Human-Computer Interaction;
        IR Information Retrieval; IT Information Theory; LG Machine Learning; LG Learning;
        LO Logic in Computer Science; MA Multiagent Systems; MM Multimedia;
        MS Mathematical Software; NA Numerical Analysis; NE Neural and Evolutionary Computing;
        NI Networking and Internet Architecture; OH Other Computer Science;
        OS Operating Systems; PF Performance; PL Programming Languages; RO Robotics;
        SC Symbolic Computation; SD Sound; SE Software Engineering;
        SI Social and Information Networks; SY Systems and Control""",
    ("Mathematics", "math."): """AC Commutative Algebra; AG Algebraic Geometry;
        AP Analysis of PDEs; AT Algebraic Topology; CA Classical Analysis and ODEs;
        CO Combinatorics; CT Category Theory; CV Complex Variables; DG Differential Geometry;
        DS Dynamical Systems; FA Functional Analysis; GM General Mathematics;
        GN General Topology; GR Group Theory; GT Geometric Topology; HO History and Overview;
        IT Information Theory; KT K-Theory and Homology; LO Logic; MG Metric Geometry;
        MP Mathematical Physics; NA Numerical Analysis; NT Number Theory; OA Operator Algebras;
        OC Optimization and Control; PR Probability; QA Quantum Algebra; RA Rings and Algebras;
        RT Representation Theory; SG Symplectic Geometry; SP Spectral Theory;
        ST Statistics Theory""",
    ("Statistics", "stat."): """AP Applications; CO Computation; ME Methodology;
        ML Machine Learning; OT Other Statistics; TH Statistics Theory""",
    ("Physics", "physics."): """acc-ph Accelerator Physics; ao-ph Atmospheric and Oceanic Physics;
        app-ph Applied Physics; atm-clus Atomic and Molecular Clusters; atom-ph Atomic Physics;
        bio-ph Biological Physics; chem-ph Chemical Physics; class-ph Classical Physics;
        comp-ph Computational Physics; data-an Data Analysis, Statistics and Probability;
        ed-ph Physics Education; flu-dyn Fluid Dynamics; gen-ph General Physics;
        geo-ph Geophysics; hist-ph History and Philosophy of Physics;
        ins-det Instrumentation and Detectors; med-ph Medical Physics; optics Optics;
        plasm-ph Plasma Physics; pop-ph Popular Physics; soc-ph Physics and Society;
        space-ph Space Physics""",
    ("Astrophysics", "astro-ph."): """CO Cosmology and Nongalactic Astrophysics;
        EP Earth and Planetary Astrophysics; GA Astrophysics of Galaxies;
        HE High Energy Astrophysical Phenomena; IM Instrumentation and Methods for Astrophysics;
        SR Solar and Stellar Astrophysics""",
    ("Condensed Matter", "cond-mat."): """dis-nn Disordered Systems and Neural Networks;
        mes-hall Mesoscale and Nanoscale Physics; mtrl-sci Materials Science;
        other Other Condensed Matter; quant-gas Quantum Gases; soft Soft Condensed Matter;
        stat-mech Statistical Mechanics; str-el Strongly Correlated Electrons;
        supr-con Superconductivity""",
    ("Nonlinear Sciences", "nlin."): """AO Adaptation and Self-Organizing Systems;
        CD Chaotic Dynamics; CG Cellular Automata and Lattice Gases;
        PS Pattern Formation and Solitons; SI Exactly Solvable and Integrable Systems""",
    ("Quantitative Biology", "q-bio."): """BM Biomolecules; CB Cell Behavior; GN Genomics;
        MN Molecular Networks; NC Neurons and Cognition; OT Other Quantitative Biology;
        PE Populations and Evolution; QM Quantitative Methods; SC Subcellular Processes;
        TO Tissues and Organs""",
    ("Quantitative Finance", "q-fin."): """CP Computational Finance; EC Economics;
        GN General Finance; MF Mathematical Finance; PM Portfolio Management;
        PR Pricing of Securities; RM Risk Management; ST Statistical Finance;
        TR Trading and Market Microstructure""",
    ("Electrical Engineering and Systems Science", "eess."): """AS Audio and Speech Processing;
        IV Image and Video Processing; SP Signal Processing; SY Systems and Control""",
    ("Economics", "econ."): "EM Econometrics; GN General Economics; TH Theoretical Economics",
}
# Archives without categories are named alone; so are the legacy bare archives.
_ARCHIVES = """gr-qc General Relativity and Quantum Cosmology;
    hep-ex High Energy Physics - Experiment; hep-lat High Energy Physics - Lattice;
    hep-ph High Energy Physics - Phenomenology;
    hep-th High Energy Physics - Theory; math-ph Mathematical Physics;
    nucl-ex Nuclear Experiment; nucl-th Nuclear Theory; quant-ph Quantum Physics;
    astro-ph Astrophysics; cond-mat Condensed Matter; q-bio Quantitative Biology"""


def _entries(table: str) -> list[tuple[str, str]]:
    pairs = (one_line(entry).split(" ", 1) for entry in table.split(";"))
    return [(code, name) for code, name in pairs]


SUBJECT_CODES: dict[str, str] = {
    f"{archive} - {name}": prefix + code
    for (archive, prefix), table in _ARCHIVE_SUBJECTS.items()
    for code, name in _entries(table)
} | {name: code for code, name in _entries(_ARCHIVES)}


@dataclass
class OaiPage:
    papers: list[Paper]
    deleted: list[str]  # ids whose header says status="deleted"
    resumption_token: str | None  # None once the list is complete
    complete_list_size: int | None
    cursor: int | None


def parse_list_records(data: bytes, metadata_prefix: str, request: str = "") -> OaiPage:
    """Papers, deletions and the resumption token of one ListRecords (or GetRecord) response."""
    if metadata_prefix not in FORMAT_ROOTS:
        raise IngestError(f"{request or 'response'}: unknown metadataPrefix {metadata_prefix!r}")
    root = parse_xml(data, request)
    if root.tag != f"{OAI}OAI-PMH":
        raise IngestError(f"{request or 'response'}: not an OAI-PMH response (root {root.tag})")
    request = request or _echoed_request(root)
    error = root.find(f"{OAI}error")
    if error is not None:
        raise OaiError(error.get("code", "unknown"), one_line(error.text), request)
    papers: list[Paper] = []
    deleted: list[str] = []
    for record in root.iter(f"{OAI}record"):
        header = record.find(f"{OAI}header")
        if header is None:
            raise IngestError(f"{request}: record without header at line {record.sourceline}")
        if header.get("status") == "deleted":
            deleted.append(_header_id(header, request))
            continue
        paper = _record_paper(record, header, metadata_prefix, request)
        papers.append(attribute_sources(paper, f"oai:{metadata_prefix}"))
    return OaiPage(papers, deleted, *_resumption(root))


def _echoed_request(root: etree._Element) -> str:
    """Name the request from the response's own <request> element when the caller gave none."""
    element = root.find(f"{OAI}request")
    if element is None:
        return "response"
    query = "&".join(f"{key}={value}" for key, value in element.attrib.items())
    base = one_line(element.text) or "response"
    return f"{base}?{query}" if query else base


def _resumption(root: etree._Element) -> tuple[str | None, int | None, int | None]:
    token = root.find(f".//{OAI}resumptionToken")
    if token is None:
        return None, None, None
    return (
        one_line(token.text) or None,  # an empty token marks the last page
        _int_attr(token, "completeListSize"),
        _int_attr(token, "cursor"),
    )


def _int_attr(element: etree._Element, name: str) -> int | None:
    value = element.get(name)
    return int(value) if value and value.strip().isdigit() else None


def _header_id(header: etree._Element, request: str) -> str:
    identifier = text_of(header.find(f"{OAI}identifier")) or ""
    return _paper_id(identifier.removeprefix("oai:arXiv.org:"), request)


def _paper_id(text: str, request: str) -> str:
    try:
        return normalize_arxiv_id(text)[0]
    except IngestError as exc:
        raise IngestError(f"{request}: {exc}") from None


def _record_paper(
    record: etree._Element, header: etree._Element, metadata_prefix: str, request: str
) -> Paper:
    expected = FORMAT_ROOTS[metadata_prefix]
    metadata = record.find(f"{OAI}metadata/{expected}")
    if metadata is None:
        found = record.find(f"{OAI}metadata/*")
        what = found.tag if found is not None else "no metadata"
        raise IngestError(
            f"{request}: record at line {record.sourceline} is not {metadata_prefix} ({what})"
        )
    return _PARSERS[metadata_prefix](metadata, header, request)


# --- oai_dc -------------------------------------------------------------------------------


def _dc_paper(dc: etree._Element, header: etree._Element, request: str) -> Paper:
    paper = Paper(id=_header_id(header, request), title=text_of(dc.find(f"{DC}title")))
    for element in dc.iterfind(f"{DC}identifier"):
        _apply_dc_identifier(paper, text_of(element) or "", request)
    paper.authors = [_dc_author(text_of(c) or "") for c in dc.iterfind(f"{DC}creator")]
    paper.authors = [name for name in paper.authors if name]
    subjects = (text_of(s) or "" for s in dc.iterfind(f"{DC}subject"))
    codes = (SUBJECT_CODES.get(subject) for subject in subjects)
    paper.categories = list(dict.fromkeys(code for code in codes if code))
    for element in dc.iterfind(f"{DC}description"):
        text = block_of(element) or ""
        if text.startswith("Comment:"):
            paper.comments = one_line(text.removeprefix("Comment:")) or None
        elif text and paper.abstract is None:
            paper.abstract = text
    # arXiv's oai_dc gives the first version's date and, if it differs, the current version's
    # date, but not which version that is; only v1 can be dated truthfully.
    dates = [_iso_date(text_of(d)) for d in dc.iterfind(f"{DC}date")]
    dates = [day for day in dates if day]
    if dates:
        paper.published = dates[0]
        paper.versions = [PaperVersion(1, datetime.combine(dates[0], time(), UTC))]
    return paper


def _apply_dc_identifier(paper: Paper, text: str, request: str) -> None:
    # arXiv emits three kinds of dc:identifier: the abs URL, "doi:..." and the journal ref.
    if re.match(r"https?://(?:www\.|export\.)?arxiv\.org/abs/", text, re.IGNORECASE):
        paper.id = _paper_id(text, request)
    elif text.lower().startswith("doi:"):
        paper.doi = text[4:].strip() or None
    elif text:
        paper.journal_ref = text


def _dc_author(text: str) -> str:
    """ "Keyname, Forenames" (or "Keyname, Jr., Forenames") -> "Forenames Keyname Jr." """
    if not re.search(r"\w", text):
        return ""  # arXiv's author parser leaves stray "." creators behind
    parts = [part.strip() for part in text.split(",")]
    if len(parts) == 1:
        return parts[0]
    return " ".join(part for part in (parts[-1], parts[0], *parts[1:-1]) if part)


def _iso_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


# --- arXiv --------------------------------------------------------------------------------


def _arxiv_paper(meta: etree._Element, header: etree._Element, request: str) -> Paper:
    ns = meta.tag[: meta.tag.index("}") + 1]
    paper = _common_fields(meta, ns, header, request)
    for author in meta.iterfind(f"{ns}authors/{ns}author"):
        parts = (text_of(author.find(f"{ns}{name}")) for name in ("forenames", "keyname", "suffix"))
        name = " ".join(part for part in parts if part)
        if name:
            paper.authors.append(name)
    # <updated> dates the current version without saying which one it is, so it is left out.
    created = _iso_date(text_of(meta.find(f"{ns}created")))
    if created:
        paper.published = created
        paper.versions = [PaperVersion(1, datetime.combine(created, time(), UTC))]
    return paper


def _common_fields(meta: etree._Element, ns: str, header: etree._Element, request: str) -> Paper:
    """The fields arXiv and arXivRaw spell the same way."""
    own_id = text_of(meta.find(f"{ns}id"))
    return Paper(
        id=_paper_id(own_id, request) if own_id else _header_id(header, request),
        title=text_of(meta.find(f"{ns}title")),
        abstract=block_of(meta.find(f"{ns}abstract")),
        categories=list(dict.fromkeys((text_of(meta.find(f"{ns}categories")) or "").split())),
        comments=text_of(meta.find(f"{ns}comments")),
        journal_ref=text_of(meta.find(f"{ns}journal-ref")),
        doi=text_of(meta.find(f"{ns}doi")),
        report_no=text_of(meta.find(f"{ns}report-no")),
        license=text_of(meta.find(f"{ns}license")),
    )


# --- arXivRaw -----------------------------------------------------------------------------


def _raw_paper(meta: etree._Element, header: etree._Element, request: str) -> Paper:
    ns = meta.tag[: meta.tag.index("}") + 1]
    paper = _common_fields(meta, ns, header, request)
    paper.submitter = text_of(meta.find(f"{ns}submitter"))
    paper.authors = split_authors(text_of(meta.find(f"{ns}authors")) or "")
    versions = (_raw_version(v, ns) for v in meta.iterfind(f"{ns}version"))
    paper.versions = sorted((v for v in versions if v), key=lambda v: v.number)
    first = paper.versions[0] if paper.versions else None
    if first and first.number == 1 and first.created:
        paper.published = first.created.date()
    return paper


def _raw_version(element: etree._Element, ns: str) -> PaperVersion | None:
    match = re.fullmatch(r"v(\d+)", (element.get("version") or "").strip())
    if not match:
        return None
    return PaperVersion(int(match[1]), _rfc2822(text_of(element.find(f"{ns}date"))))


def _rfc2822(text: str | None) -> datetime | None:
    """ "Mon, 2 Apr 2007 19:18:42 GMT" -> aware UTC datetime."""
    if not text:
        return None
    try:
        return parse_rfc2822(text)
    except (TypeError, ValueError):
        return None


_PARSERS: dict[str, Callable[[etree._Element, etree._Element, str], Paper]] = {
    "oai_dc": _dc_paper,
    "arXiv": _arxiv_paper,
    "arXivRaw": _raw_paper,
}
