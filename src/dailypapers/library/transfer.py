"""A library into and out of a reader's account: importing a file's papers into a tag (those
not stored yet fetched by id), and exporting a tag or the whole library as BibTeX or JSON
lines. A rerun of an import adds nothing twice."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from dailypapers.ingest.errors import IngestError
from dailypapers.library.citation import bibtex
from dailypapers.library.formats import ParsedLibrary, Skipped
from dailypapers.models import Paper
from dailypapers.storage import Store
from dailypapers.storage.library import save_papers, saved_papers
from dailypapers.storage.papers import get_papers, stored_ids
from dailypapers.storage.upserts import upsert_papers

DEFAULT_TAG = "library"
MAX_TAG_CHARS = 64
MAX_IMPORT_BYTES = 10 * 1024 * 1024  # a library file larger than this is refused
EXPORT_FORMATS = ("bibtex", "jsonl")
Fetch = Callable[[Sequence[str]], list[Paper]]  # papers by arXiv id; unknown ids are absent


class LibraryError(ValueError):
    """A tag name, a format or a file that cannot be taken; the message says why."""


def checked_tag(name: str) -> str:
    """A tag's name as typed, trimmed: 1 to 64 printable characters."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= MAX_TAG_CHARS or not name.isprintable():
        raise LibraryError(f"a tag name is 1 to {MAX_TAG_CHARS} printable characters")
    return name


def read_library(data: bytes) -> str:
    """A library file's text: UTF-8 (with or without a byte-order mark), at most 10 MB."""
    if len(data) > MAX_IMPORT_BYTES:
        raise LibraryError(f"a library file is at most {MAX_IMPORT_BYTES // 2**20} MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LibraryError(f"not UTF-8 text (byte {error.start})") from None


@dataclass
class ImportReport:
    added: int = 0  # papers that went into the tag
    already: int = 0  # papers the tag held before
    fetched: list[str] = field(default_factory=list)  # ids fetched from arXiv
    skipped: list[Skipped] = field(default_factory=list)


def import_library(
    store: Store,
    user_id: int,
    parsed: ParsedLibrary,
    tag: str,
    now: datetime,
    fetch: Fetch | None,
) -> ImportReport:
    """Save the parsed library's papers into `tag`; what cannot be had is skipped with its
    line (an id arXiv does not know, or every missing one when arXiv cannot be asked)."""
    report = ImportReport(skipped=list(parsed.skipped))
    with store.read() as connection:
        stored = stored_ids(connection, parsed.ids)
    missing = [paper_id for paper_id in parsed.ids if paper_id not in stored]
    if missing and fetch is not None:
        try:
            papers = fetch(missing)
        except IngestError:
            papers, reason = [], "arXiv could not be asked for it; import the file again later"
        else:
            reason = "arXiv has no such paper"
        with store.transaction() as connection:
            upsert_papers(connection, papers)
        report.fetched = [paper.id for paper in papers]
        stored |= set(report.fetched)
    elif missing:
        reason = "not stored here"
    wanted = [paper_id for paper_id in parsed.ids if paper_id in stored]
    for paper_id in parsed.ids:
        if paper_id not in stored:
            report.skipped.append(Skipped(parsed.lines[paper_id], f"{paper_id}: {reason}"))
    report.skipped.sort(key=lambda skip: skip.line)
    with store.transaction() as connection:
        report.added = save_papers(connection, user_id, tag, wanted, now)
    report.already = len(wanted) - report.added
    return report


def export_library(store: Store, user_id: int, tag: str | None, format: str) -> str:
    """The reader's saved papers (in `tag`, or all), newest saved first."""
    with store.read() as connection:
        saved = saved_papers(connection, user_id, tag)
        papers = {p.id: p for p in get_papers(connection, [s.paper_id for s in saved])}
    if format == "bibtex":
        return "\n".join(bibtex(papers[s.paper_id]) for s in saved if s.paper_id in papers)
    lines = [
        orjson.dumps(
            {
                "id": s.paper_id,
                "title": papers[s.paper_id].title,
                "authors": papers[s.paper_id].authors,
                "tags": list(s.tags),
                "added_at": s.added_at.isoformat(),
            }
        ).decode()
        for s in saved
        if s.paper_id in papers
    ]
    return "".join(f"{line}\n" for line in lines)
