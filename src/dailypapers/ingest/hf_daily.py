"""A Hugging Face `/api/daily_papers` response: papers with their upvotes and submitters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from dailypapers.ingest.arxiv_api import stored_id
from dailypapers.ingest.errors import IngestError
from dailypapers.ingest.records import (
    bounded_int,
    clean_block,
    collapse,
    parse_iso_datetime,
    refuse_nul,
    well_typed,
)
from dailypapers.models import Paper, Submission, attribute_sources

SOURCE = "hf"


def daily_entry(entry: Any) -> tuple[Paper, Submission | None]:
    """One entry of the response list; raise ValueError/KeyError/TypeError when malformed."""
    if not isinstance(entry, dict) or not isinstance(entry.get("paper"), dict):
        raise ValueError("a daily_papers entry must be an object with a 'paper' object")
    data = entry["paper"]
    published = data.get("publishedAt") or entry.get("publishedAt")
    paper = Paper(
        id=stored_id(data["id"]),
        title=collapse(data.get("title") or entry.get("title")),
        abstract=clean_block(data.get("summary") or entry.get("summary")),
        authors=[author["name"] for author in data.get("authors") or []],
        published=parse_iso_datetime(published).date() if published else None,
        github_repo=data.get("githubRepo") or None,
        project_page=data.get("projectPage") or None,
    )
    submitted_at = data.get("submittedOnDailyAt")
    submitter = data.get("submittedOnDailyBy") or entry.get("submittedBy") or {}
    submission = (
        Submission(
            paper_id=paper.id,
            submitted_at=parse_iso_datetime(submitted_at),
            submitted_by=submitter.get("name") or submitter.get("user"),
            upvotes=bounded_int(data.get("upvotes") or 0, "upvotes"),
            source=SOURCE,
        )
        if submitted_at
        else None
    )
    return attribute_sources(paper, SOURCE), submission


Records = tuple[list[tuple[Paper, Submission | None]], list[str]]


def read_daily_papers(path: Path) -> Records:
    """The entries of a saved response, and why each malformed one was skipped; a malformed
    file fails naming where."""
    return parse_daily_papers(path.read_bytes(), str(path))


def parse_daily_papers(data: bytes, described: str) -> Records:
    """The entries of a response (`described` names it in errors) and why each malformed
    one was skipped."""
    try:
        entries = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise IngestError(
            f"{described}: malformed JSON at line {error.lineno}: {error.msg}"
        ) from None
    if not isinstance(entries, list):
        raise IngestError(f"{described}: expected a JSON list of daily papers")
    records, skips = [], []
    for position, entry in enumerate(entries, start=1):
        try:
            records.append(well_typed(*daily_entry(refuse_nul(entry))))
        except (KeyError, TypeError, ValueError, AttributeError) as error:  # as in ingest.bulk
            skips.append(f"{described}: entry {position}: {type(error).__name__}: {error}")
    return records, skips
