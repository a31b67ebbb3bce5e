"""arXiv's bulk metadata snapshot (the Kaggle `arxiv-metadata-oai-snapshot.json`), one record."""

from __future__ import annotations

from typing import Any

from dailypapers.ingest.arxiv_api import stored_id
from dailypapers.ingest.records import (
    bounded_int,
    clean_block,
    collapse,
    parse_rfc2822,
    split_authors,
)
from dailypapers.models import Paper, PaperVersion, Submission, attribute_sources

SOURCE = "snapshot"


def _author_names(record: dict[str, Any]) -> list[str]:
    parsed = record.get("authors_parsed")
    if parsed:
        # [last, first, suffix] -> "first last suffix"
        return [" ".join(filter(None, (first, last, *rest))) for last, first, *rest in parsed]
    return split_authors(record.get("authors") or "")


def paper_from_snapshot(record: Any) -> tuple[Paper, Submission | None]:
    """Raise ValueError/KeyError/TypeError on a record that is not a snapshot paper."""
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        raise ValueError("a snapshot record must be an object with a string 'id'")
    paper_id = stored_id(record["id"])
    versions = [
        PaperVersion(bounded_int(v["version"].lstrip("v"), "version"), parse_rfc2822(v["created"]))
        for v in record.get("versions") or []
    ]
    paper = Paper(
        id=paper_id,
        title=collapse(record.get("title")),
        abstract=clean_block(record.get("abstract")),
        authors=_author_names(record),
        categories=(record.get("categories") or "").split(),
        comments=collapse(record.get("comments")),
        journal_ref=collapse(record.get("journal-ref")),
        doi=collapse(record.get("doi")),
        report_no=collapse(record.get("report-no")),
        license=record.get("license"),
        submitter=collapse(record.get("submitter")),
        published=versions[0].created.date() if versions and versions[0].created else None,
        versions=versions,
    )
    return attribute_sources(paper, SOURCE), None
