"""Our JSON-lines paper format: what `export` writes and `ingest jsonl` reads back, losslessly.

The listings file in shared data is a subset of it: `id, title, abstract, authors,
categories, comment, listed`. The full form adds the fields below when they are known.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from dailypapers.ingest.arxiv_api import stored_id
from dailypapers.ingest.records import bounded_int, parse_iso_datetime
from dailypapers.models import TEXT_FIELDS, Paper, PaperVersion, Submission, attribute_sources

SOURCE = "jsonl"
# Text fields beyond those the listings subset has, written only when known.
OPTIONAL_TEXT = tuple(f for f in TEXT_FIELDS if f not in ("title", "abstract", "comments"))


def paper_to_json(paper: Paper, submission: Submission | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": paper.id,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": paper.authors,
        "categories": paper.categories,
        "comment": paper.comments,
        "listed": [day.isoformat() for day in paper.listed],
    }
    record.update({name: getattr(paper, name) for name in OPTIONAL_TEXT if getattr(paper, name)})
    if paper.published:
        record["published"] = paper.published.isoformat()
    if paper.versions:
        record["versions"] = [
            {"version": v.number, "created": v.created.isoformat() if v.created else None}
            for v in paper.versions
        ]
    if paper.sources:
        record["sources"] = paper.sources
    if submission:
        record["submission"] = {
            "submitted_at": submission.submitted_at.isoformat(),
            "submitted_by": submission.submitted_by,
            "upvotes": submission.upvotes,
            "source": submission.source,
        }
    return record


def _text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"field {key!r} must be a string")
    return value


def _strings(record: dict[str, Any], key: str) -> list[str]:
    value = record.get(key) or []
    if type(value) is not list:
        raise ValueError(f"field {key!r} must be a list of strings")
    "".join(value)  # TypeError unless every item is a string; far faster than all(isinstance)
    return value


def paper_from_json(record: Any) -> tuple[Paper, Submission | None]:
    """Raise ValueError/KeyError/TypeError on a record that is not a paper."""
    if not isinstance(record, dict):
        raise ValueError("a record must be a JSON object")
    paper_id = _text(record, "id")
    if not paper_id:
        raise ValueError("missing 'id'")
    stored_id(paper_id)
    published = record.get("published")
    paper = Paper(
        id=paper_id,
        title=_text(record, "title"),
        abstract=_text(record, "abstract"),
        authors=_strings(record, "authors"),
        categories=_strings(record, "categories"),
        comments=_text(record, "comment"),
        published=date.fromisoformat(published) if published else None,
        versions=[
            PaperVersion(
                bounded_int(v["version"], "version"),
                parse_iso_datetime(v["created"]) if v["created"] else None,
            )
            for v in record.get("versions") or []
        ],
        listed=sorted(date.fromisoformat(day) for day in _strings(record, "listed")),
        sources=dict(record.get("sources") or {}),
        **{name: _text(record, name) for name in OPTIONAL_TEXT},
    )
    return attribute_sources(paper, SOURCE), _submission(paper_id, record.get("submission"))


def _submission(paper_id: str, data: dict[str, Any] | None) -> Submission | None:
    if not data:
        return None
    return Submission(
        paper_id=paper_id,
        submitted_at=parse_iso_datetime(data["submitted_at"]),
        submitted_by=data.get("submitted_by"),
        upvotes=bounded_int(data.get("upvotes") or 0, "upvotes"),
        source=data.get("source") or SOURCE,
    )
