"""The formats a library comes in, as pure functions: BibTeX (Zotero, Better BibTeX, arXiv,
Google Scholar, Mendeley, JabRef), CSL JSON, and a plain list of arXiv ids or URLs. Each
gives the arXiv ids it names, in file order and each once, and every entry it had to skip
with its line and why; the rest is imported."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import bibtexparser
from bibtexparser.model import Entry

from dailypapers.ingest.arxiv_api import normalize_arxiv_id
from dailypapers.ingest.errors import IngestError
from dailypapers.models import ARCHIVE, NEW_STYLE_ID, OLD_STYLE_NUMBER

# An arXiv id inside other text: an arxiv.org URL, "arXiv:ID", "arXiv preprint arXiv:ID", or
# the DOI arXiv registers for every paper (10.48550/arXiv.ID).
_IN_TEXT = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf|html)/|arxiv:\s*|10\.48550/arxiv\.)"
    rf"(?P<id>{NEW_STYLE_ID}|{ARCHIVE}(?:\.[A-Za-z-]+)?/{OLD_STYLE_NUMBER})",
    re.IGNORECASE,
)
# BibTeX fields that may hold the id, most specific first (Mendeley writes `arxivid`).
BIBTEX_FIELDS = ("eprint", "arxivid", "arxiv", "doi", "url", "journal", "note", "number")
CSL_FIELDS = ("number", "DOI", "URL", "archive_location", "note")


@dataclass(frozen=True)
class Skipped:
    line: int  # 1-based
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ParsedLibrary:
    ids: list[str] = field(default_factory=list)  # without versions, each once
    skipped: list[Skipped] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # the line naming each id first

    def add(self, paper_id: str, line: int) -> None:
        if paper_id not in self.lines:
            self.ids.append(paper_id)
            self.lines[paper_id] = line


class LibraryFormatError(ValueError):
    """A file that is none of the formats, or a JSON file that is not CSL JSON."""


def arxiv_id_in(text: str) -> str | None:
    """The arXiv id a value names (a bare id, "arXiv:ID", a URL, an arXiv DOI), or None."""
    text = text.strip().removeprefix("doi:").removeprefix("https://doi.org/")
    try:
        return normalize_arxiv_id(text)[0]
    except IngestError:
        found = _IN_TEXT.search(text)
        return normalize_arxiv_id(found["id"])[0] if found else None


def parse_library(text: str) -> ParsedLibrary:
    """The ids of a library in any of the formats, told apart by their first character."""
    start = text.lstrip()[:1]
    if start in ("[", "{"):
        return parse_csl_json(text)
    if re.search(r"^\s*@", text, re.MULTILINE):
        return parse_bibtex(text)
    return parse_id_list(text)


def parse_bibtex(text: str) -> ParsedLibrary:
    parsed = ParsedLibrary()
    library = bibtexparser.parse_string(text)
    blocks = sorted([*library.entries, *library.failed_blocks], key=lambda block: block.start_line)
    for block in blocks:
        line = block.start_line + 1
        if not isinstance(block, Entry):
            parsed.skipped.append(Skipped(line, "not a complete entry (unbalanced braces?)"))
            continue
        fields = {name.lower(): f.value for name, f in block.fields_dict.items()}
        paper_id = _first_id(str(fields[k]) for k in BIBTEX_FIELDS if fields.get(k))
        if paper_id is None:
            name = f"@{block.entry_type}{{{block.key}"
            parsed.skipped.append(Skipped(line, f"{name} names no arXiv paper"))
        else:
            parsed.add(paper_id, line)
    return parsed


def parse_csl_json(text: str) -> ParsedLibrary:
    parsed = ParsedLibrary()
    for line, item in _json_items(text):
        if not isinstance(item, dict):
            parsed.skipped.append(Skipped(line, "not a CSL JSON item"))
            continue
        paper_id = _first_id(str(item[k]) for k in CSL_FIELDS if item.get(k))
        if paper_id is None:
            title = str(item.get("title") or item.get("id") or "an item")[:80]
            parsed.skipped.append(Skipped(line, f"{title!r} names no arXiv paper"))
        else:
            parsed.add(paper_id, line)
    return parsed


def _json_items(text: str) -> Iterator[tuple[int, Any]]:
    """The items of a JSON array (or one object) with the line each starts on."""
    decoder = json.JSONDecoder()
    position = len(text) - len(text.lstrip())
    try:
        if text[position] == "{":
            yield _line_of(text, position), decoder.raw_decode(text, position)[0]
            return
        position += 1
        while True:
            position = _skip(text, position, " \t\r\n")
            if text[position] == "]":
                return
            item, end = decoder.raw_decode(text, position)
            yield _line_of(text, position), item
            position = _skip(text, end, " \t\r\n")
            if text[position] == ",":
                position += 1
    except (json.JSONDecodeError, IndexError) as error:
        at = error.lineno if isinstance(error, json.JSONDecodeError) else text.count("\n") + 1
        raise LibraryFormatError(f"line {at}: not valid JSON") from None


def _skip(text: str, position: int, characters: str) -> int:
    while position < len(text) and text[position] in characters:
        position += 1
    return position


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def parse_id_list(text: str) -> ParsedLibrary:
    """One id, "arXiv:" id, arXiv URL or arXiv DOI per line; blank lines and # comments
    are left alone."""
    parsed = ParsedLibrary()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        paper_id = arxiv_id_in(line)
        if paper_id is None:
            parsed.skipped.append(Skipped(number, f"{line[:80]!r} is not an arXiv id or URL"))
        else:
            parsed.add(paper_id, number)
    return parsed


def _first_id(values: Iterable[str]) -> str | None:
    return next((found for value in values if (found := arxiv_id_in(value))), None)
