"""Pure parsers for the arXiv query API (Atom) and for arXiv identifiers; no I/O here."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lxml import etree

from dailypapers.ingest.errors import IngestError
from dailypapers.ingest.records import clean_block, one_line
from dailypapers.models import (
    ARCHIVE,
    NEW_STYLE_ID,
    OLD_STYLE_NUMBER,
    Paper,
    PaperVersion,
    attribute_sources,
    is_paper_id,
)

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"

# An id as people write it: maybe a URL or "arXiv:", a subject class, a version.
_OLD_ID = rf"{ARCHIVE}(?:\.[A-Za-z][A-Za-z-]*)?/{OLD_STYLE_NUMBER}"
_ID_RE = re.compile(
    r"(?:(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/|arxiv:)?"
    rf"(?P<id>{NEW_STYLE_ID}|{_OLD_ID})(?:v(?P<version>[1-9]\d*))?(?:\.pdf)?/?",
    re.IGNORECASE,
)


def normalize_arxiv_id(text: str) -> tuple[str, int | None]:
    """Return (id without version, version or None) for an id, "arXiv:" id or arxiv.org URL."""
    match = _ID_RE.fullmatch(text.strip())
    if not match:
        raise IngestError(f"not an arXiv id: {text!r}")
    paper_id = match["id"]
    if "/" in paper_id:
        # math.GT/0309136 and math/0309136 name the same paper; arXiv's canonical form drops
        # the subject class, and the archive is lower case.
        archive, number = paper_id.split("/")
        paper_id = f"{archive.split('.')[0].lower()}/{number}"
    version = match["version"]
    return paper_id, int(version) if version else None


def stored_id(value: object) -> str:
    """A bulk record's id, which must be a bare arXiv id (2401.12345, hep-th/9901001): ids
    become paths on the site, so anything else makes the record a bad one (ValueError)."""
    if not isinstance(value, str) or not is_paper_id(value):
        raise ValueError(f"not an arXiv id: {value!r:.80}")
    return value


def parse_xml(data: bytes, request: str) -> etree._Element:
    """Parse untrusted XML without entities or network; errors become one-line IngestErrors."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno is not None else "?"
        raise IngestError(
            f"{request or 'response'}: malformed XML at line {line}: {one_line(exc.msg)}"
        ) from None
    except ValueError as exc:  # lxml refuses some inputs (e.g. empty bytes) with ValueError
        raise IngestError(f"{request or 'response'}: malformed XML: {one_line(str(exc))}") from None
    if root is None:
        raise IngestError(f"{request or 'response'}: malformed XML at line 1: empty document")
    return root


def text_of(element: etree._Element | None) -> str | None:
    """Collapsed text of an element, None when absent or blank."""
    if element is None:
        return None
    return one_line(element.text) or None


def block_of(element: etree._Element | None) -> str | None:
    """Stripped text that keeps its line breaks (abstracts), None when absent or blank."""
    return None if element is None else clean_block(element.text)


def parse_feed(data: bytes, request: str = "") -> list[Paper]:
    """Papers of an arXiv query API Atom feed, in feed order."""
    root = parse_xml(data, request)
    if root.tag != f"{ATOM}feed":
        raise IngestError(f"{request or 'response'}: not an Atom feed (root {root.tag})")
    return [_entry_paper(entry, request) for entry in root.iterfind(f"{ATOM}entry")]


def _entry_paper(entry: etree._Element, request: str) -> Paper:
    entry_id = text_of(entry.find(f"{ATOM}id")) or ""
    if "arxiv.org/api/errors" in entry_id:
        # The API reports bad queries as a feed with a single "Error" entry.
        message = text_of(entry.find(f"{ATOM}summary")) or entry_id
        raise IngestError(f"{request or 'response'}: arXiv API error: {message}")
    try:
        paper_id, version = normalize_arxiv_id(entry_id)
    except IngestError as exc:
        raise IngestError(f"{request or 'response'}: {exc}") from None
    published = _atom_datetime(entry.find(f"{ATOM}published"))
    paper = Paper(
        id=paper_id,
        title=text_of(entry.find(f"{ATOM}title")),
        abstract=block_of(entry.find(f"{ATOM}summary")),
        authors=_authors(entry),
        categories=_categories(entry),
        comments=text_of(entry.find(f"{ARXIV}comment")),
        journal_ref=text_of(entry.find(f"{ARXIV}journal_ref")),
        doi=text_of(entry.find(f"{ARXIV}doi")),
        published=published.date() if published else None,
        versions=_versions(version, published, _atom_datetime(entry.find(f"{ATOM}updated"))),
    )
    return attribute_sources(paper, "arxiv-api")


def _authors(entry: etree._Element) -> list[str]:
    names = (text_of(author.find(f"{ATOM}name")) for author in entry.iterfind(f"{ATOM}author"))
    return [name for name in names if name]


def _categories(entry: etree._Element) -> list[str]:
    primary = entry.find(f"{ARXIV}primary_category")
    terms = [primary.get("term")] if primary is not None else []
    terms += [category.get("term") for category in entry.iterfind(f"{ATOM}category")]
    # dict keeps first-seen order, so the primary stays first.
    return list(dict.fromkeys(one_line(term) for term in terms if term and term.strip()))


def _versions(
    version: int | None, published: datetime | None, updated: datetime | None
) -> list[PaperVersion]:
    # The feed dates only v1 (published) and the version in the id (updated).
    versions = [PaperVersion(1, published)]
    if version and version > 1:
        versions.append(PaperVersion(version, updated))
    return versions


def _atom_datetime(element: etree._Element | None) -> datetime | None:
    text = text_of(element)
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
